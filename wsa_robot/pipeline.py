"""Builds the observation pipeline of a run: backend envs -> encoder bank -> embedding observations."""

from __future__ import annotations

from dataclasses import dataclass

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
               video_size: int | None):
    def make():
        from wsa_robot.envs import make_env

        return Monitor(make_env(task, cameras, cfg.image_size, depth=depth, seed=seed, horizon=cfg.horizon,
                                reward_shaping=cfg.reward_shaping, quality=cfg.render.model_dump(),
                                video_size=video_size))
    return make


def make_vec_env(cfg: RunConfig, pipe: Pipeline, n_envs: int, seed: int, video_size: int | None = None) -> VecEnv:
    """n_envs backend envs (subprocesses when more than one), wrapped to emit embeddings unless E2E.
    `video_size`: each env can also render full-quality video frames (`env_method("video_frames")`)."""
    depth = pipe.bank is not None and pipe.bank.needs_depth  # depth comes from the same render pass as RGB
    thunks = [_env_thunk(pipe.task, pipe.cameras, cfg, seed + i, depth, video_size) for i in range(n_envs)]
    venv: VecEnv = SubprocVecEnv(thunks) if n_envs > 1 else DummyVecEnv(thunks)
    return venv if pipe.bank is None else EmbeddingVecEnv(venv, pipe.bank, pipe.token_keys)
