"""`wsa-robot sweep`: a grid of ordinary runs (tasks x fusion x encoder sets x seeds, any config key), run on
Ray Tune, resumed trial by trial, and aggregated into one table with learning curves.

spec.py reads the sweep YAML, grid.py expands and checks it (no Ray), the engine's Ray executor runs its trials
(engine/ray_runner.py, the only module that imports ray), report.py aggregates run dirs into summary.csv /
summary.md / curves (no Ray)."""

from wsa_robot.sweep.grid import Trial, check_trials, expand
from wsa_robot.sweep.spec import SweepSpec, load_sweep

__all__ = ["SweepSpec", "Trial", "check_trials", "expand", "load_sweep"]
