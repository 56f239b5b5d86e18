"""The layers know only the ones below them (DESIGN.md): read from every module's imports, those inside
functions included, so a new import across a boundary fails here, not in a review."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "wsa_robot"

# folder (or module) -> packages it must never import
FORBIDDEN = {
    "sweep": ("wsa_robot.encoders", "wsa_robot.pretrain", "wsa_robot.fusion", "wsa_robot.agents"),
    "fusion": ("wsa_robot.envs", "wsa_robot.encoders", "wsa_robot.agents", "robosuite", "ale_py", "mujoco"),
    "envs": ("wsa_robot.encoders", "wsa_robot.fusion", "wsa_robot.agents", "wsa_robot.pretrain"),
    "demos/robomimic_file.py": ("wsa_robot.envs", "wsa_robot.encoders", "wsa_robot.agents", "torch"),
}


# the floor plan, bottom to top (README.md, Repository map): a layer imports only itself and the ones before it
LAYERS = ("core", "envs", "encoders", "fusion", "config", "demos", "agents", "run", "pretrain", "eval", "engine",
          "studies", "sweep", "cli")


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_layer_imports_one_above_it_or_beside_it():
    crossings = []
    for where, banned in FORBIDDEN.items():
        target = PACKAGE / where
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        assert files, where
        for f in files:
            for name in imports(f):
                if any(name == b or name.startswith(b + ".") for b in banned):
                    crossings.append(f"{f.relative_to(PACKAGE)} imports {name}")
    assert not crossings, "\n".join(crossings)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "wsa_robot" and len(parts) > 1 else None


def test_every_layer_imports_only_the_ones_below_it():
    """Every module of the package sits in a layer of LAYERS, and imports none above its own."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = []
    for f in sorted(PACKAGE.rglob("*.py")):
        where = f.relative_to(PACKAGE).parts
        if len(where) == 1 and where[0] == "__init__.py":
            continue
        own = where[0].removesuffix(".py")
        assert own in rank, f"{f.relative_to(PACKAGE)} is in no layer of LAYERS; place it or add its layer"
        for name in imports(f):
            layer = _layer(name)
            if layer is not None and rank.get(layer, -1) > rank[own]:
                upward.append(f"{f.relative_to(PACKAGE)} ({own}) imports {name} ({layer})")
    assert not upward, "\n".join(upward)
