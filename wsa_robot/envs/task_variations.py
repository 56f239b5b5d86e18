"""The named visual variations a task has, asked of its backend (`Backend.variations`): resolve a spec
(`NAME` or `NAME:SEED`, envs/variations.py), file it under its canonical name, expand `all`, make a checked
mix of them for every episode (`visual_mix`).

Env modules never import this (it imports the backend registry, which makes the envs); an env resolves names
against its own backend's list with `variations.pick`."""

from __future__ import annotations

from wsa_robot.envs.backends import BACKENDS, backend_for
from wsa_robot.envs.variations import INTACT, Variation, filed_name, pick
from wsa_robot.envs.visual_mix import VisualMix
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


def visual_mix(task: TaskSpec, vary: list[str] | None, hold_out: str | None,
               names: tuple[str, str] = ("--vary", "--hold-out")) -> VisualMix | None:
    """The kinds of `vary` (["all"]: the task's every variation) less `hold_out`, checked by name; every mistake
    is a UserError naming the option (`names`: how the caller's user spells the two)."""
    vary_name, hold_name = names
    if not vary:
        if hold_out:
            every = f"{vary_name} all" if vary_name.startswith("-") else f"{vary_name}=[all]"
            raise UserError(f"{hold_name} {hold_out} leaves a variation out of {vary_name}, which is not given; "
                            f"add {every}")
        return None
    variations = variations_for(task)
    known = list(variations)
    if not known or not backend_for(task).variations_in_place:
        raise UserError(f"task {task.name} ({task.backend}) has no visual variations that change from episode "
                        f"to episode; drop {vary_name}")
    kinds = known if list(vary) == ["all"] else list(vary)
    for kind in kinds + ([hold_out] if hold_out else []):
        if kind not in known:
            raise UserError(f"unknown variation {kind!r} for {task.name} in {vary_name}/{hold_name}; "
                            f"choose from: all, {', '.join(known)}")
    kinds = [k for k in kinds if k != hold_out]
    if not kinds:
        raise UserError(f"{vary_name} leaves no variation once {hold_name} is taken out; name more kinds")
    return VisualMix(tuple(kinds), hold_out, tuple(k for k in kinds if not variations[k].seeded))
