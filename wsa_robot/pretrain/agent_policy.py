"""A trained run as the policy that collects pretraining frames, so the frames reach states a random policy
never sees (the reference mixed agent frames in after random-only data missed late-game Breakout)."""

from __future__ import annotations

# Imports inside functions: the agents and the pipeline (stable-baselines3), needed only when a trained run plays.

from pathlib import Path
from typing import Any, Callable

import numpy as np

from wsa_robot.core.errors import UserError

Policy = Callable[[dict[str, np.ndarray]], Any]


class RunPolicy:
    """The run's agent acting on one raw env observation (stochastic, as in training); `close()` after use."""

    def __init__(self, path: Path | str, task_name: str, seed: int = 0) -> None:
        from wsa_robot.agents import load_agent
        from wsa_robot.encoders.vec_env import EmbeddingVecEnv
        from wsa_robot.run.pipeline import make_vec_env, plan
        from wsa_robot.run.run_dir import existing_run_dir
        from wsa_robot.run.spec import resolve

        run = existing_run_dir(path)
        cfg = run.read_config()
        if cfg.task != task_name:
            raise UserError(f"run {run.path} plays {cfg.task}, not {task_name}; give a run of {task_name}")
        pipe = plan(resolve(cfg), "cpu")
        # one env of the run's own kind, for its observation pipeline: it embeds the collecting env's frames
        self.venv = make_vec_env(pipe, 1, seed)
        self.embedded = isinstance(self.venv, EmbeddingVecEnv)
        self.model = load_agent(cfg, run.checked_model_file(), None)

    def __call__(self, obs: dict[str, np.ndarray]) -> Any:
        batch = {k: v[None] for k, v in obs.items()}
        action, _ = self.model.predict(self.venv.embed(batch) if self.embedded else batch, deterministic=False)
        return action[0]

    def close(self) -> None:
        self.venv.close()
