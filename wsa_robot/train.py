"""`wsa-robot train`: build the pipeline and the agent, learn with progress, checkpoints and evals; resume."""

from __future__ import annotations

import signal

import numpy as np
import torch
from rich.console import Console
from stable_baselines3.common.callbacks import CallbackList

from wsa_robot.agents import build_agent, load_agent
from wsa_robot.agents.callbacks import CheckpointCallback, EvalCallback, ProgressCallback, WeightsCallback
from wsa_robot.config import RunConfig
from wsa_robot.eval.evaluate import run_episodes
from wsa_robot.eval.table import success_rate
from wsa_robot.pipeline import make_vec_env, plan
from wsa_robot.run_dir import RunDir

console = Console()


def _raise_interrupt(signum, frame):  # SIGTERM behaves like Ctrl-C: checkpoint, then stop
    raise KeyboardInterrupt


def train(cfg: RunConfig, run: RunDir, resume: bool = False, progress: bool = True) -> RunDir:
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    pipe = plan(cfg)
    if not resume:
        run.write_config(cfg)
    venv = make_vec_env(cfg, pipe, cfg.n_envs, cfg.seed, training=True)
    eval_env = make_vec_env(cfg, pipe, 1, cfg.seed + 10_000, training=False) if cfg.eval_every else None
    try:
        if resume:
            model = load_agent(cfg, run.checked_model_file(), venv)
            if run.replay_file.exists() and hasattr(model, "load_replay_buffer"):
                model.load_replay_buffer(run.replay_file)
            console.print(f"resuming {run.path} at step {model.num_timesteps}")
        else:
            model = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, run.tensorboard)

        def evaluate() -> dict:
            rows = run_episodes(model, eval_env, cfg.eval_episodes, pipe.token_keys)
            returns = [r["return"] for r in rows]
            return {"mean_return": float(np.mean(returns)), "std_return": float(np.std(returns)),
                    "success_rate": success_rate(rows)}  # None: the task has no success signal

        weights = WeightsCallback(pipe.token_keys)
        evals = EvalCallback(run, cfg.eval_every, evaluate) if eval_env else None
        callbacks = [weights, CheckpointCallback(run, cfg.checkpoint_every)] + ([evals] if evals else [])
        if progress:
            callbacks.append(ProgressCallback(cfg.total_steps, weights, evals))
        remaining = cfg.total_steps - model.num_timesteps
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            if remaining > 0:
                model.learn(remaining, callback=CallbackList(callbacks), reset_num_timesteps=False,
                            tb_log_name="tb", log_interval=1 if cfg.algo == "ppo" else 4)
        except KeyboardInterrupt:
            console.print(f"interrupted at step {model.num_timesteps}; saving a checkpoint")
        finally:
            signal.signal(signal.SIGTERM, previous)
            run.save_checkpoint(model)
        console.print(f"run saved in {run.path} at step {model.num_timesteps}")
    finally:
        venv.close()
        if eval_env:
            eval_env.close()
    return run
