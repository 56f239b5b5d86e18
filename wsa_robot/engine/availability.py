"""Whether the runs of a sweep or plan can start here: each config resolved as `wsa-robot train` resolves it
(spec.resolve), and the encoders they name registered with their weights present, or the one line that says how
to get each one that is not. The run layer's check, so the drivers of many runs never reach into the encoder
registry, its weights or the pretraining skills themselves."""

from __future__ import annotations

# Imports inside functions: torch and the encoder registry, when a check runs.

from wsa_robot.config import RunConfig
from wsa_robot.core.errors import UserError


def pretrain_hint(name: str, task: str) -> str | None:
    """The `wsa-robot pretrain` command that registers encoder `name` for `task`, if it is one of ours."""
    from wsa_robot.encoders.transporter import TRANSPORTER_TOKENS
    from wsa_robot.pretrain import asset_key
    from wsa_robot.pretrain.skills import SKILLS

    for skill in SKILLS.values():
        base = skill.encoder if task == "Lift" else asset_key(skill.encoder, task)
        if name in [base + suffix for suffix in (TRANSPORTER_TOKENS if skill.name == "keypoints" else [""])]:
            return f"`wsa-robot pretrain --task {task} --skill {skill.name}`"
    return None


def check_runs(runs: list[tuple[str, RunConfig]], noun: str = "runs") -> None:
    """`runs`: (label, config) pairs, e.g. ("trial 3", cfg). A config mistake is one line naming its run.
    Encoders that are registered but whose weights are absent, and the project's own skills not pretrained
    yet, are gathered over all runs into one line that says how to get each. Hugging Face zoo encoders whose
    weights are absent pass when online (each run fetches them)."""
    from wsa_robot.encoders.registry import UnknownEncoderError, registry
    from wsa_robot.encoders.weights import offline
    from wsa_robot.encoders.zoo import CATALOGUE, HFSpec
    from wsa_robot.run.spec import resolve

    downloadable = {s.name for s in CATALOGUE if isinstance(s, HFSpec)} if not offline() else set()
    missing: dict[str, str] = {}  # encoder -> how to get it
    needing = 0  # runs that need one of them
    registries: dict[tuple, dict] = {}  # (weights_dir, zoo_preprocess) -> registry, made once per folder
    for label, cfg in runs:
        key = (cfg.weights_dir, cfg.zoo_preprocess)
        if key not in registries:
            registries[key] = registry(weights_dir=key[0], zoo_preprocess=key[1])
        try:
            spec = resolve(cfg, registries[key])
        except UnknownEncoderError as e:
            hints = {name: pretrain_hint(name, cfg.task) for name in e.names}
            if any(h is None for h in hints.values()):  # a name no pretraining registers: a typo
                raise UserError(f"{label}: {e}") from None
            missing.update((name, f"pretrain it: {hint}") for name, hint in hints.items())
            needing += 1
            continue
        except UserError as e:
            raise UserError(f"{label}: {e}") from None
        absent = [e.name for e in spec.encoders + spec.idle if not e.weights_present and e.name not in downloadable]
        missing.update((name, "its weights are missing, see `wsa-robot encoders`") for name in absent)
        needing += bool(absent)
    if missing:
        parts = "; ".join(f"{name} ({how})" for name, how in missing.items())
        raise UserError(f"{needing} of {len(runs)} {noun} need encoders that are not available: {parts}")
