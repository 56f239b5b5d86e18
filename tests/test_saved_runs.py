"""Runs saved with an older default (WSA's linear scorer, LIN with the context) still load, evaluate and
resume as they were trained, through the CLI, also when their config.yaml predates the key."""

import json
from pathlib import Path

import pytest
import yaml

from wsa_robot.agents import load_agent, policy_extractor
from wsa_robot.cli.commands import main
from wsa_robot.run.run_dir import RunDir

TINY = ["sac.learning_starts=20", "sac.batch_size=16", "horizon=20", "fusion_dim=16", "sac.net_arch=16",
        "eval_every=0", "checkpoint_every=20", "sac.buffer_size=500", "vec_env=dummy", "sac.overlap=false",
        "cameras=agentview", "total_steps=40", "demos=null"]  # demos hold no depth, which sim_depth reads (below)


def cli(capsys, argv: list[str]) -> str:
    code = main(argv + (["--no-progress"] if argv[0] == "train" else []))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def forget(run: Path, key: str) -> None:
    """The run's config.yaml as written before `key` existed."""
    data = yaml.safe_load((run / "config.yaml").read_text())
    del data[key]
    (run / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def agent(run: Path):
    r = RunDir(run)
    return load_agent(r.read_config(), r.model_file, None)


def evaluate(capsys, run: Path) -> dict:
    cli(capsys, ["eval", str(run), "--episodes", "1"])
    return json.loads((run / "eval_summary.json").read_text())["summary"]


@pytest.mark.parametrize("key_in_config", [True, False])
def test_a_wsa_run_trained_with_the_linear_scorer_evaluates_and_resumes_with_it(in_tmp, capsys, key_in_config):
    run = Path("run")
    cli(capsys, ["train", f"run_dir={run}", "wsa_scorer=linear", *TINY])
    if not key_in_config:
        forget(run, "wsa_scorer")
    assert RunDir(run).read_config().wsa_scorer == "linear"
    assert abs(sum(evaluate(capsys, run)["weights"].values()) - 1.0) < 1e-3
    # growing rebuilds the agent from the config: a fresh additive scorer would silently replace the trained one
    before = {k: v.clone() for k, v in policy_extractor(agent(run)).scorer.state_dict().items()}
    out = cli(capsys, ["train", "--resume", str(run), "--add-encoder", "sim_depth"])
    assert "added sim_depth@agentview at step 40" in out
    grown = policy_extractor(agent(run))
    assert grown.scorer_kind == "linear"
    assert all((grown.scorer.state_dict()[k] == v).all() for k, v in before.items())  # kept, not re-initialised
    cli(capsys, ["train", "--resume", str(run), "total_steps=60"])
    assert RunDir(run).read_state()["num_timesteps"] == 60
    assert policy_extractor(agent(run)).scorer_kind == "linear"
    assert abs(sum(evaluate(capsys, run)["weights"].values()) - 1.0) < 1e-3


def test_a_lin_run_saved_before_lin_context_keeps_its_context(in_tmp, capsys):
    run = Path("run")
    # the context must not be a token, or LIN has it either way: proprio as the context only
    cli(capsys, ["train", f"run_dir={run}", "fusion=lin", "lin_context=true", "proprio=context", "context=proprio",
                 *TINY])
    forget(run, "lin_context")
    assert RunDir(run).read_config().lin_context is True
    with_context = policy_extractor(agent(run)).features_dim
    evaluate(capsys, run)
    cli(capsys, ["train", "--resume", str(run), "total_steps=60"])
    assert RunDir(run).read_state()["num_timesteps"] == 60
    assert policy_extractor(agent(run)).features_dim == with_context
    assert policy_extractor(agent(run)).keys == ["ae@agentview", "proprio"]
