"""Training callbacks: rich progress, atomic checkpoints, periodic deterministic evaluation, WSA weights."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from stable_baselines3.common.callbacks import BaseCallback

from wsa_robot.agents import policy_extractor
from wsa_robot.errors import NonFiniteError  # defined there so the CLI catches it without importing torch
from wsa_robot.run_dir import RunDir


def short(token: str) -> str:
    return token.replace("robot0_", "").replace("agentview", "agent")


class WeightsCallback(BaseCallback):
    """Logs the mean WSA weight per token of the acting policy; keeps a running mean for the progress bar."""

    def __init__(self, token_keys: list[str], every: int = 100) -> None:
        super().__init__()
        self.token_keys, self.every = token_keys, every
        self.recent: np.ndarray | None = None

    def _on_step(self) -> bool:
        if self.n_calls % self.every:
            return True
        w = getattr(policy_extractor(self.model), "last_weights", None)
        if w is None:
            return True
        mean = w.float().mean(0).numpy()
        if not np.all(np.isfinite(mean)):
            raise NonFiniteError(f"non-finite WSA weights at step {self.num_timesteps}")
        self.recent = mean
        for key, v in zip(self.token_keys, mean):
            self.logger.record(f"wsa/weight/{key}", float(v))
        return True


class EventsCallback(BaseCallback):
    """Writes the token-set changes of this resume to TensorBoard at the step they took effect: a text per
    action (events/add, events/remove) and the scalar events/token_count (tokens not removed)."""

    def __init__(self, events: list[dict], token_count: int) -> None:
        super().__init__()
        self.events, self.token_count = events, token_count

    def _on_training_start(self) -> None:
        for event in self.events:
            self.logger.record(f"events/{event['action']}", ", ".join(event["tokens"]))
        self.logger.record("events/token_count", self.token_count)
        self.logger.dump(self.num_timesteps)

    def _on_step(self) -> bool:
        return True


class CheckpointCallback(BaseCallback):
    """Every `every` steps (0: none; train() still saves when it ends, interrupted or not)."""

    def __init__(self, run: RunDir, every: int) -> None:
        super().__init__()
        self.run, self.every = run, every

    def _on_step(self) -> bool:
        if self.every and self.num_timesteps % self.every < self.training_env.num_envs:
            self.run.save_checkpoint(self.model)
        return True


class EvalCallback(BaseCallback):
    """Every `every` steps, runs `evaluate()` (deterministic episodes) and appends to the run's evals.json."""

    def __init__(self, run: RunDir, every: int, evaluate: Callable[[], dict]) -> None:
        super().__init__()
        self.run, self.every, self.evaluate = run, every, evaluate
        self.last: dict | None = None

    def _on_step(self) -> bool:
        if self.every and self.num_timesteps % self.every < self.training_env.num_envs:
            row = {"step": int(self.num_timesteps), **self.evaluate(), "wall_s": round(time.time() - self.t0, 1)}
            self.last = row
            self.run.append_eval(row)
            self.logger.record("eval/mean_return", row["mean_return"])
            if row.get("success_rate") is not None:  # tasks without a success signal (Atari) log returns only
                self.logger.record("eval/success_rate", row["success_rate"])
        return True

    def _on_training_start(self) -> None:
        previous = self.run.read_evals()  # a resumed run keeps counting wall time from its last eval
        self.t0 = time.time() - (previous[-1]["wall_s"] if previous else 0.0)


class ProgressCallback(BaseCallback):
    """A rich bar: steps, steps/s, ETA, last eval success and the current WSA weights.

    Where stdout is no terminal (CI, nohup, a log file) it prints the same as a line every `log_every_s`.
    """

    def __init__(self, total: int, weights: WeightsCallback, evals: EvalCallback | None,
                 log_every_s: float = 30.0) -> None:
        super().__init__()
        self.total, self.weights, self.evals, self.log_every_s = total, weights, evals, log_every_s
        self.bar = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]:>6} steps/s"), TimeRemainingColumn(),
                            TextColumn("{task.fields[info]}"))
        self.live = self.bar.console.is_terminal

    def _on_training_start(self) -> None:
        self.t0, self.start_steps, self.last_line = time.time(), self.model.num_timesteps, time.time()
        if self.live:
            self.bar.start()
        self.job = self.bar.add_task("train", total=self.total, completed=self.start_steps, rate="-", info="")

    def _info(self) -> str:
        info = []
        if self.evals and self.evals.last:
            rate = self.evals.last.get("success_rate")
            info.append(f"eval return {self.evals.last['mean_return']:.1f}" if rate is None
                        else f"eval success {rate:.2f}")
        if self.weights.recent is not None:
            info.append(" ".join(f"{short(k)} {v:.2f}" for k, v in zip(self.weights.token_keys, self.weights.recent)))
        return "  ".join(info)

    def _on_step(self) -> bool:
        if self.n_calls % 10:
            return True
        rate = (self.num_timesteps - self.start_steps) / max(time.time() - self.t0, 1e-6)
        self.logger.record("time/steps_per_s", rate)
        if self.live:
            self.bar.update(self.job, completed=self.num_timesteps, rate=f"{rate:.1f}", info=self._info())
        elif time.time() - self.last_line >= self.log_every_s:
            self.last_line = time.time()
            eta = (self.total - self.num_timesteps) / max(rate, 1e-6)
            print(f"train {self.num_timesteps}/{self.total}  {rate:.1f} steps/s  eta {eta / 60:.0f} min  "
                  f"{self._info()}", flush=True)
        return True

    def _on_training_end(self) -> None:
        if self.live:
            self.bar.update(self.job, completed=min(self.num_timesteps, self.total))
            self.bar.stop()
