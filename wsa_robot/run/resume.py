"""Resume a run from whatever a kill left on disk, with the token set its config names now.

A SIGKILL can land anywhere: before the first checkpoint, inside an atomic write (a `.*.tmp` is left), between
the replay buffer and the model (the buffer is newer), or after `--add-encoder` rewrote config.yaml but before
the grown agent was saved. Each case resumes: from step 0, without the temp file, with the newer buffer, or by
growing the agent again.
"""

from __future__ import annotations

import time
from pathlib import Path

from stable_baselines3 import HerReplayBuffer
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import DictReplayBuffer
from stable_baselines3.common.vec_env import VecEnv

from wsa_robot.agents import build_agent, load_agent, policy_extractor
from wsa_robot.agents.grow import grow_replay_buffer, mask_tokens, saved_observation_keys, transplant
from wsa_robot.config import apply_overrides, validate
from wsa_robot.core.console import console
from wsa_robot.core.errors import UserError
from wsa_robot.fusion import can_grow
from wsa_robot.run.pipeline import Pipeline, plan
from wsa_robot.run.replay_file import load_replay
from wsa_robot.run.run_dir import RunDir
from wsa_robot.run.spec import resolve
from wsa_robot.envs.tasks import run_cameras
from wsa_robot.run.tokens import edit_tokens

# the only overrides a resume takes: extend (or shorten) a run, or give it another number of torch threads
# (how fast it runs, not what it learns: a bench hands the cores of a finished run to those still training)
RESUME_KEYS = ("total_steps", "torch_threads")


def resume_config(run: RunDir, overrides: list[str], add: list[str],
                  remove: list[str]) -> tuple[Pipeline, list[dict]]:
    """The run's pipeline (its encoders loaded once, for training) planned from its config with `total_steps=N`
    and the token edits applied, that config written back to the run (atomically), and the event rows
    ({step, time, action, tokens}) appended to RUN/events.json; every mistake is a UserError raised before
    anything is written."""
    cfg = run.read_config()
    bad = [o for o in overrides if o.split("=", 1)[0] not in RESUME_KEYS]
    if bad:
        raise UserError(f"--resume continues a run with its own config; only {'=N, '.join(RESUME_KEYS)}=N may "
                        f"change (got {bad[0]!r}): drop the override or start a new run")
    new = validate(apply_overrides(cfg.model_dump(), overrides)) if overrides else cfg
    edit = edit_tokens(new, run_cameras(new), add, remove)
    step = run.checkpoint_step()  # also checks the checkpoint is readable
    if step is not None and new.total_steps < step:
        raise UserError(f"total_steps={new.total_steps} is below the {step} steps {run.path} has done; a resume "
                        f"can only keep or extend its budget: give total_steps of at least {step}")
    pipe = plan(resolve(edit.cfg))  # the (new) encoders load and fit the task, before anything changes on disk
    if edit.cfg != cfg:
        run.write_config(edit.cfg)
    now = time.time()
    events = [{"step": step or 0, "time": now, **e} for e in edit.events]
    for event in events:
        run.append_event(event)
    return pipe, events


def say(message: str) -> None:
    console().print(message, soft_wrap=True, highlight=False)  # one line, never wrapped


def resume_agent(run: RunDir, venv: VecEnv, pipe: Pipeline) -> BaseAlgorithm:
    """The run's agent at its last checkpoint, fitted to the run's current tokens, with its replay buffer."""
    cfg = pipe.spec.cfg
    leftovers = run.remove_temp_files()
    if leftovers:
        say(f"deleted {len(leftovers)} half-written temp file(s) left by a killed save")
    if not run.model_file.exists():
        say(f"no checkpoint in {run.path}/checkpoints yet; starting from step 0")
        return build_agent(cfg, venv, pipe.token_keys, pipe.context_key, run.tensorboard)
    path = run.checked_model_file()
    saved = saved_observation_keys(path)
    grown = saved != set(venv.observation_space.spaces)
    if grown:
        model, old_tokens = _grown_agent(path, venv, pipe, saved, run)
    else:
        model, old_tokens = load_agent(cfg, path, venv), pipe.token_keys
    if getattr(model, "replay_buffer", None) is not None:
        _restore_replay(model, run.replay_file, saved, old_tokens, pipe)
    run.drop_evals_after(model.num_timesteps)
    if grown:  # config and checkpoint agree again from here on
        run.save_checkpoint(model)
    return model


def _grown_agent(path: Path, venv: VecEnv, pipe: Pipeline, saved: set[str],
                 run: RunDir) -> tuple[BaseAlgorithm, list[str]]:
    """A new agent for the new token set with every matching parameter of the checkpoint (agents/grow.py)."""
    cfg = pipe.spec.cfg
    now = set(venv.observation_space.spaces)
    if saved - now or not can_grow(cfg.fusion):
        raise UserError(f"checkpoint {path} was trained on other observations than {run.config_file} names "
                        f"({', '.join(sorted(saved ^ now))}); restore the config or start a new run")
    old = load_agent(cfg, path, None)  # no env: a HER agent loads with a plain buffer
    old_tokens = list(policy_extractor(old).token_keys)
    model = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, run.tensorboard)
    transplant(old, model)
    new = [t for t in pipe.token_keys if t not in old_tokens]
    say(f"added {', '.join(new)} at step {model.num_timesteps}: agent rebuilt, trained weights kept, "
        "fresh adapters for the new tokens, optimizer state reset")
    return model, old_tokens


def _restore_replay(model: BaseAlgorithm, file: Path, saved: set[str], old_tokens: list[str],
                    pipe: Pipeline) -> None:
    """Load the stored transitions into `model`, growing them to new tokens; a missing or unreadable buffer
    leaves the model's empty one (one line says so)."""
    buffer = None
    if file.exists():
        try:
            buffer = load_replay(file)
        except Exception as e:  # any unpickling failure: the agent is still good, the buffer refills
            say(f"replay buffer {file} is unreadable ({type(e).__name__}); resuming with an empty one")
    else:
        say(f"no replay buffer in {file.parent}; resuming with an empty one")
    if buffer is not None and not isinstance(buffer, DictReplayBuffer):
        say(f"replay buffer {file} is not a dict replay buffer; resuming with an empty one")
        buffer = None
    if buffer is not None:
        keys = set(buffer.observations)
        if keys == set(model.observation_space.spaces):  # same tokens (or a grown save a kill cut short)
            model.replay_buffer = buffer
            if isinstance(buffer, HerReplayBuffer):  # unpickled without its env: relabelling needs it again
                buffer.set_env(model.get_env())
        elif keys == saved:
            grow_replay_buffer(buffer, model.replay_buffer, old_tokens, pipe.token_keys)
        else:
            say(f"replay buffer {file} holds other observations than the agent; resuming with an empty one")
    model.replay_buffer.device = model.device
    mask_tokens(model.replay_buffer, pipe.token_keys, pipe.removed_tokens)
    if model.replay_buffer.size() == 0 and model.learning_starts:  # the rule: agents/sac_update.py OnePassSAC.train
        say(f"no update until the buffer holds {model.learning_starts:,} new transitions (learning_starts)")
