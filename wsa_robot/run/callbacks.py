"""Training callbacks: rich progress, atomic checkpoints, periodic deterministic evaluation, WSA weights."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
from rich import get_console
from rich.console import Console, RenderableType
from rich.progress import Progress, ProgressColumn, Task
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from wsa_robot.agents.acting import rollout_weights
from wsa_robot.core.errors import NonFiniteError  # defined there so the CLI catches it without importing torch
from wsa_robot.run.run_dir import RunDir, eval_owed


def short(token: str) -> str:
    return token.replace("robot0_", "").replace("agentview", "agent")


class WeightsCallback(BaseCallback):
    """Logs the WSA weight per token of the last rollout action (mean over the envs), the weights of the
    forward that chose it (agents/acting.py), and keeps them for the progress line."""

    def __init__(self, token_keys: list[str], every: int = 100) -> None:
        super().__init__()
        self.token_keys, self.every = token_keys, every
        self.recent: np.ndarray | None = None

    def _on_step(self) -> bool:
        if self.n_calls % self.every:
            return True
        w = rollout_weights(self.model)
        if w is None:
            return True
        mean = w.mean(0)
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


class CurriculumCallback(BaseCallback):
    """Logs the reverse curriculum of `demo_starts` (demos/starts.py) as the training envs report it at the end
    of each episode started from a demo: demos/curriculum (the share of the demos' steps passed) and
    demos/start_episodes (episodes started from a demo so far, in this call of learn())."""

    def __init__(self) -> None:
        super().__init__()
        self.episodes = 0

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            if "curriculum" in info:
                self.episodes += 1
                self.logger.record("demos/curriculum", float(info["curriculum"]))
                self.logger.record("demos/start_episodes", self.episodes)
        return True


class CheckpointCallback(BaseCallback):
    """Every `every` steps, and whenever `minutes` of wall time passed since the last save (0: either off;
    train() still saves when it ends, interrupted or not, through `save`). The wall-clock bound is for slow
    runs (pixel SAC at 3 steps/s takes an hour for 10k steps): a hard kill, which no handler sees, loses at
    most `minutes`.

    PPO learns from whole rollouts, and a resume collects a new one: the steps of a rollout cut short were
    never learned from. A checkpoint saved during one (a periodic save, a stop) counts the steps up to where
    that rollout began, which is where its weights are from; else a run resumed mid-rollout overshot its
    budget by up to a rollout, and a run's steps grew with how often it was stopped."""

    def __init__(self, run: RunDir, every: int, wall: Callable[[], float], minutes: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.run, self.every, self.wall, self.minutes, self.clock = run, every, wall, minutes, clock
        self.saved_at = clock()
        self.rollout_began: int | None = None  # the step an on-policy rollout being collected began at

    def _on_training_start(self) -> None:
        self.saved_at = self.clock()

    def _on_rollout_start(self) -> None:
        if isinstance(self.model, OnPolicyAlgorithm):
            self.rollout_began = self.num_timesteps

    def _on_rollout_end(self) -> None:
        self.rollout_began = None

    def learned_steps(self, model) -> int:
        """The step count a checkpoint of `model` saved now gets (its own, but for a PPO rollout cut short).
        `model` is passed: a resume with no step left to train never gives this callback one."""
        return model.num_timesteps if self.rollout_began is None else self.rollout_began

    def save(self, model) -> None:
        self.run.save_checkpoint(model, wall_s=self.wall(), steps=self.learned_steps(model))
        self.saved_at = self.clock()

    def _on_step(self) -> bool:
        due_steps = self.every and self.num_timesteps % self.every < self.training_env.num_envs
        due_time = self.minutes and self.clock() - self.saved_at >= self.minutes * 60
        if due_steps or due_time:
            self.save(self.model)
        return True


class EvalCallback(BaseCallback):
    """Every `every` steps, runs `evaluate()` (deterministic episodes) and appends to the run's evals.json.
    `wall`: the run's training wall time so far (train.py's clock, continued over resumes from
    RunDir.wall_s); `last`: the newest eval row, the run's previous one on a resume until this one evaluates."""

    def __init__(self, run: RunDir, every: int, evaluate: Callable[[], dict], wall: Callable[[], float]) -> None:
        super().__init__()
        self.run, self.every, self.evaluate, self.wall = run, every, evaluate, wall
        self.last: dict | None = None

    def _on_step(self) -> bool:
        if self._due():
            self._evaluate()
        return True

    def _due(self) -> bool:
        return bool(self.every) and self.num_timesteps % self.every < self.training_env.num_envs

    def _evaluate(self) -> None:
        row = {"step": int(self.num_timesteps), **self.evaluate(), "wall_s": round(self.wall(), 1)}
        self.last = row
        self.run.append_eval(row)
        self.logger.record("eval/mean_return", row["mean_return"])
        if row.get("success_rate") is not None:  # tasks without a success signal (Atari) log returns only
            self.logger.record("eval/success_rate", row["success_rate"])

    def _on_training_start(self) -> None:
        """On a resume past an eval that a stop cut off (the checkpoint is saved first), run it now, so the curve
        has no hole where the run was stopped."""
        previous = self.run.read_evals()
        self.last = previous[-1] if previous else None
        if eval_owed(previous, self.num_timesteps, self.every):
            self._evaluate()


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _percent(rate: float) -> str:
    return f"{rate:.0%}"


def progress_parts(steps: int, total: int, rate: float, episodes: dict | None, last_eval: dict | None,
                   weights: str | None) -> list[tuple[int, str]]:
    """The progress line's parts in display order, each with how long it is kept when the line is too long
    for the terminal (lower = kept longer): steps, the recent training episodes' return and success, the last
    eval, time left, steps/s, then the WSA weights (left out first; TensorBoard has them). Episodes played by
    the scripted warm-up (`sac.expert_steps`) are marked `warm-up` (episodes["warmup"])."""
    parts = [(0, f"{steps}/{total}")]
    if episodes:
        text = ("warm-up " if episodes.get("warmup") else "") + f"ep return {episodes['return']:.2f}"
        if episodes.get("success") is not None:
            text += f" success {_percent(episodes['success'])}"
        parts.append((1, text))
    if last_eval:
        text = f"eval {last_eval['mean_return']:.2f}"
        if last_eval.get("success_rate") is not None:
            text += f" success {_percent(last_eval['success_rate'])}"
        parts.append((2, text))
    if rate > 0:
        parts.append((3, f"{_clock((total - steps) / rate)} left"))
        parts.append((4, f"{rate:.1f} steps/s"))
    if weights:
        parts.append((5, weights))
    return parts


def fit_parts(parts: list[tuple[int, str]], width: int, sep: str = "  ") -> str:
    """The parts that fit `width` (kept by priority, shown in order), joined by `sep`."""
    kept: list[int] = []
    for i in sorted(range(len(parts)), key=lambda i: parts[i][0]):
        trial = sorted(kept + [i])
        if len(sep.join(parts[j][1] for j in trial)) <= width or not kept:
            kept = trial
    return sep.join(parts[i][1] for i in kept)


class _LineColumn(ProgressColumn):
    """A bar and the progress text in the terminal's width at every refresh (a resize included): the text
    is fitted first (fit_parts), the bar takes what is left, from 10 to 40 columns, or is left out."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def render(self, task: Task) -> RenderableType:
        width = self.console.width - 3  # room for the "^C" a terminal echoes, so it never wraps a line
        text = fit_parts(task.fields.get("parts") or [(0, f"{int(task.completed)}/{int(task.total or 0)}")], width)
        room = width - len(text) - 1
        line = Text(text, no_wrap=True, overflow="ellipsis")
        if room < 10:
            return line
        grid = Table.grid(padding=(0, 1))
        grid.add_row(ProgressBar(total=task.total, completed=task.completed, width=min(room, 40)), line)
        return grid


class ProgressCallback(BaseCallback):
    """One line, kept within the terminal's width: a bar, steps, the recent training episodes' mean return
    and success rate (SB3's ep_info_buffer / ep_success_buffer, PPO and SAC alike), the last periodic eval,
    time left, steps/s and the current WSA weights; what does not fit is left out (progress_parts says in
    which order).

    The scripted controller's episodes (`sac.expert_steps`) are its own, not the agent's: during the warm-up the
    line marks them `warm-up`, and after it counts only the episodes the agent played.

    Where stdout is no terminal (CI, nohup, a log file) it prints every part as a line every `log_every_s`.
    `stop()` ends the live line, so a message after it (Ctrl-C) is not redrawn around.
    """

    def __init__(self, total: int, weights: WeightsCallback, evals: EvalCallback | None,
                 log_every_s: float = 30.0, console: Console | None = None) -> None:
        super().__init__()
        self.total, self.weights, self.evals, self.log_every_s = total, weights, evals, log_every_s
        self.console = console or get_console()
        self.bar = Progress(_LineColumn(self.console), console=self.console, transient=False)
        self.live = self.console.is_terminal
        self.started = False

    def _on_training_start(self) -> None:
        self.t0, self.start_steps, self.last_line = time.time(), self.model.num_timesteps, time.time()
        self.own_episodes = 0  # finished after the scripted warm-up, in this call of learn()
        self.job = self.bar.add_task("train", total=self.total, completed=self.start_steps, parts=None)
        if self.live:
            self.bar.start()
            self.started = True

    def _episodes(self) -> dict | None:
        """Mean return and success rate of the last (up to 100) finished training episodes; None before one."""
        infos = list(getattr(self.model, "ep_info_buffer", None) or [])
        successes = list(getattr(self.model, "ep_success_buffer", None) or [])
        warmup = self.num_timesteps <= self._expert_steps()
        if self._expert_steps() and not warmup:  # the agent's own episodes only, up to SB3's window
            infos, successes = infos[len(infos) - min(self.own_episodes, len(infos)):], \
                successes[len(successes) - min(self.own_episodes, len(successes)):]
        if not infos:
            return None
        return {"return": float(np.mean([info["r"] for info in infos])), "episodes": len(infos),
                "success": float(np.mean(successes)) if successes else None, "warmup": warmup}

    def _expert_steps(self) -> int:
        return getattr(self.model, "expert_steps", 0)  # SAC's scripted warm-up (agents/acting.py); PPO has none

    def _weights(self) -> str | None:
        if self.weights.recent is None:
            return None
        return " ".join(f"{short(k)} {v:.2f}" for k, v in zip(self.weights.token_keys, self.weights.recent))

    def rate(self) -> float:
        """Steps per second of this call of learn()."""
        return (self.num_timesteps - self.start_steps) / max(time.time() - self.t0, 1e-6)

    def parts(self, rate: float | None = None) -> list[tuple[int, str]]:
        return progress_parts(self.num_timesteps, self.total, self.rate() if rate is None else rate,
                              self._episodes(), self.evals.last if self.evals else None, self._weights())

    def _on_step(self) -> bool:
        if self.num_timesteps > self._expert_steps():
            self.own_episodes += int(np.sum(self.locals.get("dones", 0)))
        if self.n_calls % 10:
            return True
        rate = self.rate()
        self.logger.record("time/steps_per_s", rate)
        if self.live:
            self.bar.update(self.job, completed=self.num_timesteps, parts=self.parts(rate))
        elif time.time() - self.last_line >= self.log_every_s:
            self.last_line = time.time()
            print("train " + "  ".join(text for _, text in self.parts(rate)), flush=True)
        return True

    def _on_training_end(self) -> None:
        if self.started:
            self.bar.update(self.job, completed=min(self.num_timesteps, self.total), parts=self.parts())
        self.stop()

    def stop(self, erase: bool = False) -> None:
        """End the live line (idempotent); `erase`: take it off the screen (Ctrl-C: the message says it all)."""
        if self.started:
            self.started = False
            self.bar.live.transient = erase
            self.bar.stop()
