from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)  # tiny test nets gain nothing from 2 threads, and spinning OpenMP threads slow Mesa's renderer


# The files that take longest on 2 cores (`make test` lists the slowest tests), sent to the workers first: a
# worker runs one file at a time, and a long file handed out last kept one worker busy after the other ran
# out. The Makefile's --no-loadscope-reorder makes xdist keep this order (its own puts files with many tests first).
SLOW_FILES_FIRST = ("test_user_commands.py", "test_sweep.py", "test_train_run.py", "test_learning.py",
                    "test_kill_resume.py", "test_benchmark.py", "test_saved_runs.py", "test_faults.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's tests keep their order


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
