"""Evaluate one trained run under conditions (camera faults, a visual variation) without printing, so a
script can compare the same agent across many conditions with one agent and one env; and a small table
comparing them."""

from __future__ import annotations

import random

import numpy as np
import torch
from rich.table import Table
from stable_baselines3.common.vec_env import VecEnv

from wsa_robot.agents import load_agent
from wsa_robot.encoders.vec_env import EmbeddingVecEnv
from wsa_robot.envs.faults import parse_faults
from wsa_robot.agents.evaluate import run_episodes
from wsa_robot.run.eval_table import summary
from wsa_robot.run.pipeline import Pipeline, make_vec_env, plan
from wsa_robot.run.run_dir import RunDir
from wsa_robot.run.spec import resolve
from wsa_robot.core.tables import Col, fitted_table

REWIND = "rewind"  # the env method that makes an env draw again as if just made (robosuite: RobosuiteEnv.rewind)


class Evaluator:
    """A run's frozen encoders, agent and eval env, built once, evaluated under one condition after another
    (camera faults, masking on or off, a visual variation). Every condition sees the episodes that an env and
    an agent built for it alone would see, to the bit (tests/test_eval_reuse.py):

    - an env that can `rewind` (robosuite) switches in place: `set_variation`, `set_faults` (its FaultWrapper,
      there even without faults), the embedding wrapper's masking, then `rewind` to the RNG state it was made
      with; other envs (an Atari variation is another emulator core) are built again, on the same encoders;
    - the global RNGs (random, numpy, torch) go back to where loading the agent left them, which is where a
      fresh load leaves them every time (SB3 seeds them from the saved seed).

    `seed`: the first env seed (default: the run's eval seed, the same as `wsa-robot eval`); `pipe`: the run's
    pipeline when the caller has planned it already."""

    def __init__(self, run: RunDir, seed: int | None = None, pipe: Pipeline | None = None) -> None:
        self.run = run
        self.cfg = run.read_config()
        model_file = run.checked_model_file()
        self.pipe = pipe or plan(resolve(self.cfg))
        self.seed = self.pipe.spec.seeds.eval if seed is None else seed
        self.model = load_agent(self.cfg, model_file, None)
        self._rng_states = _global_rng_states()
        self.venv: VecEnv | None = None

    def evaluate(self, episodes: int, faults: list[str] | None = None, variation: str | None = None,
                 mask_faults: bool | None = None) -> dict:
        """Deterministic episodes under a condition; returns `summary()` (mean_return, std_return, success_rate,
        mean_length, weights) plus the condition: `faults` (specs, none = clean), `variation` and `mask_faults`
        (None keeps the run's setting)."""
        faults = list(faults or [])
        mask = self.cfg.mask_faults if mask_faults is None else mask_faults
        self._switch(faults, variation, mask)
        _set_global_rng_states(self._rng_states)
        rows = run_episodes(self.model, self.venv, episodes, self.pipe.token_keys)
        return {**summary(rows), "faults": faults, "variation": variation, "mask_faults": mask}

    def _switch(self, faults: list[str], variation: str | None, mask: bool) -> None:
        if self.venv is not None and not self.venv.has_attr(REWIND):
            self.close()
        if self.venv is None:
            self.venv = make_vec_env(self.pipe, 1, self.seed, training=False, faults=faults,
                                     mask_faults=mask, variation=variation, switchable=True)
            return
        parse_faults(faults, self.pipe.cameras)  # a bad spec fails before the env changes
        self.venv.env_method("set_variation", variation)
        self.venv.env_method("set_faults", faults)
        self.venv.env_method(REWIND)
        if isinstance(self.venv, EmbeddingVecEnv):
            self.venv.mask_invalid = mask

    def close(self) -> None:
        if self.venv is not None:
            self.venv.close()
            self.venv = None

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _global_rng_states() -> tuple:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    return random.getstate(), np.random.get_state(), torch.get_rng_state(), cuda


def _set_global_rng_states(states: tuple) -> None:
    python, numpy_state, torch_state, cuda = states
    random.setstate(python)
    np.random.set_state(numpy_state)
    torch.set_rng_state(torch_state)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)


def evaluate_run(run: RunDir, episodes: int, faults: list[str] | None = None, variation: str | None = None,
                 seed: int | None = None, mask_faults: bool | None = None, pipe: Pipeline | None = None) -> dict:
    """One condition on its own (see Evaluator, which evaluates many with one agent and env). `pipe`: the run's
    pipeline when the caller has one (planned from the run's config); None: planned here."""
    with Evaluator(run, seed, pipe) as evaluator:
        return evaluator.evaluate(episodes, faults, variation, mask_faults)


def conditions_table(results: dict[str, dict], width: int | None = None) -> Table:
    """One row per condition (name -> evaluate_run/summary dict): return and success side by side. A long
    condition (several fault specs) wraps between its specs, never inside one."""
    cols = [Col("condition", wrap=True), Col("return", justify="right"), Col("success", justify="right")]
    rows = []
    for name, s in results.items():
        rate = "-" if s.get("success_rate") is None else f"{s['success_rate']:.0%}"
        rows.append([name, f"{s['mean_return']:.2f} ± {s['std_return']:.2f}", rate])
    return fitted_table("return and success per condition", cols, rows, width)
