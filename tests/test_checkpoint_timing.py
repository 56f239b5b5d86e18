"""A slow run is checkpointed by wall time too: a hard kill (no handler runs) loses at most
`checkpoint_minutes`, however few steps that is. Pixel SAC on Lift runs at 3 steps/s, so a step interval
sized for WSA's 30 steps/s left an hour unsaved."""

from types import SimpleNamespace

from wsa_robot.run.callbacks import CheckpointCallback
from wsa_robot.config import load_config


class FakeRun:
    def __init__(self) -> None:
        self.saved_at_steps: list[int] = []

    def save_checkpoint(self, model, wall_s: float, steps: int) -> None:
        self.saved_at_steps.append(steps)


def drive(every: int, minutes: float, seconds_per_step: float, steps: int) -> list[int]:
    """The steps at which the callback saved, for a run taking `seconds_per_step` on a fake clock."""
    now = [0.0]
    run = FakeRun()
    cb = CheckpointCallback(run, every, wall=lambda: now[0], minutes=minutes, clock=lambda: now[0])
    env = SimpleNamespace(num_envs=1)
    cb.model = SimpleNamespace(num_timesteps=0, get_env=lambda: env)
    cb._on_training_start()
    for step in range(1, steps + 1):
        now[0] += seconds_per_step
        cb.model.num_timesteps = cb.num_timesteps = step
        cb._on_step()
    return run.saved_at_steps


def test_a_slow_run_is_saved_by_wall_time_between_step_checkpoints():
    # 2 steps/s, 10k-step interval, 15 minutes: a save every 1,800 steps, and the 10k one
    saved = drive(every=10_000, minutes=15, seconds_per_step=0.5, steps=10_000)
    assert saved == [1800, 3600, 5400, 7200, 9000, 10_000]


def test_a_fast_run_saves_by_steps_only():
    saved = drive(every=1000, minutes=15, seconds_per_step=0.01, steps=5000)  # 50 s in all
    assert saved == [1000, 2000, 3000, 4000, 5000]


def test_zero_minutes_turns_the_wall_clock_bound_off():
    assert drive(every=10_000, minutes=0, seconds_per_step=1.0, steps=5000) == []


def test_the_default_config_bounds_the_loss_by_wall_time():
    assert load_config([]).checkpoint_minutes > 0
