"""Builds the observation pipeline of a run: backend envs -> encoder bank -> embedding observations."""

from __future__ import annotations

# Imports inside functions: envs.gl and envs.task_variations load mujoco, which the pipeline needs only when an env is made.

from dataclasses import dataclass

from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from wsa_robot.config import RunConfig
from wsa_robot.core.device import resolve_device
from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.encoders.vec_env import EmbeddingVecEnv
from wsa_robot.envs import EnvOptions
from wsa_robot.envs.faults import parse_faults
from wsa_robot.envs.goal import GoalRewardVecEnv
from wsa_robot.demos.starts import DemoPath
from wsa_robot.run.env_recipe import EnvRecipe
from wsa_robot.run.env_workers import EnvSubprocesses
from wsa_robot.run.spec import RunSpec, resolve
from wsa_robot.run.training_setup import use_subprocesses
from wsa_robot.core.task_spec import TaskSpec


@dataclass
class Pipeline:
    """A resolved run (spec.py) with its frozen encoders loaded: what the envs and the fusion need to know
    about the observation, which keys are tokens and which is the context. `bank` is None for fusion=e2e."""
    spec: RunSpec
    bank: EncoderBank | None

    @property
    def task(self) -> TaskSpec:
        return self.spec.task

    @property
    def cameras(self) -> list[str]:
        return list(self.spec.cameras)

    @property
    def token_keys(self) -> list[str]:
        return self.spec.token_keys

    @property
    def context_key(self) -> str | None:
        return self.spec.context

    @property
    def removed_tokens(self) -> list[str]:
        """Zeros with token_mask 0 (`--remove-encoder`)."""
        return list(self.spec.removed)

    @property
    def idle_shapes(self) -> dict[str, tuple[int, ...]]:
        """Removed tokens the bank no longer runs."""
        return self.spec.idle_shapes

    @property
    def state(self) -> bool:
        return self.spec.state

    @property
    def vector_keys(self) -> list[str]:
        return self.spec.vector_keys


def plan(spec: RunSpec | RunConfig, device: str | None = None) -> Pipeline:
    """Load the spec's frozen encoders once, on `device` (default: the run's device, so the encoders sit on
    the GPU whenever the learner does). A RunConfig is resolved first (spec.resolve: every check)."""
    spec = spec if isinstance(spec, RunSpec) else resolve(spec)
    cfg = spec.cfg
    device = device or resolve_device(cfg.device)
    if spec.pixel_based:
        return Pipeline(spec, None)
    bank = EncoderBank([entry.build() for entry in spec.encoders], list(spec.cameras), device=device,
                       precision=cfg.encoder_precision, compile=cfg.encoder_compile,
                       runtime=cfg.encoder_runtime)
    return Pipeline(spec, bank)


def make_vec_env(pipe: Pipeline, n_envs: int, seed: int, video_size: int | None = None,
                 training: bool = False, faults: list[str] | None = None,
                 mask_faults: bool | None = None, variation: str | None = None, switchable: bool = False,
                 vec_env: str | None = None, starts: list[DemoPath] | None = None) -> VecEnv:
    """n_envs backend envs of the planned run (subprocesses per its `vec_env`), wrapped to emit embeddings
    unless E2E.
    `video_size`: each env can also render full-quality video frames (`env_method("video_frames")`).
    `training`: envs the agent learns from (Atari: episodic life, clipped rewards); eval envs report real returns.
    `faults`: camera fault specs (None: `cfg.faults`); `mask_faults` (None: `cfg.mask_faults`): the tokens of a
    camera whose frame is dropped or stale get token_mask 0. E2E sees only the corrupted pixels.
    `variation`: a named visual variation (`NAME` or `NAME:SEED`, envs/variations.py) for every env; None: intact.
    `switchable`: every env has a FaultWrapper, also without faults, so `set_faults` can change them in place.
    `vec_env`: dummy, subproc or auto instead of the run's (the training envs': RunSpec.training.vec_env).
    `starts`: the demos' states training episodes may start from (config `demo_starts`, demos/starts.py).
    The GL backend is chosen first (envs/gl.py): the next import loads mujoco, and the env subprocesses inherit it."""
    from wsa_robot.envs.gl import choose_gl_backend

    choose_gl_backend()
    from wsa_robot.envs.task_variations import resolve as resolve_variation

    resolve_variation(pipe.task, variation)  # a bad name fails here, in this process, not inside a subprocess env
    cfg = pipe.spec.cfg
    parsed = list(pipe.spec.faults) if faults is None else parse_faults(faults, pipe.cameras)
    mask_faults = cfg.mask_faults if mask_faults is None else mask_faults
    workers = use_subprocesses(vec_env or cfg.vec_env, n_envs)
    spec = pipe.spec
    recipes = [EnvRecipe(spec.task, spec.cameras, cfg.image_size,
                         EnvOptions.of(spec.env, depth=spec.depth, seed=seed + i, video_size=video_size,
                                       training=training, variation=variation),
                         starts=tuple(starts or ()), demo_starts=cfg.demo_starts, faults=tuple(parsed),
                         switchable=switchable, report_valid=pipe.bank is not None, worker=workers)
               for i in range(n_envs)]
    venv: VecEnv = EnvSubprocesses(recipes) if workers else DummyVecEnv(recipes)
    if pipe.task.goal:  # HER's compute_reward, answered in this process (envs/goal.py)
        venv = GoalRewardVecEnv(venv)
    if pipe.bank is None:
        return venv
    try:
        return EmbeddingVecEnv(venv, pipe.bank, pipe.token_keys, mask_invalid=mask_faults,
                               removed=pipe.removed_tokens, idle_shapes=pipe.idle_shapes,
                               vector_keys=pipe.vector_keys)
    except Exception:
        venv.close()
        raise


def close_envs(venv: VecEnv) -> None:
    """`venv.close()`, also when an env subprocess is already gone (killed with the whole process group, e.g.
    SIGTERM from a scheduler): its closed pipe is no reason to fail a run whose checkpoint is saved."""
    try:
        venv.close()
    except (EOFError, BrokenPipeError, ConnectionResetError):
        for process in getattr(venv.unwrapped, "processes", []):
            process.terminate()
            process.join(timeout=10)
