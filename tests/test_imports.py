"""The package's import graph has no cycles.

Every `import` / `from ... import` in wsa_robot counts, at module level and inside functions alike: an import
hidden in a function still ties the two modules together, it only postpones the failure to the first call.
"""

from __future__ import annotations

import ast
from pathlib import Path

import wsa_robot

ROOT = Path(wsa_robot.__file__).parent
PACKAGE = "wsa_robot"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name: str, modules: set[str]) -> str | None:
    """The package module `name` refers to (a name imported from a module resolves to the module)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """module -> the wsa_robot modules it imports (anywhere in its body)."""
    files = {_module_name(p): p for p in ROOT.rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the package that holds `mod`
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                names = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] != PACKAGE:
                    continue
                # `from a.b import c` imports a.b (and c when c is a submodule); a parent package's own
                # __init__ is a different node, listed only when it is the target itself.
                target = name if name in modules else _resolve(name, modules) if name == names[0] else None
                if target and target != mod:
                    graph[mod].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan), as a readable path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(comp, graph) for comp in components]


def _cycle_in(comp: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first), closed on itself."""
    start, members = comp[0], set(comp)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [start] + path[::-1][1:] + [start] if len(path) > 1 else [start, v, start]
                if w not in parents:
                    parents[w] = v
                    nxt.append(w)
        frontier = nxt
    return comp


def layer_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same imports between layers: a subpackage (wsa_robot.encoders, .pretrain, ...) or a top-level module
    is one node. A cycle here (encoders -> pretrain -> encoders) ties two layers together even when no two
    modules import each other."""
    def layer(m: str) -> str:
        return ".".join(m.split(".")[:2])

    out: dict[str, set[str]] = {}
    for mod, targets in graph.items():
        out.setdefault(layer(mod), set()).update(layer(t) for t in targets if layer(t) != layer(mod))
    return out


# Imports that close a cycle another piece of work owns, each with the reason. The test leaves these edges out
# and fails on any other cycle, and fails too when one of them no longer closes a cycle, so the entry goes.
KNOWN_EDGES: set[tuple[str, str]] = set()


def _without(graph: dict[str, set[str]], edges: set[tuple[str, str]]) -> dict[str, set[str]]:
    return {m: {t for t in targets if (m, t) not in edges} for m, targets in graph.items()}


def test_the_graph_sees_function_level_and_relative_imports():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []
    real = import_graph()
    assert "wsa_robot.run.train" in real["wsa_robot.cli.commands"]  # imported inside a function of cli.py
    assert "wsa_robot.core.keys" in real["wsa_robot.encoders.bank"]  # at module level
    layers = layer_graph({"wsa_robot.a.x": {"wsa_robot.b.y"}, "wsa_robot.b.z": {"wsa_robot.a.w"},
                          "wsa_robot.a.w": set(), "wsa_robot.b.y": set()})
    assert find_cycles(layers) == [["wsa_robot.a", "wsa_robot.b", "wsa_robot.a"]]


def test_no_import_cycles_between_modules():
    graph = import_graph()
    cycles = find_cycles(_without(graph, KNOWN_EDGES))
    assert not cycles, "import cycles in wsa_robot:\n" + "\n".join(" -> ".join(c) for c in cycles)
    for edge in KNOWN_EDGES:
        assert find_cycles(_without(graph, KNOWN_EDGES - {edge})), f"{edge} closes no cycle now: drop it"


def test_no_import_cycles_between_layers():
    cycles = find_cycles(layer_graph(import_graph()))
    assert not cycles, "import cycles between wsa_robot's layers:\n" + "\n".join(" -> ".join(c) for c in cycles)


# cli.py is the entry point, where a process-wide choice belongs; it is being changed by another engineer
ENTRY_POINTS = {"wsa_robot.cli.commands"}


def _module_level_calls(path: Path) -> list[str]:
    """Dotted names of the calls made at module level (not inside a function or class body)."""
    names = []
    for stmt in ast.parse(path.read_text()).body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                names.append(ast.unparse(node.func))
    return names


def test_import_makes_no_console_and_chooses_no_matplotlib_backend():
    """A module-level Console or matplotlib.use changes the whole process for anyone who imports the module;
    they are made where they are used (wsa_robot.core.console.console(), eval.plots.pyplot())."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        if _module_name(path) in ENTRY_POINTS or path.relative_to(ROOT).parts[0] == "envs":  # issue 18, other engineer
            continue
        calls = _module_level_calls(path)
        offenders += [f"{_module_name(path)}: {c}()" for c in calls if c in ("Console", "matplotlib.use")]
    assert not offenders, "\n".join(offenders)


def _function_level_imports(tree: ast.AST) -> int:
    return sum(isinstance(sub, (ast.Import, ast.ImportFrom))
               for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
               for sub in ast.walk(node))


def test_every_module_with_imports_inside_functions_says_why():
    """Imports hide in functions only to keep a start fast (the CLI, a simulator loaded when an env is made);
    each such module says so once, in a comment or its docstring ("Imports inside functions: ...")."""
    silent = [str(p.relative_to(ROOT)) for p in sorted(ROOT.rglob("*.py"))
              if _function_level_imports(ast.parse(p.read_text())) and "imports inside functions" not in p.read_text().lower()]
    assert not silent, f"modules importing inside functions without saying why: {silent}"
