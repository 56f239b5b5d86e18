"""The named visual variations a task has, asked of its backend (`Backend.variations`): resolve a spec
(`NAME` or `NAME:SEED`, envs/variations.py), file it under its canonical name, expand `all`.

Env modules never import this (it imports the backend registry, which makes the envs); an env resolves names
against its own backend's list with `variations.pick`."""

from __future__ import annotations

from wsa_robot.envs.backends import BACKENDS, backend_for
from wsa_robot.envs.variations import INTACT, Variation, filed_name, pick
from wsa_robot.core.errors import UserError
from wsa_robot.core.task_spec import TaskSpec


def variations_for(task: TaskSpec) -> dict[str, Variation]:
    """The variations of a task, in the order `--variations all` runs them; empty when its backend has none."""
    return backend_for(task).variations(task)


def _known(task: TaskSpec) -> dict[str, Variation]:
    known = variations_for(task)
    if not known:
        robots = ", ".join(BACKENDS["robosuite"].variations(task))
        raise UserError(f"task {task.name} ({task.backend}) has no visual variations yet; the robot variations "
                        f"(robosuite tasks) are: {robots}")
    return known


def resolve(task: TaskSpec, spec: str | None) -> tuple[Variation, int] | None:
    """The variation and seed a spec names for `task`, None for the intact scene; a UserError otherwise."""
    return pick(spec, lambda: _known(task))


def canonical(task: TaskSpec, spec: str | None) -> str:
    """`intact`, `NAME` (seed 0 or not seeded) or `NAME:SEED`: the name a result is filed under."""
    return filed_name(resolve(task, spec))


def expand(task: TaskSpec, spec: str) -> list[str]:
    """`all` or a comma list of specs -> the specs to evaluate, `intact` first, each once, all checked."""
    known = _known(task)
    if spec.strip() == "all":
        wanted = [n for n, v in known.items() if v.in_all]
    else:
        wanted = [s.strip() for s in spec.split(",") if s.strip()]
    if not wanted:
        raise UserError("--variations needs 'all' or a comma list of names, e.g. table_color,lighting_dim")
    out = [INTACT]
    for s in wanted:
        name = canonical(task, s)  # raises the UserError for an unknown name
        if name not in out:
            out.append(name)
    return out
