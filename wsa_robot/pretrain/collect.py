"""Frames for pretraining: a random policy in the task, every camera, with depth and segmentation labels where
the backend renders them (robosuite, gymnasium-robotics; Atari screens have neither).

Frames are stored in time order, all cameras of one step side by side, so the frame of the same camera k
steps later is `k * len(cameras)` further on (the time-contrastive skill relies on it). A collection is
cached under data/frames/ so that several skills train on the same frames without rendering them again.

`VisualMix` (envs/visual_mix.py): each episode is shown under a visual variation drawn from the named kinds,
or intact. With twins, every step is also rendered under a second draw of the mix (`twin`), so that a skill sees
two views of one state that differ only in what the variations change.
"""

from __future__ import annotations

# Imports inside functions: the run-dir reader, needed only when an agent plays (the backends load their simulators when an env is made).

import hashlib
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from rich.progress import Progress

from wsa_robot.envs import make_env
from wsa_robot.envs.backends import backend_for
from wsa_robot.envs.visual_mix import VisualMix
from wsa_robot.pretrain.agent_policy import Policy, RunPolicy
from wsa_robot.pretrain.frames import Frames, load_frames, save_frames
from wsa_robot.core.keys import PROPRIO
from wsa_robot.core.task_spec import TaskSpec

CACHE = Path("data/frames")


def labels(task: TaskSpec) -> tuple[str, ...]:
    """What a task's frames come with (its backend's `frame_labels`): per-pixel labels rendered beside the
    images ("depth", "segmentation"), the PRIVILEGED state, a frame stack ("stack"), and "twin" where the
    backend switches variations in place (every step rendered again under a second one: `twins`)."""
    backend = backend_for(task)
    return backend.frame_labels + (("twin",) if backend.variations_in_place else ())


def _make_env(task: TaskSpec, cameras: list[str], image_size: int, seed: int, episode_length: int | None,
              dense: bool = True) -> gym.Env:
    return make_env(task, cameras, image_size, backend_for(task).frames_options(seed, episode_length, dense))


def _random_action(space: spaces.Space, rng: np.random.Generator) -> np.ndarray | int:
    if isinstance(space, spaces.Discrete):
        return int(space.start + rng.integers(space.n))
    return rng.uniform(space.low, space.high).astype(np.float32)


def _state_label(obs: dict) -> np.ndarray | None:
    """PRIVILEGED: the object state and the proprio of a step, where the env gives the object state."""
    if "state" not in obs:
        return None
    return np.concatenate([obs["state"], obs.get(PROPRIO, np.zeros(0, np.float32))]).astype(np.float32)


def _rollout(task: TaskSpec, cameras: list[str], frames_per_camera: int, image_size: int,
             episode_length: int | None, seed: int, agent: Policy | None = None, agent_fraction: float = 0.0,
             visuals: VisualMix | None = None, expert_fraction: float = 0.0, twins: bool = False) -> Frames:
    """`agent` plays each episode with probability `agent_fraction`; the random policy plays the others.
    `visuals`: each episode's variation is drawn from it. `expert_fraction`: the share of episodes the task's
    scripted PRIVILEGED controller plays (it reads the simulator; the frames are what the cameras show).
    `twins`: each episode also draws a second, different variation from `visuals`, and every step is rendered
    under both; the scene is left in the second after its render and steps on in it (one switch a step: a
    switch uploads textures, the slow part), so the two views trade places every step."""
    env = _make_env(task, cameras, image_size, seed, episode_length, dense=not twins)  # twins: state only
    rng = np.random.default_rng(seed)
    shown = np.random.default_rng([seed, 1])  # the variations' own stream: the actions stay those without them
    second = np.random.default_rng([seed, 2])  # the twins' stream: the frames' own views stay those without them
    by_agent = agent is not None and rng.random() < agent_fraction
    by_expert = not by_agent and rng.random() < expert_fraction
    images, depth, seg, states, episodes, twin_images = [], [], [], [], [], []
    views: list[str | None] = [None, None]  # the variation the scene shows now, then the other one

    def start(**kwargs) -> dict:
        if visuals is not None:
            views[0] = visuals.draw(shown)
            views[1] = _other_draw(visuals, second, views[0]) if twins else None
            env.unwrapped.set_variation(views[0])
        return env.reset(**kwargs)[0]

    def twin() -> dict[str, np.ndarray]:
        env.unwrapped.set_variation(views[1])
        views.reverse()
        return env.unwrapped.camera_frames()

    try:
        with Progress() as bar:
            job = bar.add_task(f"collecting {task.name} frames", total=frames_per_camera)
            episode, steps, obs = 0, 0, start(seed=seed)
            for _ in range(frames_per_camera):
                label = _state_label(obs)
                other = twin() if twins else {}
                for c in cameras:
                    images.append(obs[c])
                    if twins:
                        twin_images.append(other[c])
                    if f"{c}_depth" in obs:
                        depth.append(obs[f"{c}_depth"])
                    if f"{c}_seg" in obs:
                        seg.append(obs[f"{c}_seg"])
                    if label is not None:
                        states.append(label)
                    episodes.append(episode)
                action = agent(obs) if by_agent else env.unwrapped.expert_action() if by_expert else \
                    _random_action(env.action_space, rng)
                obs, _, terminated, truncated, _ = env.step(action)
                steps += 1
                if terminated or truncated or (episode_length and steps >= episode_length):
                    episode, steps = episode + 1, 0
                    obs = start()
                    by_agent = agent is not None and rng.random() < agent_fraction
                    by_expert = not by_agent and rng.random() < expert_fraction
                bar.advance(job)
    finally:
        env.close()
    return Frames(np.stack(images), np.stack(depth) if depth else None, np.stack(seg) if seg else None,
                  np.asarray(episodes), len(cameras), state=np.stack(states) if states else None,
                  twin=np.stack(twin_images) if twins else None)


def _other_draw(visuals: VisualMix, rng: np.random.Generator, own: str | None, tries: int = 100) -> str | None:
    """A draw of the mix that shows the scene otherwise than `own` (intact twice is no pair)."""
    for _ in range(tries):
        drawn = visuals.draw(rng)
        if drawn != own:
            return drawn
    raise ValueError(f"the mix {visuals.kinds} drew only {own!r} in {tries} tries: it has no second view to pair")


def _agent_tag(agent_run: Path) -> str:
    """Names the run and its checkpoint step, so a cache made with an older checkpoint is not reused."""
    from wsa_robot.run.run_dir import existing_run_dir

    run = existing_run_dir(agent_run)
    where = hashlib.sha1(str(run.path.resolve()).encode()).hexdigest()[:8]
    return f"{where}at{run.checkpoint_step()}"


def collect_frames(task: TaskSpec, cameras: list[str], frames_per_camera: int, image_size: int = 84,
                   episode_length: int | None = None, seed: int = 0, cache: Path | None = None,
                   agent_run: Path | None = None, agent_fraction: float = 0.5,
                   visuals: VisualMix | None = None, expert_fraction: float = 0.0, twins: bool = False) -> Frames:
    """Frames of every camera under a random policy, from the cache folder (default data/frames/) when the
    same collection is there. `episode_length`: steps per episode (default: 100 for robosuite, whole games
    for Atari). `agent_run`: a trained run of this task plays `agent_fraction` of the episodes. `visuals`:
    the variations the episodes are shown under (VisualMix). `expert_fraction`: the share of episodes the
    task's scripted PRIVILEGED controller plays (envs/robosuite/experts.py): states with the object grasped and lifted.
    `twins`: every step also under a second draw of `visuals` (Frames.twin; needs `visuals`), without depth
    and segmentation (the skills that learn from twins read the state only)."""
    if twins and visuals is None:
        raise ValueError("twins are views under a second variation: give the visual mix they are drawn from")
    episode_length = episode_length or backend_for(task).pretrain_episode  # None: whole episodes
    mix = f"-agent{_agent_tag(agent_run)}x{agent_fraction:g}" if agent_run else ""
    mix += f"-{visuals.tag}" if visuals else ""
    mix += f"-expert{expert_fraction:g}" if expert_fraction else ""
    mix += "-twins" if twins else ""
    mix += "-state" if "state" in labels(task) else ""  # collections made before the state label lack it
    name = f"{task.name.replace('/', '_')}-{'+'.join(cameras)}-{frames_per_camera}x{image_size}-" \
           f"ep{episode_length or 'full'}-seed{seed}{mix}.npz"
    path = (cache or CACHE) / name
    if path.exists():
        return load_frames(path)
    agent = RunPolicy(agent_run, task.name, seed) if agent_run else None
    try:
        frames = _rollout(task, cameras, frames_per_camera, image_size, episode_length, seed, agent, agent_fraction,
                          visuals, expert_fraction, twins)
    finally:
        if agent is not None:
            agent.close()
    save_frames(path, frames)
    return frames
