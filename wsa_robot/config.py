"""The typed run configuration: configs/default.yaml, then `key=value` overrides checked against the schema."""

from __future__ import annotations

# Imports inside functions: tasks and run_files, read only when a config names a task or a run dir is read.

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wsa_robot.core.algo_facts import ALGO_FACTS
from wsa_robot.core.errors import UserError
from wsa_robot.core.merging import merged
from wsa_robot.core.resources import data_dir
from wsa_robot.encoders.bank import AUTO_PRECISION, PRECISIONS
from wsa_robot.encoders.ort_runtime import RUNTIMES
from wsa_robot.encoders.preprocess import MODES as PREPROCESS_MODES
from wsa_robot.envs.backends import BACKENDS
from wsa_robot.envs.robosuite.gripper import GRIPPER_MODES
from wsa_robot.fusion.names import AUGMENTATIONS, FUSIONS, SCORERS

# what `controller` may name: every backend's arm controllers (envs/backends/), osc_pose first (the default)
CONTROLLERS = tuple(dict.fromkeys(c for backend in BACKENDS.values() for c in backend.controllers))


# Every number a library takes is bounded here, so a bad one is one line before any work starts, not a crash in
# an env subprocess after the run dir exists. Counts stop at 2**31 - 1 (torch and numpy index with int32/int64).
INT_MAX = 2**31 - 1
Count = Annotated[int, Field(ge=1, le=INT_MAX)]        # n_envs=0 fails here, in one line, not deep inside SB3
NonNegative = Annotated[int, Field(ge=0, le=INT_MAX)]  # 0 where it means "off" or "as chosen" (eval_every, ...)
# numpy seeds an env with seed + stream offset + env index (seeds.py): all below 2**32
Seed = Annotated[int, Field(ge=0, le=2**32 - 1 - 100_000)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]  # tau, gamma, gae_lambda
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RenderConfig(_Strict):
    shadows: bool
    reflections: bool
    multisample: bool
    # geom group 0 (robosuite's collision meshes) drawn over the visual ones; the shipped encoders saw them
    collision_geoms: bool = True


class SACConfig(_Strict):
    learning_rate: Positive
    buffer_size: Count
    batch_size: Count
    learning_starts: NonNegative
    tau: Fraction
    gamma: Fraction
    train_freq: Count
    gradient_steps: Annotated[int, Field(ge=-1, le=INT_MAX)]  # -1: as many as env steps since the last (SB3)
    ent_coef: Union[Positive, Annotated[str, Field(pattern=r"^auto(_\d+(\.\d*)?(e-?\d+)?)?$")]]  # auto, auto_0.1
    target_entropy: Union[Finite, Literal["auto"]] = "auto"  # auto: -dim(action), SB3's default
    n_steps: Count = 1  # n-step returns (agents/nstep.py); not with HER
    net_arch: list[Count]
    critic_layer_norm: bool = False  # LayerNorm in the critic's hidden layers (agents/sac_policy.py)
    noise_beta: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0  # exploration noise colour: 0 white, 1 pink (agents/colored_noise.py)
    # first steps played by the task's scripted PRIVILEGED controller (envs/robosuite/experts.py)
    expert_steps: NonNegative = 0
    overlap: bool = True  # update while the env subprocess renders the next step (agents/overlap.py)
    # the features the critic scores the actor's actions on: fresh (SB3: extracted again after the critic's step)
    # | reused (DrQ-v2: those the actor chose them from); agents/sac_update.py
    actor_features: Literal["fresh", "reused"] = "fresh"
    demo_fraction: Fraction = 0.5  # of every batch drawn from the demonstrations (`demos`; RLPD: half)
    # weight of the Q-filtered behaviour-cloning term on the batch's demo samples (Nair et al. 2018), in units of
    # the batch's mean |Q| (TD3+BC's scale); 0: off (agents/sac_update.py)
    demo_bc: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0


class PPOConfig(_Strict):
    learning_rate: Positive
    n_steps: Count
    batch_size: Count
    n_epochs: Count
    gamma: Fraction
    gae_lambda: Unit
    clip_range: Positive
    ent_coef: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    vf_coef: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    max_grad_norm: Positive
    net_arch: list[Count]
    linear_decay: bool = False  # learning_rate and clip_range fall linearly to 0 over the run (Atari reference)


class RunConfig(_Strict):
    task: str
    algo: Literal[tuple(ALGO_FACTS)]  # core/algo_facts.py
    fusion: Literal[FUSIONS]  # fusion/names.py
    encoders: list[str]
    removed_tokens: list[str] = []  # tokens masked out of a running run (`train --resume RUN --remove-encoder`)
    weights_dir: str | None = None  # zoo weights folder; None: $WSA_WEIGHTS_DIR, then the model caches
    # zoo encoders' resize/crop: the models' authors' recipe, or the whole frame stretched (encoders/preprocess.py)
    zoo_preprocess: Literal[PREPROCESS_MODES] = "authors"
    # frozen encoders' compute (autocast); auto: bf16 on a CPU with AMX, else fp32 (encoders/bank.py)
    encoder_precision: Literal[(*PRECISIONS, AUTO_PRECISION)] = "fp32"
    encoder_compile: bool = False  # torch.compile each frozen encoder (GPU)
    encoder_runtime: Literal[RUNTIMES] = "torch"  # what runs the frozen encoders (onnx: CPU, onnxruntime)
    cameras: list[str] | None
    image_size: Count
    proprio: Literal["token", "context", "both", "none"]
    context: str
    fusion_dim: Count
    wsa_scorer: Literal[SCORERS]
    wsa_scorer_hidden: Count | None = None  # the additive scorer's hidden width; None: fusion_dim
    lin_context: bool = False  # fusion=lin concatenates the context too (the reference's LIN: tokens only)
    # fusion=e2e trains on pixels shifted by up to 4 px (DrQ) and/or colour-jittered (RAD); fusion/augment.py
    e2e_augment: list[Literal[AUGMENTATIONS]] = []
    seed: Seed
    total_steps: NonNegative
    n_envs: Count
    vec_env: Literal["auto", "dummy", "subproc"] = "auto"  # auto: one subprocess per env when n_envs > 1
    device: str
    torch_threads: NonNegative
    run_dir: str | None
    horizon: Count | None
    control_freq: Count | None = None  # robosuite's control rate in Hz; None: the task's
    gripper: Literal[GRIPPER_MODES] = "incremental"  # envs/robosuite/gripper.py
    reward_shaping: bool | None
    reward_scale: Positive = 1.0  # the training envs' reward times this; evals unscaled
    controller: Literal[CONTROLLERS] = "osc_pose"  # robosuite arm: 6-d pose or 3-d position deltas
    # domain randomisation: every training episode under one of these visual variations (or intact), drawn anew
    # (envs/visual_mix.py); [all]: every kind the task has, less train_hold_out. Evaluations stay intact.
    train_variations: list[str] = []
    train_hold_out: str | None = None  # a kind left out of train_variations, so a test on it is of generalisation
    checkpoint_every: NonNegative
    checkpoint_minutes: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 15.0  # also save when this much wall time passed; 0: off
    eval_every: NonNegative
    eval_episodes: Count
    demos: str | None = None  # demonstrations: a robomimic HDF5 file, or `scripted` (recorded into the run dir)
    demos_n: NonNegative = 0  # how many of them (the file's first); 0: all
    # a share of training episodes started from states along the demos, moved back as the agent succeeds
    # (reverse curriculum, demos/starts.py); 0: off. robosuite only.
    demo_starts: Unit = 0.0
    faults: list[str] = []  # camera fault specs (wsa_robot/envs/faults.py) for the training and eval envs
    mask_faults: bool = True  # a camera's tokens get token_mask 0 while its frame is dropped or stale
    render: RenderConfig
    sac: SACConfig
    ppo: PPOConfig

    @field_validator("encoders", "removed_tokens", "cameras")
    @classmethod
    def _unique(cls, names: list[str] | None) -> list[str] | None:
        """A name given twice would give the same tokens twice (and twice the weight in a fusion)."""
        twice = sorted({n for n in names or [] if (names or []).count(n) > 1})
        if twice:
            raise ValueError(f"{', '.join(map(str, twice))} given more than once; name each once")
        return names


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted key the schema accepts, e.g. `sac.batch_size`."""
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _keys(ann, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def _parse_value(key: str, raw: str) -> Any:
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
        lists = ("encoders", "removed_tokens", "cameras", "sac.net_arch", "ppo.net_arch", "train_variations")
        if key in lists and isinstance(value, (str, int)):
            value = [yaml.safe_load(v) for v in str(raw).split(",") if v]
    except yaml.YAMLError as e:  # an unclosed bracket or quote, a tag (!!python/...): YAML's own words, one line
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise UserError(f"{key}={raw!r} is not a YAML value ({problem}); quote a string, close brackets, "
                        "and write lists as [a, b]") from None
    if key == "faults":  # specs hold commas (key=value,key=value): `;` separates them, or a YAML list
        return [v.strip() for v in raw.split(";") if v.strip()] if not isinstance(value, list) else value
    return value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b=value` strings; unknown keys and malformed items raise UserError naming the fix."""
    valid = _keys(RunConfig)
    for item in overrides:
        if "=" not in item or item.startswith("="):
            raise UserError(f"malformed override {item!r}; write key=value, e.g. seed=3 or sac.batch_size=128")
        key, raw = item.split("=", 1)
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else "; run `wsa-robot train --help` for keys"
            raise UserError(f"unknown config key {key!r}{hint}")
        node = data
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = _parse_value(key, raw)
    return data


def validate(data: dict[str, Any]) -> RunConfig:
    try:
        return RunConfig(**data)
    except ValidationError as e:
        err = e.errors()[0]
        # pydantic names the member of a union it tried ("constrained-float"): the key is what a user wrote
        where = ".".join(str(p) for p in err["loc"] if isinstance(p, int) or p.isidentifier())
        if err["type"] == "missing":
            raise UserError(f"config key {where} is missing; add it (see configs/default.yaml)") from None
        raise UserError(f"bad value for {where}: {err['msg']} (got {err.get('input')!r})") from None


def _defaults() -> dict[str, Any]:
    return yaml.safe_load((data_dir("configs") / "default.yaml").read_text())


def load_config(overrides: list[str] | None = None, base: Path | None = None) -> RunConfig:
    """Defaults, then the task's own defaults (its YAML's `config:`, e.g. PPO with 8 envs for Atari),
    then the user's `key=value` overrides, which always win."""
    from wsa_robot.envs.tasks import load_task

    data = yaml.safe_load(base.read_text()) if base else _defaults()
    named = apply_overrides({}, overrides or [])  # what the user set, alone
    task = named.get("task", data["task"])
    if not isinstance(task, str):
        raise UserError(f"task={task!r} is not a task name; write e.g. task=Lift (`wsa-robot tasks` lists them)")
    task_config = load_task(task).config
    algo = named.get("algo", task_config.get("algo", data["algo"]))
    own_demos = "demos" in named and named["demos"] != "scripted"  # a file of the user's, or null: none
    data = merged(data, task_defaults(task_config, algo, own_demos))
    return validate(apply_overrides(data, overrides or []))


DEMO_KEYS = ("demos", "demos_n", "demo_starts")


def task_defaults(task_config: dict[str, Any], algo: Any, own_demos: bool) -> dict[str, Any]:
    """A task's defaults as they apply to this run. Its demonstrations (tasks/Lift.yaml: its controller's
    recording, their count, the curriculum along them) are one choice, left out together where they cannot
    apply: for an on-policy learner (PPO), which has no replay buffer to keep them in, and where the user says
    `demos=FILE` (the count and states are the file's) or `demos=null`. A user who names demos with PPO is
    refused in one line (demos/source.py)."""
    if own_demos or not (algo in ALGO_FACTS and ALGO_FACTS[algo].off_policy):
        return {k: v for k, v in task_config.items() if k not in DEMO_KEYS}
    return task_config


def dump_config(cfg: RunConfig) -> str:
    return yaml.safe_dump(cfg.model_dump(), sort_keys=False)


# What a run saved before a key existed was trained with, where today's default differs; by fusion ("*": all),
# so a run whose fusion never read the key gets today's default (and a sweep resuming it sees no change).
TRAINED_BEFORE_THE_KEY: dict[str, dict[str, Any]] = {
    "*": {"zoo_preprocess": "stretch"},  # every fusion: zoo encoders' input was the whole frame, resized
    "wsa": {"wsa_scorer": "linear"},  # the default until additive attention (context-blind, fusion/attention.py)
    "lin": {"lin_context": True},     # LIN concatenated the context until `lin_context` existed
}


def read_run_config(path: Path) -> RunConfig:
    """A run's saved config. A key added to the schema since the run started takes the value the run was
    trained with (TRAINED_BEFORE_THE_KEY), else its default, so old runs load, evaluate and resume as trained.
    A file that is no YAML mapping or holds a bad value is a UserError naming the file."""
    from wsa_robot.core.run_files import broken, read_yaml_mapping

    data = read_yaml_mapping(path)
    before = {**TRAINED_BEFORE_THE_KEY["*"], **TRAINED_BEFORE_THE_KEY.get(data.get("fusion"), {})}
    try:
        return validate(merged(merged(_defaults(), before), data))
    except UserError as e:
        raise broken(path, str(e), "correct it in that file or restore it from a copy") from None
