import os

import pytest
import torch

os.environ.setdefault("MUJOCO_GL", "egl")
torch.set_num_threads(1)  # tiny test nets gain nothing from 2 threads, and spinning OpenMP threads slow Mesa's renderer


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in a temp folder, so runs/ goes there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
