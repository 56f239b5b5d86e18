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
