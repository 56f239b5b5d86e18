"""`wsa-robot train`: build the pipeline and the agent, learn with progress, checkpoints and evals; resume."""

from __future__ import annotations

# Imports inside functions: the demos' recorder and buffer (h5py, a second env), only for a run with demos.

import signal
import time

import numpy as np
from stable_baselines3.common.callbacks import CallbackList

from wsa_robot.agents import build_agent
from wsa_robot.agents.guard import FiniteGuard, check_parameters
from wsa_robot.agents.overlap import attach_learner
from wsa_robot.run.training_env import make_training_env, training_threads
from wsa_robot.run.callbacks import (CheckpointCallback, CurriculumCallback, EvalCallback, EventsCallback,
                                        ProgressCallback, WeightsCallback)
from wsa_robot.agents.algos import ALGO_FACTS
from wsa_robot.core.console import console
from wsa_robot.core.errors import NonFiniteError, SaveError
from wsa_robot.agents.evaluate import run_episodes
from wsa_robot.run.eval_table import success_rate
from wsa_robot.run.pipeline import Pipeline, close_envs, make_vec_env
from wsa_robot.run.resume import resume_agent, say
from wsa_robot.run.run_dir import RunDir
from wsa_robot.run.run_lock import hold_writer_lock, holds_writer_lock, release_writer_lock
from wsa_robot.run.stopping import honour_deferred_interrupts, sigterm_as_ctrl_c


def _fault(error: NonFiniteError, run: RunDir) -> NonFiniteError:
    """The error, naming the checkpoint that is kept (nothing is saved after a fault)."""
    step = run.checkpoint_step()
    kept = (f"the last good checkpoint (step {step}) is kept in {run.path}/checkpoints" if step is not None
            else "no checkpoint had been written yet")
    return NonFiniteError(f"{error}; {kept}")


def _nonfinite_parameters(model) -> NonFiniteError | None:
    try:
        check_parameters(model)
    except NonFiniteError as e:
        return e
    return None


def record_scripted_demos(pipe: Pipeline, run: RunDir) -> None:
    """`demos: scripted`: the task's controller records them into the run dir, once (a resume reads that file);
    a recording made before for the same settings and seed is copied from the cache (demos/source.py)."""
    import shutil

    from wsa_robot.core.atomic import atomic_path
    from wsa_robot.demos.record import record
    from wsa_robot.demos.source import cached_file, demo_file, recorded_count, scripted

    cfg = pipe.spec.cfg
    path = demo_file(cfg, run.path)
    if not scripted(cfg) or path.exists():
        return
    cache = cached_file(cfg)
    if cache.exists():
        say(f"demos: {recorded_count(cfg)} recorded before for these settings, from {cache}")
    else:
        done = record(cfg, pipe.task, recorded_count(cfg), cache, seed=cfg.seed)
        say(f"demos: {len(done.episodes)} recorded by {pipe.task.name}'s scripted PRIVILEGED controller "
            f"({done.attempts} tries, {done.seconds:.0f} s), kept in {cache}")
    with atomic_path(path) as tmp:
        shutil.copyfile(cache, tmp)


def give_demos(pipe: Pipeline, run: RunDir, model) -> None:
    """The demos embedded by the run's own encoders into the learner's second buffer (demos/replay.py)."""
    from wsa_robot.demos.replay import attach_demos
    from wsa_robot.demos.source import demo_file, scripted

    cfg = pipe.spec.cfg
    path = demo_file(cfg, run.path)
    report = attach_demos(model, model.get_env(), path, 0 if scripted(cfg) else cfg.demos_n, pipe.cameras,
                          pipe.task.proprio_keys, cfg.image_size, cfg.reward_scale, pipe.state)
    model.demo_fraction, model.demo_bc = cfg.sac.demo_fraction, cfg.sac.demo_bc
    cloning = f", cloned where the critic prefers them (weight {cfg.sac.demo_bc:g})" if cfg.sac.demo_bc else ""
    say(f"demos: {report.demos} from {path} ({report.transitions} steps, embedded in {report.seconds:.1f} s), "
        f"{cfg.sac.demo_fraction:g} of every batch{cloning}")


def train(run: RunDir, pipe: Pipeline, resume: bool = False, progress: bool = True,
          events: list[dict] | None = None) -> RunDir:
    """Train the run `pipe` was planned for (`plan(cfg)` resolves and loads its encoders; the CLI plans before it
    makes the run dir, so they load once) into `run`. `events`: token-set changes applied at this resume
    ({step, time, action, tokens}), logged to TensorBoard.
    A NaN/inf raises NonFiniteError and writes no checkpoint, so the last good one stays as it was.
    torch's thread count while it runs is the spec's (RunSpec.training, run/training_setup.py)."""
    taken = not holds_writer_lock(run.path)  # the CLI takes it before it writes; sweeps and scripts here
    hold_writer_lock(run.path)  # a second writer of this run stops here, in one line (run_lock.py)
    try:
        with training_threads(pipe.spec):
            return _train(run, pipe, resume, progress, events)
    finally:
        if taken:  # a process that trains runs in turn (a Ray worker) must not keep the ones it finished
            release_writer_lock(run.path)


def demo_starts(pipe: Pipeline, run: RunDir) -> list | None:
    """The demos' states a share `demo_starts` of training episodes starts from (demos/starts.py), or None."""
    cfg = pipe.spec.cfg
    if not cfg.demo_starts:
        return None
    from wsa_robot.demos.source import demo_file, scripted
    from wsa_robot.demos.starts import read_paths

    path = demo_file(cfg, run.path)
    paths = read_paths(path, 0 if scripted(cfg) else cfg.demos_n)
    say(f"demo starts: {cfg.demo_starts:g} of training episodes start along {len(paths)} demos of {path}, "
        "from their ends back to their starts as the agent succeeds (reverse curriculum)")
    return paths


def _train(run: RunDir, pipe: Pipeline, resume: bool, progress: bool, events: list[dict] | None) -> RunDir:
    cfg = pipe.spec.cfg
    venv = eval_env = None
    try:
        if cfg.demos is not None:
            record_scripted_demos(pipe, run)
        venv = make_training_env(pipe, starts=demo_starts(pipe, run))  # with sac.overlap, updates run while the env steps (run/training_env.py)
        eval_env = make_vec_env(pipe, 1, pipe.spec.seeds.periodic_eval, training=False) \
            if cfg.eval_every else None
        if resume:
            model = resume_agent(run, venv, pipe)
            console().print(f"resuming {run.path} at step {model.num_timesteps}")
        else:
            model = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, run.tensorboard)
        if cfg.demos is not None:
            give_demos(pipe, run, model)
        honour_deferred_interrupts()  # a Ctrl-C during the set-up stops the run here, before anything is saved
        if not resume:
            # the run exists from here: a start that failed before (an env that would not build) left a folder
            # without config.yaml, which the same command accepts again
            run.write_config(cfg)
        attach_learner(venv, model)

        def evaluate() -> dict:
            rows = run_episodes(model, eval_env, cfg.eval_episodes, pipe.token_keys)
            returns = [r["return"] for r in rows]
            return {"mean_return": float(np.mean(returns)), "std_return": float(np.std(returns)),
                    "success_rate": success_rate(rows)}  # None: the task has no success signal

        started = time.time() - ((run.wall_s() or 0.0) if resume else 0.0)  # wall time counts over resumes

        def wall() -> float:
            return time.time() - started

        weights = WeightsCallback(pipe.token_keys)
        evals = EvalCallback(run, cfg.eval_every, evaluate, wall) if eval_env else None
        checkpoints = CheckpointCallback(run, cfg.checkpoint_every, wall, cfg.checkpoint_minutes)
        callbacks = [FiniteGuard(), weights, checkpoints]
        callbacks += [evals] if evals else []
        if cfg.demo_starts:
            callbacks.append(CurriculumCallback())
        if events:
            callbacks.append(EventsCallback(events, len(pipe.token_keys) - len(pipe.removed_tokens)))
        bar = ProgressCallback(cfg.total_steps, weights, evals, console=console()) if progress else None
        callbacks += [bar] if bar else []
        remaining = cfg.total_steps - model.num_timesteps
        fault: NonFiniteError | None = None
        save_failed: SaveError | None = None
        interrupted = False
        with sigterm_as_ctrl_c():  # checkpoint, then stop
            try:
                # at the budget with an eval a stop cut off: learn(0) runs that eval only (EvalCallback)
                if remaining > 0 or (evals is not None and run.eval_owed(cfg.eval_every, model.num_timesteps)):
                    model.learn(max(remaining, 0), callback=CallbackList(callbacks), reset_num_timesteps=False,
                                tb_log_name="tb", log_interval=ALGO_FACTS[cfg.algo].log_interval)
                check_parameters(model)  # the last update ran after the last callback
            except KeyboardInterrupt:
                interrupted = True
            except NonFiniteError as e:
                fault = e
            except SaveError as e:  # a periodic checkpoint failed: the same write again would fail too
                save_failed = e
            except Exception:  # e.g. torch's Normal refusing NaN action means: weights gone NaN inside an update
                fault = _nonfinite_parameters(model)
                if fault is None:
                    raise
            finally:
                # SIGTERM now would cut this checkpoint short: a bench stopping its runs after Ctrl-C already
                # stopped this one sends it, and so may a scheduler; the run ends once the checkpoint is saved
                signal.signal(signal.SIGTERM, signal.SIG_IGN)  # until the block's end restores the handler
                if bar:
                    bar.stop(erase=interrupted)  # before any message: a live line would be redrawn around it
                if fault is None and save_failed is None:
                    checkpoints.save(model)
        if save_failed is not None:
            raise save_failed
        if fault is not None:
            raise _fault(fault, run) from None
        if interrupted:
            learned = checkpoints.learned_steps(model)
            dropped = model.num_timesteps - learned
            say(f"stopped at step {learned} of {cfg.total_steps} and saved in {run.path}" +
                (f" (the {dropped} steps of the unfinished rollout are not learned from)" if dropped else "") +
                f"; resume with: wsa-robot train --resume {run.path}")
        else:
            say(f"run saved in {run.path} at step {model.num_timesteps}")
    finally:
        if venv is not None:
            close_envs(venv)
        if eval_env is not None:
            close_envs(eval_env)
    return run
