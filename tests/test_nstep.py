"""n-step returns on Dict observations (`sac.n_steps`): targets computed by hand on a tiny buffer, the same
numbers as SB3's Box NStepReplayBuffer, and the agent that trains, overlaps and resumes with them."""

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer

from wsa_robot.agents.nstep import DictNStepReplayBuffer

OBS = spaces.Dict({"x": spaces.Box(-np.inf, np.inf, (1,), np.float32)})
ACT = spaces.Box(-1, 1, (1,), np.float32)
# step t: reward t+1; step 3 ends its episode (terminated), step 5 is cut by the time limit (truncated)
TERMINATED, TRUNCATED = {3}, {5}


def filled(size: int, steps: int, n: int = 3, gamma: float = 0.5) -> DictNStepReplayBuffer:
    buf = DictNStepReplayBuffer(size, OBS, ACT, device="cpu", n_envs=1, n_steps=n, gamma=gamma)
    for t in range(steps):
        done = t in TERMINATED or t in TRUNCATED
        buf.add({"x": np.array([[t]], np.float32)}, {"x": np.array([[100 + t]], np.float32)},  # next obs of t: 100+t
                np.array([[0.0]], np.float32), np.array([t + 1.0]), np.array([done]),
                [{"TimeLimit.truncated": t in TRUNCATED}])
    return buf


def sample(buf, inds):
    s = buf._get_samples(np.array(inds))
    return (s.rewards[:, 0].tolist(), s.discounts[:, 0].tolist(), s.dones[:, 0].tolist(),
            s.next_observations["x"][:, 0].tolist(), s.observations["x"][:, 0].tolist())


def test_targets_by_hand_with_an_episode_end_and_a_truncation_inside_the_window():
    buf = filled(10, 8)  # 8 steps stored; step 7 is the newest
    rewards, discounts, dones, next_x, x = sample(buf, [0, 1, 2, 3, 4, 5, 6, 7])
    g = 0.5
    assert x == [0, 1, 2, 3, 4, 5, 6, 7]
    assert rewards == pytest.approx([1 + g * 2 + g * g * 3,   # 0..2, no end: full window
                                     2 + g * 3 + g * g * 4,   # 1..3, ends at the termination
                                     3 + g * 4,               # 2..3
                                     4,                       # 3
                                     5 + g * 6,               # 4..5, ends at the truncation
                                     6,                       # 5
                                     7 + g * 8,               # 6..7, stops at the newest step
                                     8])
    assert discounts == pytest.approx([g ** 3, g ** 3, g ** 2, g, g ** 2, g, g ** 2, g])
    # a termination ends the return (no bootstrap); a truncation and the newest step still bootstrap
    assert dones == [0, 1, 1, 1, 0, 0, 0, 0]
    assert next_x == [102, 103, 103, 103, 105, 105, 107, 107]


def test_a_full_buffer_never_reads_past_the_newest_step_into_the_oldest():
    buf = filled(4, 7, n=3, gamma=0.5)  # steps 0..6 in 4 slots: slot i holds step 4+i (i < 3), slot 3 step 3
    assert buf.full and buf.pos == 3
    rewards, discounts, dones, next_x, x = sample(buf, [2, 3])
    assert x == [6, 3]
    assert rewards == pytest.approx([7, 4])  # step 6 is the newest; step 3 terminated
    assert next_x == [106, 103] and dones == [0, 1]
    rewards, _, _, next_x, x = sample(buf, [0])  # step 4 .. step 5 (truncated)
    assert rewards == pytest.approx([5 + 0.5 * 6]) and next_x == [105]


def test_the_same_numbers_as_stable_baselines3_box_buffer():
    """SB3's NStepReplayBuffer (Box observations only) on the same transitions gives the same targets."""
    rng = np.random.default_rng(0)
    box = NStepReplayBuffer(50, OBS["x"], ACT, device="cpu", n_envs=1, n_steps=4, gamma=0.9)
    ours = DictNStepReplayBuffer(50, OBS, ACT, device="cpu", n_envs=1, n_steps=4, gamma=0.9)
    for t in range(70):  # wraps around
        done, truncated = rng.random() < 0.1, rng.random() < 0.1
        args = (np.array([[t]], np.float32), np.array([[t + 0.5]], np.float32))
        rest = (np.array([[0.0]], np.float32), np.array([rng.normal()]), np.array([done or truncated]),
                [{"TimeLimit.truncated": truncated and not done}])
        box.add(*args, *rest)
        ours.add({"x": args[0]}, {"x": args[1]}, *rest)
    inds = np.arange(50)
    a, b = box._get_samples(inds), ours._get_samples(inds)
    for field in ("rewards", "discounts", "dones"):
        torch.testing.assert_close(getattr(a, field), getattr(b, field))
    torch.testing.assert_close(a.next_observations, b.next_observations["x"])


def test_one_step_is_the_plain_dict_buffer():
    buf = filled(10, 8, n=1)
    rewards, discounts, dones, next_x, _ = sample(buf, list(range(8)))
    assert rewards == [t + 1 for t in range(8)] and discounts == pytest.approx([0.5] * 8)
    assert next_x == [100 + t for t in range(8)] and dones == [0, 0, 0, 1, 0, 0, 0, 0]


FAST = ["encoders=state", "horizon=50", "sac.learning_starts=40", "sac.batch_size=16", "fusion_dim=32",
        "sac.net_arch=32,32", "eval_every=0", "checkpoint_every=60"]


def test_sac_trains_overlapped_with_nstep_returns_and_resumes_with_them(in_tmp):
    """The default overlapped SAC (updates inside the env subprocess's step) samples n-step targets, and a
    resumed run keeps its n-step buffer and transitions."""
    from wsa_robot.run.replay_file import load_replay

    from wsa_robot.cli.commands import main
    from wsa_robot.run.run_dir import RunDir

    assert main(["train", "--no-progress", "total_steps=100", "sac.n_steps=3", "run_dir=run", *FAST]) == 0
    run = RunDir(in_tmp / "run")
    saved = load_replay(run.replay_file)
    assert isinstance(saved, DictNStepReplayBuffer) and saved.n_steps == 3 and saved.gamma == 0.99
    assert saved.pos == 100
    assert main(["train", "--no-progress", "--resume", "run", "total_steps=140"]) == 0
    resumed = load_replay(run.replay_file)
    assert isinstance(resumed, DictNStepReplayBuffer) and resumed.n_steps == 3 and resumed.pos == 140
    np.testing.assert_array_equal(resumed.rewards[:100], saved.rewards[:100])  # the old transitions kept
    assert run.checkpoint_step() == 140


def test_nstep_with_her_is_one_line_error(capsys):
    from helpers import one_line_error

    one_line_error(capsys, ["train", "--task", "fetch/Push", "encoders=state", "sac.n_steps=3"],
                   "not supported with HER")
