from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)  # tiny test nets gain nothing from 2 threads, and spinning OpenMP threads slow Mesa's renderer


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in a temp folder, so runs/ goes there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    """The project's tasks and configs with an empty assets folder, so pretraining writes nowhere real."""
    for name in ("tasks", "configs"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "assets").mkdir()
    monkeypatch.setenv("WSA_ROBOT_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module's tests (small convs on a shared 2-core machine), restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Seconds each slow file took on an idle 2-core machine (`pytest --durations 0`, 2026-12-07); only their order
# matters. Workers take whole files (`--dist loadfile`) in collection order, so the longest start first and the
# short ones fill in beside them: a long file drawn last would run alone at the end while the other cores idle.
SLOW_FILES = {
    "test_user_commands.py": 204, "test_demos.py": 131, "test_benchmark.py": 115, "test_sweep.py": 110,
    "test_train_run.py": 105, "test_learning.py": 102, "test_kill_resume.py": 93, "test_engine.py": 85,
    "test_run_start.py": 71, "test_run_writer.py": 58, "test_experts.py": 56, "test_saved_runs.py": 40,
    "test_save_failure.py": 39, "test_variations.py": 37, "test_adapt.py": 36, "test_interrupt.py": 34,
    "test_gym_robotics.py": 32, "test_faults.py": 32, "test_eval_reuse.py": 32, "test_old_run_dir.py": 31,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: -SLOW_FILES.get(item.path.name, 0))  # stable: a file's tests keep their order
