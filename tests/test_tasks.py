import pytest

from wsa_robot.core.errors import UserError
from wsa_robot.envs.tasks import check_cameras, load_task, task_files


def test_every_robosuite_task_loads():
    names = set(task_files())
    assert {"Lift", "Stack", "PickPlaceCan", "Door", "NutAssemblyRound"} <= names
    for name in names:
        task = load_task(name)
        assert set(task.cameras) <= set(task.available_cameras) and task.horizon > 0


def test_lift_defaults_to_two_cameras():
    assert load_task("Lift").cameras == ["agentview", "robot0_eye_in_hand"]


def test_unknown_task_and_camera_are_user_errors():
    with pytest.raises(UserError, match="unknown task 'Lfit'.*Lift"):
        load_task("Lfit")
    with pytest.raises(UserError, match="unknown camera 'topview'"):
        check_cameras(load_task("Lift"), ["agentview", "topview"])


TASK = "name: {name}\nbackend: robosuite\nenv_id: Lift\ncameras: [agentview]\navailable_cameras: [agentview]\nhorizon: 50\n"


def test_config_from_starts_a_task_config_from_another_task_and_its_own_keys_win(tmp_path, monkeypatch):
    (tmp_path / "A.yaml").write_text(TASK.format(name="A") + "config:\n  controller: osc_position\n"
                                     "  sac: {n_steps: 3, learning_rate: 0.001}\n")
    (tmp_path / "B.yaml").write_text(TASK.format(name="B") + "config_from: A\nconfig:\n  encoders: [ae]\n"
                                     "  sac: {learning_rate: 0.0003}\n")
    (tmp_path / "C.yaml").write_text(TASK.format(name="C") + "config_from: D\n")
    (tmp_path / "D.yaml").write_text(TASK.format(name="D") + "config_from: C\n")
    monkeypatch.setattr("wsa_robot.envs.tasks.data_dir", lambda name: tmp_path)
    assert load_task("B").config == {"controller": "osc_position", "encoders": ["ae"],
                                     "sac": {"n_steps": 3, "learning_rate": 0.0003}}
    with pytest.raises(UserError, match="config_from loops"):
        load_task("C")


def test_stack_learns_with_lifts_learner_stated_once():
    lift, stack = load_task("Lift").config, load_task("Stack").config
    assert stack["sac"] == lift["sac"] and stack["controller"] == lift["controller"]
    assert stack["encoders"] == ["ae_robosuite"]  # its own encoder on top
