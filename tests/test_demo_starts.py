"""Episodes started along the demonstrations, moved back as the agent succeeds (config `demo_starts`,
demos/starts.py): the curriculum's rule, the wrapper's episodes, a robosuite state put back with its gripper
target, the training envs (and only they) starting from demos, and the one-line refusals."""

from pathlib import Path

import gymnasium as gym
import h5py
import numpy as np
import pytest

from wsa_robot.config import load_config
from wsa_robot.demos.starts import HELD, PASSES, DemoPath, DemoStarts, ReverseCurriculum, read_paths
from wsa_robot.envs.robosuite.gripper import incremental_target

from helpers import one_line_error


def test_the_start_moves_back_one_stride_after_successes_in_a_row():
    c = ReverseCurriculum([40])
    stride = c.stride(0)
    assert c.start == [40 - stride] and c.left() == [0]
    c.record(0, True)
    c.record(0, False)  # a failure breaks the streak: the start stays
    assert c.start == [40 - stride]
    for _ in range(PASSES):
        c.record(0, True)
    assert c.start == [40 - 2 * stride]
    while c.start[0] > 0:
        for _ in range(PASSES):
            c.record(0, True)
    assert c.left() == [0] and c.progress() < 1.0  # its first state is yet to be passed
    for _ in range(PASSES):
        c.record(0, True)
    assert c.left() == [] and c.progress() == 1.0


def test_the_incremental_gripper_target_follows_robosuites_clipped_steps():
    assert incremental_target(np.array([])) == 0.0
    assert incremental_target(np.array([1.0] * 3)) == pytest.approx(0.6)
    assert incremental_target(np.array([1.0] * 8 + [-1.0])) == pytest.approx(0.8)  # clipped at 1 before the -0.2
    assert incremental_target(np.array([-1.0, 0.0, 1.0])) == pytest.approx(0.0)


class Scripted(gym.Env):
    """A stand-in backend env: `start_from` records the state it is given; the task counts as solved from the
    step `solved_from` of an episode on."""
    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,))
    action_space = gym.spaces.Box(-1, 1, (1,))

    def __init__(self, solved_from: int) -> None:
        self.solved_from, self.started, self.t = solved_from, [], 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros(1, np.float32), {}

    def start_from(self, state, gripper_target):
        self.started.append((float(state[0]), gripper_target))
        return np.ones(1, np.float32)

    def step(self, action):
        self.t += 1
        return np.zeros(1, np.float32), 0.0, False, self.t >= 200, {"success_now": self.t >= self.solved_from}


def one_demo(length: int = 16) -> DemoPath:
    states = np.arange(length, dtype=np.float64)[:, None]
    return DemoPath.of(states, np.ones((length, 4), np.float32))


def play(env: DemoStarts) -> tuple[int, dict]:
    env.reset()
    steps = 0
    while True:
        steps += 1
        _, _, terminated, truncated, info = env.step(np.zeros(1, np.float32))
        if terminated or truncated:
            return steps, info


def test_an_episode_from_a_demo_state_ends_once_solved_for_hold_steps_and_moves_the_start_back():
    inner = Scripted(solved_from=1)
    env = DemoStarts(inner, [one_demo(16)], share=1.0, seed=0)
    first = env.curriculum.start[0]
    for _ in range(PASSES):
        steps, info = play(env)
        assert steps == HELD and info["demo_start"] == 0 and "curriculum" in info
    assert [s for s, _ in inner.started] == [first] * PASSES
    assert inner.started[0][1] == pytest.approx(incremental_target(np.ones(first)))  # the gripper as the demo left it
    assert env.curriculum.start[0] < first


def test_a_failed_episode_from_a_demo_is_cut_at_its_limit_and_the_start_stays():
    inner = Scripted(solved_from=10_000)  # never solved
    env = DemoStarts(inner, [one_demo(16)], share=1.0, seed=0)
    start = env.curriculum.start[0]
    steps, info = play(env)
    assert steps < 200 and info["demo_start"] == 0  # cut long before the task's horizon
    assert env.curriculum.start[0] == start


def test_the_share_of_episodes_from_demos_and_none_once_every_demo_is_done():
    inner = Scripted(solved_from=10_000)
    env = DemoStarts(inner, [one_demo(16)], share=0.5, seed=3)
    from_demo = sum(env.reset()[1]["demo_start"] >= 0 for _ in range(400))
    assert 160 < from_demo < 240
    env.curriculum.done[0] = True
    assert not any(env.reset()[1]["demo_start"] >= 0 for _ in range(50))
    assert not any(DemoStarts(Scripted(1), [one_demo()], share=0.0, seed=0).reset()[1]["demo_start"] >= 0
                   for _ in range(50))


@pytest.fixture(scope="module")
def lift_demo(tmp_path_factory) -> Path:
    from wsa_robot.demos.record import record
    from wsa_robot.envs.tasks import load_task

    path = tmp_path_factory.mktemp("starts") / "lift.hdf5"
    cfg = load_config(["task=Lift"])
    record(cfg, load_task("Lift"), 1, path, seed=4)
    return path


def test_a_lift_state_put_back_holds_the_cube_only_with_the_grippers_target(lift_demo):
    """The last states of a demo hold the cube up. Restored with the gripper's target where the demo's actions
    left it, the hand stays shut through three 'open' actions (the target falls from 1 to 0.4); restored with
    the target at a reset's 0, the same actions open it and the cube falls."""
    from wsa_robot.envs import EnvOptions, make_env
    from wsa_robot.run.pipeline import plan

    spec = plan(load_config(["task=Lift"])).spec
    env = make_env(spec.task, list(spec.cameras), 84, EnvOptions.of(spec.env, seed=1, training=True))
    path = read_paths(lift_demo)[0]
    t = len(path) - 1
    solved = {}
    try:
        for restored in (True, False):
            env.reset()
            obs = env.unwrapped.start_from(path.states[t], path.gripper[t] if restored else 0.0)
            assert np.array_equal(env.unwrapped._env.sim.get_state().flatten(), path.states[t])
            assert set(obs) == set(env.observation_space.spaces)
            solved[restored] = sum(env.step(np.array([0, 0, 0, -1.0 if k < 3 else 1.0], np.float32))[4]["success_now"]
                                   for k in range(12))
    finally:
        env.close()
    assert solved[True] == 12 and solved[False] < 8


def test_training_envs_start_from_the_demos_and_evaluation_envs_never(lift_demo):
    from wsa_robot.run.pipeline import make_vec_env, plan

    pipe = plan(load_config(["task=Lift", f"demos={lift_demo}", "demo_starts=1.0", "encoders=[state]",
                             "cameras=[]", "vec_env=dummy"]))
    path = read_paths(lift_demo)[0]
    first_start = path.states[ReverseCurriculum([len(path)]).start[0]]
    for training in (True, False):
        venv = make_vec_env(pipe, 1, 7, training=training, starts=[path])
        try:
            venv.reset()
            state = venv.envs[0].unwrapped._env.sim.get_state().flatten()
        finally:
            venv.close()
        assert np.array_equal(state, first_start) == training


@pytest.mark.parametrize("argv,match", [
    (["train", "demos=null", "demo_starts=0.5"], "this run has none"),
    (["train", "--task", "kitchen/microwave", "demos=scripted", "demo_starts=0.5"], "only robosuite"),
    (["train", "demo_starts=1.5"], "demo_starts"),
])
def test_demo_starts_a_run_cannot_use_are_one_line(capsys, argv, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(capsys, argv, match)
    assert not (tmp_path / "runs").exists()


def test_a_file_without_states_is_one_line_with_demo_starts(capsys, tmp_path, monkeypatch):
    from test_demos import write_robomimic_style

    monkeypatch.chdir(tmp_path)
    write_robomimic_style(tmp_path / "theirs.hdf5", [5])
    with h5py.File(tmp_path / "theirs.hdf5", "a") as f:
        del f["data/demo_0/states"]
    one_line_error(capsys, ["train", "demos=theirs.hdf5", "demo_starts=0.5"], "no `states`")
    assert not (tmp_path / "runs").exists()
