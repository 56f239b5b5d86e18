"""Builds the observation pipeline of a run: backend envs -> encoder bank -> embedding observations."""

from __future__ import annotations

from dataclasses import dataclass

from stable_baselines3.common.env_util import is_wrapped
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from wsa_robot.config import RunConfig
from wsa_robot.device import resolve_device
from wsa_robot.encoders.bank import EncoderBank, token_key
from wsa_robot.encoders.registry import build_encoder
from wsa_robot.encoders.vec_env import EmbeddingVecEnv
from wsa_robot.errors import UserError
from wsa_robot.tasks import TaskSpec, check_cameras, load_task


@dataclass
class Pipeline:
    """What fusion needs to know about the observation: which keys are tokens and which is the context."""
    task: TaskSpec
    cameras: list[str]
    token_keys: list[str]
    context_key: str | None
    bank: EncoderBank | None


def plan(cfg: RunConfig, device: str | None = None) -> Pipeline:
    """Validate task, cameras, encoders and context, and load the frozen encoders once, on `device`
    (default: the run's device, so the encoders sit on the GPU whenever the learner does)."""
    device = device or resolve_device(cfg.device)
    task = load_task(cfg.task)
    cameras = check_cameras(task, cfg.cameras or task.cameras)
    if cfg.fusion == "e2e":
        tokens = cameras + (["proprio"] if cfg.proprio != "none" else [])
        return Pipeline(task, cameras, tokens, None, None)
    encoders = [build_encoder(name, weights_dir=cfg.weights_dir) for name in cfg.encoders]
    from wsa_robot.envs import supports_depth

    depth = [e.name for e in encoders if e.modality == "depth"]
    if depth and not supports_depth(task):
        raise UserError(f"encoder {depth[0]} needs depth images, which task {task.name} does not have; "
                        "choose another (see `wsa-robot encoders`)")
    bank = EncoderBank(encoders, cameras, device=device, precision=cfg.encoder_precision,
                       compile=cfg.encoder_compile)
    tokens = [token_key(e, c) for e in cfg.encoders for c in cameras]
    if cfg.proprio in ("token", "both"):
        tokens.append("proprio")
    context = "proprio" if cfg.proprio in ("context", "both") else cfg.context
    if context != "proprio" and context not in bank.token_shapes:
        raise UserError(f"context {context!r} is not a token of this run; use one of: "
                        f"{', '.join(list(bank.token_shapes) + ['proprio'])}")
    return Pipeline(task, cameras, tokens, context, bank)


def _env_thunk(task: TaskSpec, cameras: list[str], cfg: RunConfig, seed: int, depth: bool,
               video_size: int | None, training: bool):
    def make():
        from wsa_robot.envs import make_env

        env = make_env(task, cameras, cfg.image_size, depth=depth, seed=seed, horizon=cfg.horizon,
                       reward_shaping=cfg.reward_shaping, quality=cfg.render.model_dump(),
                       video_size=video_size, training=training)
        # a backend may monitor its env itself, under wrappers that change episodes (Atari's lives)
        return env if is_wrapped(env, Monitor) else Monitor(env)
    return make


def use_subprocesses(vec_env: str, n_envs: int) -> bool:
    """`auto`: one subprocess per env when there are several (robosuite renders: ~30 steps/s per process).

    Cheap envs lose from it on a small machine: 8 Pong envs with random actions on 2 busy cores (load 7-9),
    3 alternating rounds of 3 s: one process (dummy) 766/1004/873 agent steps/s, 8 subprocesses 709/625/624,
    and the subprocesses took 26-31 s to start against 2.5 s. An ALE step costs less than the pickling and
    context switches around it, so the Atari tasks set `vec_env: dummy`."""
    return vec_env == "subproc" or (vec_env == "auto" and n_envs > 1)


def make_vec_env(cfg: RunConfig, pipe: Pipeline, n_envs: int, seed: int, video_size: int | None = None,
                 training: bool = False) -> VecEnv:
    """n_envs backend envs (subprocesses per `cfg.vec_env`), wrapped to emit embeddings unless E2E.
    `video_size`: each env can also render full-quality video frames (`env_method("video_frames")`).
    `training`: envs the agent learns from (Atari: episodic life, clipped rewards); eval envs report real returns."""
    depth = pipe.bank is not None and pipe.bank.needs_depth  # depth comes from the same render pass as RGB
    thunks = [_env_thunk(pipe.task, pipe.cameras, cfg, seed + i, depth, video_size, training)
              for i in range(n_envs)]
    venv: VecEnv = SubprocVecEnv(thunks) if use_subprocesses(cfg.vec_env, n_envs) else DummyVecEnv(thunks)
    if pipe.bank is None:
        return venv
    try:
        return EmbeddingVecEnv(venv, pipe.bank, pipe.token_keys)
    except Exception:
        venv.close()
        raise
