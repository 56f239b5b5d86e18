"""Evaluate one trained run under a condition (camera faults, a visual variation) without printing, so a
script can compare the same agent across many conditions; and a small table comparing them."""

from __future__ import annotations

from rich.table import Table

from wsa_robot.agents import load_agent
from wsa_robot.eval.evaluate import run_episodes
from wsa_robot.eval.table import summary
from wsa_robot.pipeline import Pipeline, make_vec_env, plan
from wsa_robot.run_dir import RunDir
from wsa_robot.seeds import eval_seed
from wsa_robot.spec import resolve
from wsa_robot.tables import Col, fitted_table


def evaluate_run(run: RunDir, episodes: int, faults: list[str] | None = None, variation: str | None = None,
                 seed: int | None = None, mask_faults: bool | None = None, pipe: Pipeline | None = None) -> dict:
    """Deterministic episodes of the run's latest checkpoint; returns `summary()` (mean_return, std_return,
    success_rate, mean_length, weights) plus the condition: `faults` (specs, none = clean) and `variation`.
    `seed`: the first env seed (default: the run's eval seed, the same as `wsa-robot eval`);
    `mask_faults`: None keeps the run's setting. `pipe`: the run's pipeline when the caller has one (planned
    from the run's config); None: planned here."""
    cfg = run.read_config()
    model_file = run.checked_model_file()
    pipe = pipe or plan(resolve(cfg))
    venv = make_vec_env(cfg, pipe, 1, eval_seed(cfg.seed) if seed is None else seed, training=False,
                        faults=list(faults or []), mask_faults=mask_faults, variation=variation)
    try:
        model = load_agent(cfg, model_file, None)
        rows = run_episodes(model, venv, episodes, pipe.token_keys)
    finally:
        venv.close()
    return {**summary(rows), "faults": list(faults or []), "variation": variation,
            "mask_faults": cfg.mask_faults if mask_faults is None else mask_faults}


def conditions_table(results: dict[str, dict], width: int | None = None) -> Table:
    """One row per condition (name -> evaluate_run/summary dict): return and success side by side. A long
    condition (several fault specs) wraps between its specs, never inside one."""
    cols = [Col("condition", wrap=True), Col("return", justify="right"), Col("success", justify="right")]
    rows = []
    for name, s in results.items():
        rate = "-" if s.get("success_rate") is None else f"{s['success_rate']:.0%}"
        rows.append([name, f"{s['mean_return']:.2f} ± {s['std_return']:.2f}", rate])
    return fitted_table("return and success per condition", cols, rows, width)
