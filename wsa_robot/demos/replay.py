"""Demonstrations as an off-policy learner's second replay buffer, and RLPD's symmetric sampling from both.

When a run starts (and again when it resumes: the buffer is not saved, the file is the record) the demos'
frames go through the run's own training env wrappers, so its frozen encoders embed them exactly as they embed
its own steps (any encoder set, fusion or E2E); the transitions fill a buffer of the learner's own class (n-step
returns included) that is never overwritten. Every batch then takes `sac.demo_fraction` of its samples from the
demos and the rest from the agent's own buffer (RLPD: half and half), so the agent's growing data never drowns
the demonstrations. A demo's last step is a truncation (robosuite episodes end only at their horizon): its
value is bootstrapped, as for any episode cut by the horizon.
"""

from __future__ import annotations

# Imports inside functions: cv2, only when demo frames need resizing.

import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from stable_baselines3.common.buffers import DictReplayBuffer
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecTransposeImage

from wsa_robot.demos.robomimic_file import Transitions, read_transitions
from wsa_robot.encoders.vec_env import EmbeddingVecEnv
from wsa_robot.core.errors import UserError

CHUNK = 128  # frames embedded per call of the frozen encoders


def as_the_agent_sees(venv: VecEnv, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A batch of raw env observations passed through the observation transforms of `venv`'s wrappers,
    innermost first: the frozen encoders (EmbeddingVecEnv) and SB3's channel-first images (VecTransposeImage)."""
    chain = []
    while isinstance(venv, VecEnvWrapper):
        chain.append(venv)
        venv = venv.venv
    for wrapper in reversed(chain):
        if isinstance(wrapper, EmbeddingVecEnv):
            raw = wrapper.embed(raw)
        elif isinstance(wrapper, VecTransposeImage):
            raw = wrapper.transpose_observations(raw)
    return raw


def _resized(images: np.ndarray, size: int) -> np.ndarray:
    if images.shape[1] == size and images.shape[2] == size:
        return images
    import cv2

    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images])


def _embedded(venv: VecEnv, obs: dict[str, np.ndarray], cameras: list[str], image_size: int) -> dict[str, np.ndarray]:
    raw = {k: (_resized(v, image_size) if k in cameras else v) for k, v in obs.items()}
    n = len(next(iter(raw.values())))
    parts = [as_the_agent_sees(venv, {k: v[i:i + CHUNK] for k, v in raw.items()}) for i in range(0, n, CHUNK)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def fill_buffer(model: Any, venv: VecEnv, demos: Transitions, cameras: list[str], image_size: int,
                reward_scale: float = 1.0) -> DictReplayBuffer:
    """A buffer of `model`'s replay class holding every demo transition, observations as the agent sees them."""
    space = model.action_space
    dims = {len(a[0]) for a in demos.actions}
    if dims != {space.shape[0]}:
        raise UserError(f"the demos' actions have {', '.join(map(str, sorted(dims)))} dimensions, this run's "
                        f"{space.shape[0]}: record them with the run's controller (config `controller`)")
    online = model.replay_buffer
    extra = {k: getattr(online, k) for k in ("n_steps", "gamma") if hasattr(online, k)}
    buffer = type(online)(demos.steps, model.observation_space, space, device=model.device, n_envs=1,
                          handle_timeout_termination=True, **extra)
    for obs, actions, rewards in zip(demos.obs, demos.actions, demos.rewards):
        seen = _embedded(venv, obs, cameras, image_size)
        scaled = model.policy.scale_action(np.clip(actions, space.low, space.high))
        last = len(actions) - 1
        for t in range(len(actions)):
            buffer.add({k: v[t:t + 1] for k, v in seen.items()}, {k: v[t + 1:t + 2] for k, v in seen.items()},
                       scaled[t:t + 1], np.array([rewards[t] * reward_scale]), np.array([t == last]),
                       [{"TimeLimit.truncated": t == last}])
    return buffer


class DemoReport(NamedTuple):
    demos: int
    transitions: int
    seconds: float


def attach_demos(model: Any, venv: VecEnv, path: Path, n: int, cameras: list[str], proprio_keys: list[str],
                 image_size: int, reward_scale: float, state: bool) -> DemoReport:
    """Read the first `n` demos of `path` (0: all), embed them through `venv` and give them to `model`
    (model.demo_replay). `state`: the run's oracle token needs the file's PRIVILEGED object state."""
    started = time.time()
    demos = read_transitions(path, cameras, proprio_keys, n, state=state)
    model.demo_replay = fill_buffer(model, venv, demos, cameras, image_size, reward_scale)
    return DemoReport(len(demos.actions), demos.steps, time.time() - started)


def _joined(a: Any, b: Any) -> Any:
    if a is None:
        return None
    if isinstance(a, dict):
        return {k: torch.cat([a[k], b[k]]) for k in a}
    return torch.cat([a, b])


class MixedReplay:
    """Samples `fraction` of each batch from the demos and the rest from the agent's own buffer; the demo
    samples are the batch's last `last_demo_rows` rows (the update's cloning term reads them there)."""

    def __init__(self, online: DictReplayBuffer, demos: DictReplayBuffer, fraction: float) -> None:
        self.online, self.demos, self.fraction = online, demos, fraction
        self.last_demo_rows = 0

    def sample(self, batch_size: int, env: Any = None):
        from_demos = batch_size if self.online.size() == 0 else int(round(batch_size * self.fraction))
        self.last_demo_rows = from_demos
        if from_demos == 0:
            return self.online.sample(batch_size, env=env)
        if from_demos == batch_size:
            return self.demos.sample(batch_size, env=env)
        own = self.online.sample(batch_size - from_demos, env=env)
        demo = self.demos.sample(from_demos, env=env)
        return type(own)(*(_joined(x, y) for x, y in zip(own, demo)))
