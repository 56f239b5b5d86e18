"""The replay buffer's checkpoint holds the rows written, not the whole preallocated buffer."""

from __future__ import annotations

import io

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.buffers import DictReplayBuffer

from wsa_robot.agents.nstep import DictNStepReplayBuffer
from wsa_robot.run.replay_file import load_replay, save_replay
from wsa_robot.run.run_dir import RunDir

SPACE = spaces.Dict({"cam": spaces.Box(0, 255, (3, 32, 32), np.uint8), "proprio": spaces.Box(-1, 1, (4,))})
ACTIONS = spaces.Box(-1, 1, (2,))


def _filled(rows: int, size: int = 500, cls=DictReplayBuffer, **kw) -> DictReplayBuffer:
    buffer = cls(size, SPACE, ACTIONS, device="cpu", **kw)
    rng = np.random.default_rng(0)
    for i in range(rows):
        obs = {k: rng.integers(0, 255, (1, *s.shape)).astype(s.dtype) for k, s in SPACE.spaces.items()}
        nxt = {k: rng.integers(0, 255, (1, *s.shape)).astype(s.dtype) for k, s in SPACE.spaces.items()}
        buffer.add(obs, nxt, rng.uniform(-1, 1, (1, 2)), np.array([i * 0.5]), np.array([i % 7 == 6]),
                   [{"TimeLimit.truncated": i % 13 == 12}])
    return buffer


def _same(a: DictReplayBuffer, b: DictReplayBuffer) -> None:
    assert (a.pos, a.full, a.buffer_size, type(a)) == (b.pos, b.full, b.buffer_size, type(b))
    for k in SPACE.spaces:
        np.testing.assert_array_equal(a.observations[k], b.observations[k])
        np.testing.assert_array_equal(a.next_observations[k], b.next_observations[k])
    for k in ("actions", "rewards", "dones", "timeouts"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))


class _Model:
    """What RunDir.save_checkpoint reads of an SB3 model."""

    def __init__(self, buffer: DictReplayBuffer) -> None:
        self.replay_buffer, self.num_timesteps = buffer, buffer.pos

    def save(self, f) -> None:
        f.write(b"model")

    def save_replay_buffer(self, f) -> None:  # as SB3's: the whole buffer
        from stable_baselines3.common.save_util import save_to_pkl
        save_to_pkl(f, self.replay_buffer)


def test_checkpoint_of_a_part_filled_buffer_grows_with_the_rows_written(tmp_path):
    run = RunDir(tmp_path / "run")
    buffer = _filled(20)
    run.save_checkpoint(_Model(buffer))
    frames = 2 * 3 * 32 * 32  # obs and next_obs of the camera, per row
    assert run.replay_file.stat().st_size < 40 * frames  # 20 rows written; 500 preallocated would be ~3 MB
    loaded = load_replay(run.replay_file)
    _same(loaded, buffer)  # padded back to its full size, zeros past pos
    assert loaded.observations["cam"].shape[0] == 500 and buffer.observations["cam"].shape[0] == 500
    assert not hasattr(loaded, "_wsa_trimmed_rows") and not hasattr(buffer, "_wsa_trimmed_rows")
    loaded.add(*[{k: v[:1, 0] for k, v in d.items()} for d in (buffer.observations, buffer.next_observations)],
               np.zeros((1, 2)), np.array([1.0]), np.array([False]), [{}])  # writes on at pos
    assert loaded.pos == 21 and loaded.sample(8).observations["cam"].shape == (8, 3, 32, 32)


def test_full_and_nstep_buffers_round_trip(tmp_path):
    for buffer in (_filled(510, size=500), _filled(30, cls=DictNStepReplayBuffer, n_steps=3, gamma=0.9)):
        f = io.BytesIO()
        save_replay(buffer, f)
        (tmp_path / "b.pkl").write_bytes(f.getvalue())
        loaded = load_replay(tmp_path / "b.pkl")
        _same(loaded, buffer)
        if isinstance(buffer, DictNStepReplayBuffer):
            assert (loaded.n_steps, loaded.gamma) == (3, 0.9)


def test_a_buffer_sb3_saved_whole_still_loads(tmp_path):
    from stable_baselines3.common.save_util import save_to_pkl

    buffer = _filled(10)
    save_to_pkl(tmp_path / "old.pkl", buffer)
    _same(load_replay(tmp_path / "old.pkl"), buffer)


GOAL_SPACE = spaces.Dict({k: spaces.Box(-1, 1, (3,)) for k in ("observation", "achieved_goal", "desired_goal")})


def _her(size: int, n_envs: int, rows: int):
    from stable_baselines3 import HerReplayBuffer

    buffer = HerReplayBuffer(size, GOAL_SPACE, ACTIONS, env=None, device="cpu", n_envs=n_envs)
    rng = np.random.default_rng(1)
    for i in range(rows):
        obs, nxt = ({k: rng.uniform(-1, 1, (n_envs, 3)).astype(np.float32) for k in GOAL_SPACE.spaces}
                    for _ in range(2))
        buffer.add(obs, nxt, rng.uniform(-1, 1, (n_envs, 2)), np.ones(n_envs), np.array([i % 2 == 0] * n_envs),
                   [{"is_success": float(i)} for _ in range(n_envs)])
    return buffer


def test_her_bookkeeping_survives_with_several_envs(tmp_path):
    """HER's per-env `_current_ep_start` is [n_envs]: not a per-slot array even when n_envs equals the per-env
    size (4 slots over 2 envs), so it must come back whole; its episode arrays and infos are per-slot."""
    for size, n_envs, rows in ((16, 2, 3), (4, 2, 1)):
        buffer = _her(size, n_envs, rows)
        assert buffer.buffer_size == size // n_envs and not buffer.full
        f = io.BytesIO()
        save_replay(buffer, f)
        (tmp_path / "her.pkl").write_bytes(f.getvalue())
        loaded = load_replay(tmp_path / "her.pkl")
        for name in ("ep_start", "ep_length", "_current_ep_start", "actions", "rewards", "dones"):
            np.testing.assert_array_equal(getattr(loaded, name), getattr(buffer, name), err_msg=name)
        for k in GOAL_SPACE.spaces:
            np.testing.assert_array_equal(loaded.observations[k], buffer.observations[k])
        assert loaded.infos.shape == buffer.infos.shape and loaded.infos.tolist() == buffer.infos.tolist()


def test_a_failed_save_leaves_the_live_buffer_as_it_was():
    buffer = _filled(20)
    before = {k: v for k, v in vars(buffer).items()}
    arrays = {k: dict(v) if isinstance(v, dict) else v for k, v in before.items()}

    class Full(io.BytesIO):
        def write(self, data):
            raise OSError("No space left on device")

    try:
        save_replay(buffer, Full())
    except OSError:
        pass
    else:
        raise AssertionError("the write error was swallowed")
    assert set(vars(buffer)) == set(before)  # no marker left behind
    for k, v in arrays.items():
        now = getattr(buffer, k)
        if isinstance(v, dict):
            assert all(now[key] is a for key, a in v.items()), k
        else:
            assert now is v, k
