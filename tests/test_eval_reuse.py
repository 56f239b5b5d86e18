"""One agent and one env for many eval conditions (eval/conditions.py Evaluator) give the same episodes, to the bit,
as an env and an agent built afresh for each condition."""

import pytest

from wsa_robot.agents import load_agent
from wsa_robot.eval.conditions import Evaluator
from wsa_robot.agents.evaluate import run_episodes
from wsa_robot.run.pipeline import make_vec_env, plan
from wsa_robot.run.run_dir import RunDir
from wsa_robot.core.seeds import eval_seed

from helpers import train_tiny_lift

# intact twice (the second after the others: nothing carries over), a seeded fault (its RNG), masking off
CONDITIONS = [
    {},
    {"variation": "table_color:2"},
    {"faults": ["freeze:robot0_eye_in_hand:p=0.5"]},
    {"variation": "camera_shift", "faults": ["camera_dropout:agentview:p=0.5"], "mask_faults": False},
    {},
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("reuse") / "run"
    train_tiny_lift(run, horizon=6)
    return RunDir(run)


def fresh(run: RunDir, episodes: int, faults=None, variation=None, mask_faults=None) -> list[dict]:
    """The episodes of an env and an agent built for this condition alone (evaluate_run before the Evaluator)."""
    cfg = run.read_config()
    pipe = plan(cfg)
    venv = make_vec_env(pipe, 1, eval_seed(cfg.seed), training=False, faults=list(faults or []),
                        mask_faults=mask_faults, variation=variation)
    try:
        model = load_agent(cfg, run.checked_model_file(), None)
        return run_episodes(model, venv, episodes, pipe.token_keys)
    finally:
        venv.close()


def test_one_env_and_agent_give_the_episodes_of_fresh_ones(tiny_run, monkeypatch):
    expected = [fresh(tiny_run, 2, **c) for c in CONDITIONS]
    made = []
    monkeypatch.setattr("wsa_robot.eval.conditions.make_vec_env",
                        lambda *a, **k: made.append(1) or make_vec_env(*a, **k))
    with Evaluator(tiny_run) as evaluator:
        got = []
        for condition in CONDITIONS:
            rows = []
            monkeypatch.setattr("wsa_robot.eval.conditions.run_episodes",
                                lambda *a, **k: rows.extend(run_episodes(*a, **k)) or rows)
            evaluator.evaluate(2, **condition)
            got.append(rows)
    assert len(made) == 1  # the env was built once
    for condition, want, have in zip(CONDITIONS, expected, got):
        assert [(r["return"], r["length"], r["success"], r["weights"]) for r in have] == \
            [(r["return"], r["length"], r["success"], r["weights"]) for r in want], condition
    # the conditions did differ: the two episodes of a condition are not the same, and a variation moved a weight
    assert expected[0][0]["return"] != expected[0][1]["return"]
    assert expected[0][0]["weights"] != expected[1][0]["weights"]
