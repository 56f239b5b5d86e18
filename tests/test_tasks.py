import pytest

from wsa_robot.errors import UserError
from wsa_robot.tasks import check_cameras, load_task, task_files


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
