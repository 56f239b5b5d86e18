"""Demonstrations (issue 35): recorded in robomimic's HDF5 layout, read back by robomimic's own dataset code, a
file in robomimic's layout written here (not by our writer) read and trained from, and every batch drawn from
both buffers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from wsa_robot.config import load_config
from wsa_robot.demos.record import record
from wsa_robot.demos.robomimic_file import read_transitions
from wsa_robot.core.errors import UserError
from wsa_robot.envs.tasks import load_task

from helpers import one_line_error

CAMERAS = ["agentview", "robot0_eye_in_hand"]
PROPRIO = ["robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos"]


def scrubbed_env(home: Path) -> dict:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}


def wsa(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wsa_robot.cli.commands", *args], cwd=cwd, env=scrubbed_env(cwd),
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def lift_demos(tmp_path_factory) -> Path:
    """Two Lift demos recorded by the CLI, as a user does."""
    folder = tmp_path_factory.mktemp("demos")
    done = wsa(["demos", "record", "--task", "Lift", "-n", "2", "--out", "lift.hdf5", "--seed", "4"], folder)
    assert done.returncode == 0, done.stderr
    assert "2 demos of Lift" in done.stdout and "demos=lift.hdf5" in done.stdout
    return folder / "lift.hdf5"


def test_a_recorded_file_is_robomimics_layout_and_says_privileged(lift_demos):
    with h5py.File(lift_demos, "r") as f:
        data = f["data"]
        assert "PRIVILEGED" in data.attrs["privileged"]
        env_args = json.loads(data.attrs["env_args"])
        assert env_args["env_name"] == "Lift" and env_args["type"] == 1
        assert env_args["env_kwargs"]["camera_names"] == CAMERAS
        assert sorted(data) == ["demo_0", "demo_1"]
        assert data.attrs["total"] == sum(data[d].attrs["num_samples"] for d in data)
        demo = data["demo_0"]
        T = demo.attrs["num_samples"]
        assert demo["actions"].shape == (T, 4)  # Lift's osc_position controller + gripper
        assert demo["rewards"].shape == (T,) and demo["dones"][-1] == 1 and demo["dones"][:-1].sum() == 0
        assert demo["states"].shape[0] == T
        for group in ("obs", "next_obs"):
            assert demo[f"{group}/agentview_image"].shape == (T, 84, 84, 3)
            assert demo[f"{group}/agentview_image"].dtype == np.uint8
            for key in PROPRIO:
                assert demo[f"{group}/{key}"].shape[0] == T
        # next_obs is obs one step on
        np.testing.assert_array_equal(demo["next_obs/robot0_eef_pos"][:-1], demo["obs/robot0_eef_pos"][1:])
        assert demo["rewards"][-1] == pytest.approx(1.0)  # ends on the lifted cube (shaped reward 2.25 / 2.25)


def test_robomimics_own_dataset_code_reads_our_file(lift_demos):
    import robomimic.utils.obs_utils as ObsUtils
    from robomimic.utils.dataset import SequenceDataset

    ObsUtils.initialize_obs_utils_with_obs_specs({"obs": {"low_dim": ["robot0_eef_pos"], "rgb": ["agentview_image"]}})
    dataset = SequenceDataset(str(lift_demos), obs_keys=["robot0_eef_pos", "agentview_image"],
                              dataset_keys=["actions", "rewards", "dones"], load_next_obs=True,
                              hdf5_cache_mode=None, hdf5_use_swmr=False)
    with h5py.File(lift_demos, "r") as f:
        T0 = f["data/demo_0"].attrs["num_samples"]
        total = f["data"].attrs["total"]
        assert len(dataset) == total
        first = dataset[0]
        np.testing.assert_allclose(first["actions"][0], f["data/demo_0/actions"][0])
        np.testing.assert_allclose(first["obs"]["robot0_eef_pos"][0], f["data/demo_0/obs/robot0_eef_pos"][0])
        second_demo = dataset[T0]  # robomimic indexes the demos' steps one after the other
        np.testing.assert_allclose(second_demo["actions"][0], f["data/demo_1/actions"][0])
        np.testing.assert_array_equal(first["obs"]["agentview_image"][0], f["data/demo_0/obs/agentview_image"][0])
        np.testing.assert_allclose(first["next_obs"]["robot0_eef_pos"][0], f["data/demo_0/obs/robot0_eef_pos"][1])


def test_the_same_seed_records_the_same_demos(lift_demos, tmp_path):
    cfg = load_config(["task=Lift"])
    again = record(cfg, load_task("Lift"), 2, tmp_path / "again.hdf5", seed=4)
    with h5py.File(lift_demos, "r") as f:
        for k, episode in enumerate(again.episodes):
            np.testing.assert_array_equal(f[f"data/demo_{k}/actions"][:], episode.actions)


def test_show_lists_each_demo(lift_demos):
    done = wsa(["demos", "show", lift_demos.name], lift_demos.parent)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("demo_")]
    assert len(rows) == 2 and all(" yes " in r and "agentview robot0_eye_in_hand" in r for r in rows)
    assert "PRIVILEGED" in done.stdout and max(map(len, done.stdout.splitlines()[3:])) <= 80


def write_robomimic_style(path: Path, lengths: list[int], size: int = 64) -> list[np.ndarray]:
    """A file as robomimic's own scripts write it: no next_obs, images upside down (robosuite's OpenGL
    convention, no attribute saying so), env_args for robosuite; none of our writer's attributes. Each
    upright frame has a white top row and a black bottom row. Returns the actions of each demo."""
    rng = np.random.default_rng(0)
    upright = np.zeros((size, size, 3), np.uint8)
    upright[:size // 2] = 255
    actions = []
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["env_args"] = json.dumps({"env_name": "Lift", "type": 1, "env_kwargs": {}})
        for k, T in enumerate(lengths):
            g = data.create_group(f"demo_{k}")
            g.attrs["num_samples"] = T
            a = rng.uniform(-1, 1, (T, 4))
            actions.append(a)
            g["actions"] = a
            g["rewards"] = np.linspace(0, 1, T)
            g["dones"] = np.eye(1, T, T - 1)[0].astype(int)
            g["states"] = rng.normal(size=(T, 10))
            for cam in CAMERAS:
                g[f"obs/{cam}_image"] = np.repeat(upright[None, ::-1], T, axis=0)
            g["obs/robot0_eef_pos"] = rng.normal(size=(T, 3))
            g["obs/robot0_eef_quat"] = rng.normal(size=(T, 4))
            g["obs/robot0_gripper_qpos"] = rng.normal(size=(T, 2))
        data.attrs["total"] = sum(lengths)
    return actions


def test_a_file_in_robomimics_layout_reads_upright_without_its_unknown_last_step(tmp_path):
    path = tmp_path / "theirs.hdf5"
    actions = write_robomimic_style(path, [7, 5])
    demos = read_transitions(path, CAMERAS, PROPRIO)
    assert [len(a) for a in demos.actions] == [6, 4]  # no next_obs: the last step has no next observation
    np.testing.assert_allclose(demos.actions[0], actions[0][:6], rtol=1e-6)
    image = demos.obs[0]["agentview"][0]
    assert image[0].min() == 255 and image[-1].max() == 0  # turned upright: white top, black bottom
    assert demos.obs[0]["proprio"].shape == (7, 9)


def test_a_run_trains_from_a_file_in_robomimics_layout_and_resumes_with_it(tmp_path):
    """Through the CLI (a subprocess, scrubbed env): 64-pixel frames resized to the run's 84, the demos
    embedded by the run's encoders, and embedded again on resume (the buffer is not saved)."""
    write_robomimic_style(tmp_path / "theirs.hdf5", [30, 30])
    common = ["total_steps=60", "horizon=30", "eval_every=0", "sac.learning_starts=20", "sac.batch_size=16",
              "fusion_dim=32", "sac.net_arch=32,32", "--no-progress"]
    done = wsa(["train", "demos=theirs.hdf5", "demos_n=2", "run_dir=run", *common], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "demos: 2 from" in done.stdout and "(58 steps" in done.stdout
    assert str(tmp_path / "theirs.hdf5") in (tmp_path / "run" / "config.yaml").read_text()  # absolute: resumable anywhere
    resumed = wsa(["train", "--resume", "run", "total_steps=80", "--no-progress"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "demos: 2 from" in resumed.stdout


class Samples:
    """Two plain replay buffers told apart by their rewards: 0 for the agent's own steps, 1 for demos."""

    @staticmethod
    def buffer(reward: float, n: int):
        from gymnasium import spaces
        from stable_baselines3.common.buffers import DictReplayBuffer

        obs_space = spaces.Dict({"x": spaces.Box(-1, 1, (2,), np.float32)})
        buffer = DictReplayBuffer(n, obs_space, spaces.Box(-1, 1, (1,), np.float32), n_envs=1)
        for _ in range(n):
            buffer.add({"x": np.zeros((1, 2))}, {"x": np.zeros((1, 2))}, np.zeros((1, 1)), np.array([reward]),
                       np.array([False]), [{}])
        return buffer


@pytest.mark.parametrize("fraction,expected", [(0.5, 128), (0.25, 64)])
def test_every_batch_draws_its_share_from_the_demos(fraction, expected):
    from wsa_robot.demos.replay import MixedReplay

    mixed = MixedReplay(Samples.buffer(0.0, 500), Samples.buffer(1.0, 40), fraction)
    for _ in range(5):
        batch = mixed.sample(256)
        assert batch.rewards.shape == (256, 1) and batch.observations["x"].shape == (256, 2)
        assert int(batch.rewards.sum()) == expected


def test_the_update_samples_from_both_buffers_and_restores_its_own(tmp_path):
    """SAC.train sees the mixed batches; the model's replay_buffer is its own again after the update."""
    from stable_baselines3.common.buffers import DictReplayBuffer

    from wsa_robot.agents.sac_update import OnePassSAC

    seen = []
    model = OnePassSAC.__new__(OnePassSAC)
    own, demos = Samples.buffer(0.0, 100), Samples.buffer(1.0, 10)
    model.replay_buffer, model.demo_replay, model.demo_fraction, model.learning_starts = own, demos, 0.5, 0
    model._train = lambda steps, batch: seen.append(model.replay_buffer.sample(batch).rewards.sum().item())
    model.train(1, 64)
    assert seen == [32.0] and model.replay_buffer is own and isinstance(own, DictReplayBuffer)
    assert "demo_replay" in model._excluded_save_params()  # a checkpoint never carries the demos


@pytest.mark.parametrize("argv,match", [
    (["train", "algo=ppo", "demos=scripted"], "off-policy"),
    (["train", "demos=null", "demos_n=3"], "without demos"),
    (["train", "demos=null", "sac.demo_bc=0.5"], "clones demonstrations"),
    (["train", "--task", "NutAssemblyRound", "demos=scripted"], "no scripted controller"),
    (["train", "demos=/nonexistent/demos.hdf5"], "no demonstrations file"),
    (["train", "encoders=ae,sim_depth"], "demos hold only the cameras' RGB"),  # Lift's default demos
])
def test_demos_a_run_cannot_use_are_one_line(capsys, argv, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(capsys, argv, match)
    assert not (tmp_path / "runs").exists()


def test_a_file_without_the_runs_camera_or_demos_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_robomimic_style(tmp_path / "theirs.hdf5", [5])
    one_line_error(capsys, ["train", "demos=theirs.hdf5", "cameras=[frontview]"], "'frontview_image'")
    one_line_error(capsys, ["train", "demos=theirs.hdf5", "demos_n=2"], "holds 1 demos")
    assert not (tmp_path / "runs").exists()


def test_demos_of_another_gripper_mode_or_reward_are_one_line(capsys, tmp_path, monkeypatch):
    """The same action size, other settings: the recorded attributes are compared with the run's."""
    monkeypatch.chdir(tmp_path)
    write_robomimic_style(tmp_path / "theirs.hdf5", [5])
    with h5py.File(tmp_path / "theirs.hdf5", "a") as f:
        f["data"].attrs["gripper"] = "binary"
    one_line_error(capsys, ["train", "demos=theirs.hdf5"], "recorded with gripper=binary, this run has gripper=incremental")
    with h5py.File(tmp_path / "theirs.hdf5", "a") as f:
        f["data"].attrs["gripper"] = "incremental"
        f["data"].attrs["reward_shaping"] = np.bool_(False)
    one_line_error(capsys, ["train", "demos=theirs.hdf5"], "reward_shaping=false, this run has reward_shaping=true")
    assert not (tmp_path / "runs").exists()


def test_a_setting_left_to_the_task_matches_the_tasks_value():
    from wsa_robot.demos.source import check_settings

    cfg, task = load_config(["task=Lift", "control_freq=20"]), load_task("Lift")
    check_settings({"control_freq": "task", "controller": b"osc_position", "reward_shaping": np.bool_(True)},
                   cfg, task, Path("d.hdf5"))
    with pytest.raises(UserError, match="control_freq=10"):
        check_settings({"control_freq": np.int64(10)}, cfg, task, Path("d.hdf5"))


def test_demos_of_another_controller_are_one_line_and_leave_no_run(capsys, lift_demos, tmp_path, monkeypatch):
    """Our file says its controller (checked before the run starts); robomimic's does not, and its action size
    is checked once the env exists."""
    monkeypatch.chdir(tmp_path)
    one_line_error(capsys, ["train", f"demos={lift_demos}", "controller=osc_pose", "total_steps=10",
                            "run_dir=run", "--no-progress"], "recorded with controller=osc_position")
    write_robomimic_style(tmp_path / "theirs.hdf5", [5])  # 4-d actions, no settings written
    one_line_error(capsys, ["train", "demos=theirs.hdf5", "controller=osc_pose", "total_steps=10",
                            "run_dir=run", "--no-progress"], "record them with the run's controller")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("task", ["Stack", "Door", "PickPlaceCan"])
def test_each_task_records_a_demo_in_seconds(task, tmp_path):
    import time

    started = time.time()
    done = record(load_config([f"task={task}"]), load_task(task), 1, tmp_path / "d.hdf5", seed=0)
    assert done.episodes[0].success and done.attempts == 1
    assert time.time() - started < 60  # a demo in seconds here (Stack ~3 s); generous for a loaded CI machine


def test_the_mixed_batch_keeps_n_step_discounts():
    """A buffer with n-step returns gives `discounts`; the joined batch keeps them, one per sample."""
    from gymnasium import spaces

    from wsa_robot.agents.nstep import DictNStepReplayBuffer
    from wsa_robot.demos.replay import MixedReplay

    space = spaces.Dict({"x": spaces.Box(-1, 1, (2,), np.float32)})

    def filled(n):
        b = DictNStepReplayBuffer(n, space, spaces.Box(-1, 1, (1,), np.float32), n_envs=1, n_steps=3, gamma=0.5)
        for t in range(n):
            b.add({"x": np.zeros((1, 2))}, {"x": np.zeros((1, 2))}, np.zeros((1, 1)), np.array([1.0]),
                  np.array([t % 10 == 9]), [{"TimeLimit.truncated": t % 10 == 9}])
        return b

    batch = MixedReplay(filled(50), filled(20), 0.5).sample(32)
    assert batch.discounts.shape == (32, 1) and torch.all(batch.discounts <= 0.5)


def test_scripted_demos_are_recorded_once_per_setting_and_copied_into_each_run(tmp_path, monkeypatch, capsys):
    """demos=scripted: the first run records into the cache (with the task's own horizon, so a short test run
    gets whole demos) and copies the file into its run dir; a second run with the same settings copies it."""
    from wsa_robot.cli.commands import main

    monkeypatch.setenv("WSA_DEMOS_DIR", str(tmp_path / "cache"))
    common = ["demos=scripted", "demos_n=1", "encoders=state", "horizon=20", "total_steps=30", "eval_every=0",
              "sac.learning_starts=10", "sac.batch_size=8", "fusion_dim=32", "sac.net_arch=32,32", "--no-progress"]
    assert main(["train", *common, f"run_dir={tmp_path / 'a'}"]) == 0
    first = capsys.readouterr().out
    assert "recorded by Lift's scripted PRIVILEGED controller" in first
    assert main(["train", *common, f"run_dir={tmp_path / 'b'}"]) == 0
    assert "recorded before for these settings" in capsys.readouterr().out
    a, b = (tmp_path / "a" / "demos.hdf5").read_bytes(), (tmp_path / "b" / "demos.hdf5").read_bytes()
    assert a == b and len(list((tmp_path / "cache").iterdir())) == 1
    with h5py.File(tmp_path / "a" / "demos.hdf5", "r") as f:
        assert f["data/demo_0"].attrs["num_samples"] > 20  # longer than the run's horizon of 20
