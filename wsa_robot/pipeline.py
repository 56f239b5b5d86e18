"""Builds the observation pipeline of a run: backend envs -> encoder bank -> embedding observations."""

from __future__ import annotations

# Imports inside functions: envs.gl and envs.task_variations load mujoco, which the pipeline needs only when an env is made.

import signal
from dataclasses import dataclass, field

from stable_baselines3.common.env_util import is_wrapped
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from wsa_robot.algos import check_replay
from wsa_robot.config import RunConfig
from wsa_robot.device import resolve_device
from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.encoders.registry import build_encoder, registry
from wsa_robot.encoders.state import image_encoders
from wsa_robot.encoders.vec_env import EmbeddingVecEnv
from wsa_robot.envs import check_options, make_env, supports_depth
from wsa_robot.envs.faults import Fault, FaultWrapper, parse_faults
from wsa_robot.envs.goal import GoalRewardVecEnv
from wsa_robot.envs.reward import ScaledReward
from wsa_robot.errors import UserError
from wsa_robot.fusion import pixel_based
from wsa_robot.keys import ACHIEVED_GOAL, DESIRED_GOAL, PROPRIO, STATE, split_token, token_key
from wsa_robot.task_spec import TaskSpec
from wsa_robot.tasks import check_cameras, load_task
from wsa_robot.tokens import check_removed, context_key, goal_tokens, run_tokens


@dataclass
class Pipeline:
    """What fusion needs to know about the observation: which keys are tokens and which is the context."""
    task: TaskSpec
    cameras: list[str]
    token_keys: list[str]
    context_key: str | None
    bank: EncoderBank | None
    removed_tokens: list[str] = field(default_factory=list)  # zeros with token_mask 0 (`--remove-encoder`)
    idle_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # removed tokens the bank no longer runs

    @property
    def state(self) -> bool:
        """Whether the envs give the privileged object state (the `state` token, encoders=state)."""
        return STATE in self.token_keys

    @property
    def vector_keys(self) -> list[str]:
        """Raw vectors the embedded observation keeps: proprio, the oracle's state, and for goal tasks the goals
        HER relabels."""
        return [PROPRIO] + ([STATE] if self.state else []) + \
            ([ACHIEVED_GOAL, DESIRED_GOAL] if self.task.goal else [])


def plan(cfg: RunConfig, device: str | None = None) -> Pipeline:
    """Validate task, cameras, encoders and context, and load the frozen encoders once, on `device`
    (default: the run's device, so the encoders sit on the GPU whenever the learner does)."""
    device = device or resolve_device(cfg.device)
    task = load_task(cfg.task)
    cameras = check_cameras(task, cfg.cameras or task.cameras)
    if not needs_cameras(cfg):
        cameras = []  # the state oracle alone: the envs render nothing (rendering is most of a step's cost)
    parse_faults(cfg.faults, cameras)  # a bad fault spec fails before any encoder loads or env starts
    check_options(task, cfg.reward_shaping, state=not pixel_based(cfg.fusion) and STATE in cfg.encoders,
                  controller=cfg.controller, reward_scale=cfg.reward_scale)
    check_replay(cfg, task.goal)
    if pixel_based(cfg.fusion):
        if cfg.removed_tokens:
            raise UserError("fusion=e2e learns from pixels and has no encoder tokens to remove; "
                            "drop removed_tokens or choose another fusion")
        tokens = cameras + ([PROPRIO] if cfg.proprio != "none" else []) + goal_tokens(task.name)
        return Pipeline(task, cameras, tokens, None, None)
    tokens, context = run_tokens(cfg, cameras), context_key(cfg)
    removed = check_removed(cfg.removed_tokens, tokens, context)
    images = image_encoders(cfg.encoders)
    active = [n for n in images if any(token_key(n, c) not in removed for c in cameras)]
    active += context_only_encoder(context, cfg.encoders)
    encoders = [build_encoder(name, weights_dir=cfg.weights_dir, zoo_preprocess=cfg.zoo_preprocess)
                for name in active]
    idle = idle_shapes([n for n in images if n not in active], cameras, cfg.weights_dir)
    depth = [e.name for e in encoders if e.modality == "depth"]
    if depth and not supports_depth(task):
        raise UserError(f"encoder {depth[0]} needs depth images, which task {task.name} does not have; "
                        "choose another (see `wsa-robot encoders`)")
    bank = EncoderBank(encoders, cameras, device=device, precision=cfg.encoder_precision,
                       compile=cfg.encoder_compile)
    contexts = list(bank.token_shapes) + [PROPRIO] + [t for t in tokens if t == STATE] + goal_tokens(task.name)
    if context not in contexts:
        raise UserError(f"context {context!r} is not a token of this run; use one of: {', '.join(contexts)}")
    return Pipeline(task, cameras, tokens, context, bank, removed, idle)


def needs_cameras(cfg: RunConfig) -> bool:
    """Whether a run's envs render cameras: not when its only encoder is the state oracle (its context is then
    proprio or state, tokens.context_key)."""
    return pixel_based(cfg.fusion) or bool(image_encoders(cfg.encoders)) or \
        bool(context_only_encoder(context_key(cfg), cfg.encoders))


def context_only_encoder(context: str, encoders: list[str]) -> list[str]:
    """`[NAME]` when the context is `NAME@camera` of an encoder that is not a token (the reference's context: a
    conv autoencoder the fusion reads but never weighs); the bank runs it beside the token encoders."""
    split = split_token(context)
    return [split[0]] if split and split[0] and split[0] not in encoders else []


def idle_shapes(names: list[str], cameras: list[str], weights_dir: str | None) -> dict[str, tuple[int, ...]]:
    """Token shapes of encoders whose every token is removed, from the registry: no model is built or run."""
    if not names:
        return {}
    entries = registry(weights_dir=weights_dir)
    for name in names:
        if name not in entries:
            build_encoder(name, weights_dir=weights_dir)  # raises the usual UserError naming the choices
    return {token_key(n, c): tuple(entries[n].output_shape) for n in names for c in cameras}


def _env_thunk(task: TaskSpec, cameras: list[str], cfg: RunConfig, seed: int, depth: bool,
               video_size: int | None, training: bool, faults: list[Fault] | None = None,
               report_valid: bool = True, variation: str | None = None, worker: bool = False,
               state: bool = False):
    def make():
        if worker:  # Ctrl-C reaches the whole process group: the main process checkpoints, then closes its workers
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        env = make_env(task, cameras, cfg.image_size, depth=depth, seed=seed, horizon=cfg.horizon,
                       reward_shaping=cfg.reward_shaping, quality=cfg.render.model_dump(),
                       video_size=video_size, training=training, variation=variation, state=state,
                       controller=cfg.controller)
        if training and cfg.reward_scale != 1.0:  # eval envs report the task's own returns, comparable across runs
            env = ScaledReward(env, cfg.reward_scale)
        if faults:
            env = FaultWrapper(env, faults, seed=seed, cameras=cameras, report_valid=report_valid)
        # a backend may monitor its env itself, under wrappers that change episodes (Atari's lives)
        return env if is_wrapped(env, Monitor) else Monitor(env)
    return make


def env_subprocesses(vec_env: str, n_envs: int) -> int:
    """How many subprocesses `make_vec_env` starts for n_envs envs (0: they step in this process)."""
    return n_envs if use_subprocesses(vec_env, n_envs) else 0


def use_subprocesses(vec_env: str, n_envs: int) -> bool:
    """`auto`: one subprocess per env when there are several (robosuite renders: ~30 steps/s per process).

    Cheap envs lose from it on a small machine: 8 Pong envs with random actions on 2 busy cores (load 7-9),
    3 alternating rounds of 3 s: one process (dummy) 766/1004/873 agent steps/s, 8 subprocesses 709/625/624,
    and the subprocesses took 26-31 s to start against 2.5 s. An ALE step costs less than the pickling and
    context switches around it, so the Atari tasks set `vec_env: dummy`."""
    return vec_env == "subproc" or (vec_env == "auto" and n_envs > 1)


def make_vec_env(cfg: RunConfig, pipe: Pipeline, n_envs: int, seed: int, video_size: int | None = None,
                 training: bool = False, faults: list[str] | None = None,
                 mask_faults: bool | None = None, variation: str | None = None) -> VecEnv:
    """n_envs backend envs (subprocesses per `cfg.vec_env`), wrapped to emit embeddings unless E2E.
    `video_size`: each env can also render full-quality video frames (`env_method("video_frames")`).
    `training`: envs the agent learns from (Atari: episodic life, clipped rewards); eval envs report real returns.
    `faults`: camera fault specs (None: `cfg.faults`); `mask_faults` (None: `cfg.mask_faults`): the tokens of a
    camera whose frame is dropped or stale get token_mask 0. E2E sees only the corrupted pixels.
    `variation`: a named visual variation (`NAME` or `NAME:SEED`, envs/variations.py) for every env; None: intact.
    The GL backend is chosen first (envs/gl.py): the next import loads mujoco, and the env subprocesses inherit it."""
    from wsa_robot.envs.gl import choose_gl_backend

    choose_gl_backend()
    from wsa_robot.envs.task_variations import resolve

    resolve(pipe.task, variation)  # a bad name fails here, in this process, not inside a subprocess env
    depth = pipe.bank is not None and pipe.bank.needs_depth  # depth comes from the same render pass as RGB
    parsed = parse_faults(cfg.faults if faults is None else faults, pipe.cameras)
    mask_faults = cfg.mask_faults if mask_faults is None else mask_faults
    workers = use_subprocesses(cfg.vec_env, n_envs)
    thunks = [_env_thunk(pipe.task, pipe.cameras, cfg, seed + i, depth, video_size, training, parsed,
                         report_valid=pipe.bank is not None, variation=variation, worker=workers,
                         state=pipe.state)
              for i in range(n_envs)]
    venv: VecEnv = SubprocVecEnv(thunks) if workers else DummyVecEnv(thunks)
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
