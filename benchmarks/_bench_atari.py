"""Atari PPO throughput for bench_throughput.py: WSA over the four frozen Pong skills, E2E (NatureCNN), and the
reference's design, which reruns the frozen skills inside every PPO minibatch.

Each is PPO as `wsa-robot train --task atari/Pong` builds it (8 envs in one process, n_steps 128, 4 epochs,
batch 256): the unit is agent steps per second with learning, timed over whole PPO iterations after one untimed.
"""

from __future__ import annotations

import time

import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from wsa_robot.agents import algo_hyperparameters, build_agent
from wsa_robot.config import RunConfig, load_config
from wsa_robot.core.keys import token_key
from wsa_robot.encoders.registry import build_encoder
from wsa_robot.fusion.attention import WSAExtractor
from wsa_robot.run.pipeline import make_vec_env, plan
from wsa_robot.run.spec import context_only_encoder

GAME = "atari/Pong"


class ReferenceWSAExtractor(BaseFeaturesExtractor):
    """The reference's extractor: the frozen skills run on the raw screen inside forward(), so every PPO
    minibatch (and every rollout step) recomputes them; then the same WSA fusion."""

    def __init__(self, observation_space: spaces.Dict, encoders: list[str], context: str, dim: int = 256) -> None:
        super().__init__(observation_space, features_dim=dim)
        self.encoders = nn.ModuleList(build_encoder(name) for name in [*encoders, context])
        keys = [token_key(e.name, "screen") for e in self.encoders]
        token_space = spaces.Dict({k: spaces.Box(-1e9, 1e9, e.output_shape) for k, e in zip(keys, self.encoders)})
        self.keys, self.wsa = keys, WSAExtractor(token_space, keys[:-1], keys[-1], dim)

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        x = obs["screen"].float()  # SB3 gives images channel-first, scaled to [0, 1]
        with torch.no_grad():
            tokens = {k: e.encode(x) for k, e in zip(self.keys, self.encoders)}
        return self.wsa(tokens)


# a configuration's variant (`wsa:onnx` in profile_atari_step.py, atari_wsa_ppo_onnx in bench_throughput.py):
# the config keys it sets on top of the task's
VARIANTS = {"": [], "torch": [], "onnx": ["encoder_runtime=onnx"], "bf16": ["encoder_precision=bf16"],
            "fp32": ["encoder_precision=fp32"]}  # the task's encoder_precision is auto (bf16 with AMX)


def _config(fusion: str, seed: int, iterations: int, n_steps: int, variant: str = "") -> RunConfig:
    """`n_steps`: the task's 128, or fewer for a smoke check (--quick); `variant`: a key of VARIANTS."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {', '.join(v for v in VARIANTS if v)}")
    return load_config([f"task={GAME}", f"fusion={fusion}", f"seed={seed}", "eval_every=0",
                        f"ppo.n_steps={n_steps}", f"total_steps={8 * n_steps * (iterations + 1)}",
                        *VARIANTS[variant]])


def _rate(model: PPO, iterations: int) -> float:
    per_iteration = model.n_steps * model.n_envs
    model.learn(per_iteration)  # warm-up: first rollout, first update
    start = time.perf_counter()
    model.learn(per_iteration * iterations, reset_num_timesteps=False)
    return per_iteration * iterations / (time.perf_counter() - start)


def bench_ppo(fusion: str, seed: int, iterations: int, n_steps: int = 128, variant: str = "") -> float:
    """Agent steps/s of `wsa-robot train --task atari/Pong fusion=<fusion>` with the variant's keys (wsa: the
    task's four skills)."""
    cfg = _config(fusion, seed, iterations, n_steps, variant)
    pipe = plan(cfg, "cpu")
    venv = make_vec_env(pipe, cfg.n_envs, seed, training=True)
    try:
        return _rate(build_agent(cfg, venv, pipe.token_keys, pipe.context_key, tensorboard_log=None), iterations)
    finally:
        venv.close()


def bench_reference(seed: int, iterations: int, n_steps: int = 128) -> float:
    """The same PPO and WSA, with the skills inside the extractor (raw screens in the rollout buffer)."""
    wsa = _config("wsa", seed, iterations, n_steps)
    cfg = _config("e2e", seed, iterations, n_steps)
    pipe = plan(cfg, "cpu")
    venv = make_vec_env(pipe, cfg.n_envs, seed, training=True)
    [context] = context_only_encoder(wsa.context, wsa.encoders)  # the autoencoder, not a token
    kwargs = {"encoders": list(wsa.encoders), "context": context, "dim": wsa.fusion_dim}
    try:
        model = PPO("MultiInputPolicy", venv, seed=seed, device="cpu", verbose=0,
                    policy_kwargs={"features_extractor_class": ReferenceWSAExtractor,
                                   "features_extractor_kwargs": kwargs, "net_arch": list(cfg.ppo.net_arch)},
                    **algo_hyperparameters(cfg))
        return _rate(model, iterations)
    finally:
        venv.close()
