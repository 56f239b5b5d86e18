"""`sac.expert_steps`: the first steps of training are played by the task's scripted PRIVILEGED controller
(envs/robosuite/experts.py), so the replay buffer holds lifts before the agent has found one."""


import numpy as np
import pytest

from wsa_robot.envs.robosuite.env import RobosuiteEnv
from wsa_robot.run.replay_file import load_replay
from wsa_robot.envs.tasks import load_task

from helpers import one_line_error


@pytest.mark.parametrize("task,controller,gripper,within", [("Lift", "osc_position", "incremental", 50),
                                                          ("Lift", "osc_pose", "binary", 50),
                                                          ("Stack", "osc_position", "incremental", 110),
                                                          ("Door", "osc_pose", "incremental", 100),
                                                          ("PickPlaceCan", "osc_position", "incremental", 140)])
def test_the_controller_solves_its_task(task, controller, gripper, within):
    env = RobosuiteEnv(load_task(task), [], controller=controller, gripper=gripper, seed=3, horizon=within + 30)
    try:
        for _ in range(3):  # three placements of the objects
            env.reset()
            done = [env.step(env.expert_action())[4]["success_now"] for _ in range(within + 30)]
            assert any(done[:within]) and all(done[-20:])  # lifted (stacked) in time, and it stays so
    finally:
        env.close()


def test_training_warms_up_on_the_controllers_lifts_then_acts_itself(tmp_path):
    """Through the CLI's own env stack (an env subprocess, the overlapped update): the first 120 transitions
    are the controller's, with its lift reward; after them the policy's Gaussian actions."""
    from wsa_robot.cli.commands import main

    run = tmp_path / "run"
    assert main(["train", "encoders=state", "controller=osc_position", "horizon=60", "total_steps=160",
                 "sac.expert_steps=120", "sac.learning_starts=40", "sac.batch_size=16", "fusion_dim=32",
                 "sac.net_arch=32,32", "eval_every=0", f"run_dir={run}", "--no-progress"]) == 0
    buffer = load_replay(run / "checkpoints" / "replay_buffer.pkl")
    actions, rewards = buffer.actions[:160, 0], buffer.rewards[:160, 0]
    gripper = actions[:, -1]
    assert set(np.unique(gripper[:120])) == {-1.0, 1.0}  # the controller holds its gripper open, then closed
    assert rewards[:60].max() == pytest.approx(1.0)  # lifted in the first episode: 2.25 / 2.25
    assert not np.isin(gripper[120:], [-1.0, 1.0]).all()  # the agent's own actions after the warm-up


def test_tasks_without_a_controller_refuse_expert_steps_in_one_line(capsys):
    one_line_error(capsys, ["train", "--task", "NutAssemblyRound", "sac.expert_steps=100"], "has no scripted controller")
    one_line_error(capsys, ["train", "--task", "fetch/Push", "sac.expert_steps=100"], "has no scripted controller")
