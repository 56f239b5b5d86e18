"""`wsa-robot bench`: WSA and E2E trained side by side on an Atari game, scored over whole games, written as
results JSON + PNG (short games: horizon=400 ALE frames, one PPO iteration)."""

import json
import re
from pathlib import Path

import pytest

from helpers import one_line_error, FakeProcess


def test_bench_trains_wsa_and_e2e_and_writes_curves_scores_and_a_plot(tmp_path, capsys):
    from wsa_robot.cli.commands import main

    out = tmp_path / "results" / "atari_pong.json"
    argv = ["bench", "--task", "atari/Pong", "--steps", "1024", "--eval-every", "1024", "--eval-episodes", "1",
            "--final-episodes", "3", "--runs-root", str(tmp_path / "runs"), "--out", str(out), "horizon=400"]
    assert main(argv) == 0
    said = capsys.readouterr().out  # a bench runs for hours: it says what each run does as it happens
    for name in ("pong-wsa-seed1", "pong-e2e-seed1"):
        assert re.search(rf"{name}: new run, to 1,024 agent steps on \d threads?\n", said), said
        assert f"{name}: step 1,024, eval" in said
        assert f"{name}: reached the budget at step 1,024" in said
    assert "scoring 2 run(s): 3 whole games each" in said
    assert f"each run's output: {tmp_path / 'runs' / 'logs'}/<run>.log" in said
    assert all(len(line) <= 80 for line in said.splitlines() if line.startswith("pong-")), said
    result = json.loads(out.read_text())
    assert result["game"] == "Pong" and [r["fusion"] for r in result["runs"]] == ["wsa", "e2e"]
    from wsa_robot.core.provenance import valid

    assert valid(result["provenance"]) == []  # the command is this process's (pytest) here
    for row in result["runs"]:
        assert row["steps"] == 1024 and row["episodes"] == 3 and row["seed"] == 1
        assert row["curve"] and row["curve"][-1][0] == 1024
        assert -21 <= row["final_mean"] <= 21 and row["final_std"] >= 0
        assert row["wall_s"] > 0 and row["agent_steps_per_s"] > 0
    wsa, e2e = result["runs"]  # what WSA read, saved beside its scores: defaults change, the file stays
    assert wsa["wsa_scorer"] == "scaled" and wsa["context"] == "ae_atari_pong@screen" and len(wsa["encoders"]) == 4
    assert "wsa_scorer" not in e2e and "encoders" not in e2e
    assert out.with_suffix(".png").stat().st_size > 1000
    # finished runs are kept, not retrained; --report-only scores them again
    walls = [r["wall_s"] for r in result["runs"]]
    assert main(argv[:1] + ["--report-only"] + argv[1:]) == 0
    assert [r["wall_s"] for r in json.loads(out.read_text())["runs"]] == walls
    # a bench call ended by a session stop never adds its seconds: the run's own checkpointed wall still counts
    for row in result["runs"]:
        (Path(row["run"]) / "bench_wall.json").unlink()
    assert main(argv[:1] + ["--report-only"] + argv[1:]) == 0
    walls = [r["wall_s"] for r in json.loads(out.read_text())["runs"]]
    assert all(w > 0 for w in walls)
    capsys.readouterr()
    assert main(argv) == 0  # the same call again: both runs reached the budget, neither is resumed
    assert "pong-wsa-seed1: done at step 1,024; kept as it is" in capsys.readouterr().out
    assert [r["wall_s"] for r in json.loads(out.read_text())["runs"]] == walls


def test_bench_runs_on_a_robot_task_too(tmp_path, capsys):
    """Issue 37: the bench is not Atari's alone. A tiny Lift bench (the state oracle, so no encoder loads): its run
    trains, is scored over whole episodes and lands in results/bench_lift.json's schema, the Atari one's."""
    from wsa_robot.cli.commands import main

    out = tmp_path / "bench_lift.json"
    argv = ["bench", "--task", "Lift", "--fusions", "wsa", "--steps", "40", "--eval-every", "40", "--eval-episodes",
            "1", "--final-episodes", "2", "--runs-root", str(tmp_path / "runs"), "--out", str(out), "encoders=state",
            "horizon=20", "sac.learning_starts=20", "sac.batch_size=8", "sac.net_arch=16,16", "fusion_dim=16"]
    assert main(argv) == 0
    assert "lift-wsa-seed1: reached the budget at step 40" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["game"] == "Lift" and result["task"] == "Lift"
    row, = result["runs"]
    assert row["steps"] == 40 and row["episodes"] == 2 and row["curve"][-1][0] == 40 and row["encoders"] == ["state"]
    assert out.with_suffix(".png").exists()


@pytest.mark.parametrize("argv, match", [
    (["bench", "--task", "NoSuchTask"], "unknown task 'NoSuchTask'"),  # any backend's task is benched (issue 37)
    (["bench", "--fusions", "wsa,attention"], "unknown fusion 'attention'"),
    (["bench", "--seeds", "1,two"], "--seeds takes comma-separated integers"),
    (["bench", "no_such_key=1"], "no_such_key"),
])
def test_bench_arguments_a_user_can_get_wrong_are_one_line(capsys, argv, match):
    one_line_error(capsys, argv, match)


def test_report_only_without_runs_says_what_to_do(capsys, tmp_path):
    one_line_error(capsys, ["bench", "--report-only", "--runs-root", str(tmp_path)], "without --report-only first")


def test_a_run_that_reaches_the_target_stops_there_and_is_not_resumed(tmp_path, capsys, monkeypatch):
    """--target: the bench stops a run whose periodic eval reaches the score (any Pong score reaches -21), the
    results say where, and a second call leaves it alone although it is short of the step budget. Its final
    score is played on fresh games (seed stream `final`), never the check's (issue 37: a final conditioned on
    having passed the check is biased), and kept: a second report does not play them again."""
    from wsa_robot.studies import benchmark
    from wsa_robot.cli.commands import main

    out = tmp_path / "pong.json"
    # the bench stops a run by polling its evals: a budget far past the first eval keeps a slow poll on a busy
    # machine from letting the run reach its budget first
    argv = ["bench", "--task", "atari/Pong", "--steps", "16384", "--eval-every", "1024", "--eval-episodes", "1",
            "--final-episodes", "1", "--fusions", "e2e", "--target", "-21", "--runs-root", str(tmp_path / "runs"),
            "--out", str(out), "horizon=400"]
    assert main(argv) == 0
    assert "pong-e2e-seed1: reached the target at step" in capsys.readouterr().out
    row = json.loads(out.read_text())["runs"][0]
    target = row["stopped_at_target"]
    assert target["eval_step"] == 1024 and target["target"] == -21 and target["held"] and target["episodes"] == 1
    assert row["target_checks"] == [target]
    assert 1024 <= row["steps"] < 16384 and "fresh games" in row["final_protocol"]
    kept = json.loads((Path(row["run"]) / benchmark.FINAL_FILE).read_text())
    assert kept["step"] == row["steps"] and kept["scores"] == [row["final_mean"]]
    monkeypatch.setattr(benchmark, "final_scores", lambda *_: pytest.fail("scored the checked games again"))
    monkeypatch.setattr(benchmark, "fresh_final_scores", lambda *_: pytest.fail("played the final games again"))
    assert main(argv) == 0
    again = json.loads(out.read_text())["runs"][0]
    assert again["steps"] == row["steps"] and again["final_mean"] == row["final_mean"]


def test_a_run_killed_before_its_first_checkpoint_resumes_rather_than_restarting_into_its_own_dir(tmp_path):
    """A run dir holding config.yaml but no checkpoint yet (killed by SIGKILL early) is resumed, as
    `wsa-robot train --resume` starts it from step 0; a new run there would be refused ("already holds a run")."""
    from wsa_robot.studies.benchmark import bench_spec, job, run_path
    from wsa_robot.config import load_config
    from wsa_robot.run.run_dir import RunDir

    spec = bench_spec("atari/Pong", 1024, "1", "e2e", 1024, 1, 1, None, tmp_path, [])
    path = run_path(spec, "e2e", 1)
    assert "--resume" not in job(spec, "e2e", 1).child_command()
    path.mkdir(parents=True)
    RunDir(path).write_config(load_config(["task=atari/Pong", "fusion=e2e", f"run_dir={path}"]))
    assert "--resume" in job(spec, "e2e", 1).child_command()


class FakeTraining(FakeProcess):
    """A `wsa-robot train` process: E2E reaches the target at once; WSA trains until SIGTERM (then it
    checkpoints and exits 0) or 50 polls, and a restarted WSA ends on its own a few polls later."""

    commands: list[list[str]] = []

    def __init__(self, cmd, **_):
        from wsa_robot.core.atomic import write_json
        from wsa_robot.engine.target import TARGET_FILE

        self.cmd, self.returncode, self.polls = cmd, None, 0
        FakeTraining.commands.append(cmd)
        run_dir = Path(next(a for a in cmd if a.startswith("run_dir=")).split("=", 1)[1])
        if "fusion=e2e" in cmd:
            run_dir.mkdir(parents=True, exist_ok=True)
            write_json(run_dir / TARGET_FILE, {"step": 1024, "mean_return": 21.0, "target": 18.0})
            self.returncode = 0
        self.restarted = sum("fusion=wsa" in c for c in FakeTraining.commands) > 1

    def poll(self):
        self.polls += 1
        if self.polls > (3 if self.restarted else 50):  # a WSA never restarted ends too (the old bench)
            self.returncode = 0
        return self.returncode



def test_the_cores_of_a_finished_run_go_to_the_runs_still_training(tmp_path, monkeypatch, capsys):
    """Two runs on 2 cores train on one thread each; when E2E stops at the target, WSA is checkpointed and
    resumed on both threads, and both runs report their seconds in this call."""
    from wsa_robot.engine import side_by_side
    from wsa_robot.studies import benchmark

    monkeypatch.setattr(side_by_side.subprocess, "Popen", FakeTraining)
    monkeypatch.setattr(side_by_side.time, "sleep", lambda _s: None)
    FakeTraining.commands = []
    spec = benchmark.bench_spec("atari/Pong", 4096, "1", "wsa,e2e", 1024, 1, 1, None, tmp_path, [], target=18)
    spec.cores = 2
    seconds = benchmark.train_all(spec, tmp_path / "logs")
    threads = [(next(a for a in c if a.startswith("fusion=")), next(a for a in c if a.startswith("torch_threads")))
               for c in FakeTraining.commands]
    assert threads == [("fusion=wsa", "torch_threads=1"), ("fusion=e2e", "torch_threads=1"),
                       ("fusion=wsa", "torch_threads=2")]
    said = capsys.readouterr().out
    assert "pong-wsa-seed1: restarting on 2 threads" in said
    assert set(seconds) == {"pong-wsa-seed1", "pong-e2e-seed1"}


def test_a_bench_resumed_with_one_run_left_gives_it_every_core(tmp_path, monkeypatch, capsys):
    """The same hand-over across calls: E2E already stopped at the target, so WSA starts on both threads."""
    from wsa_robot.engine import side_by_side
    from wsa_robot.studies import benchmark
    from wsa_robot.core.atomic import write_json
    from wsa_robot.engine.target import TARGET_FILE

    monkeypatch.setattr(side_by_side.subprocess, "Popen", FakeTraining)
    monkeypatch.setattr(side_by_side.time, "sleep", lambda _s: None)
    FakeTraining.commands = [["fusion=wsa"]]  # so the WSA process ends on its own
    spec = benchmark.bench_spec("atari/Pong", 4096, "1", "wsa,e2e", 1024, 1, 1, None, tmp_path, [], target=18)
    spec.cores = 2
    write_json(benchmark.run_path(spec, "e2e", 1) / TARGET_FILE, {"step": 1024, "mean_return": 21.0,
                                                                             "target": 18.0})
    benchmark.train_all(spec, tmp_path / "logs")
    assert "torch_threads=2" in FakeTraining.commands[-1]
    assert "pong-wsa-seed1: new run, to 4,096 agent steps on 2 threads" in capsys.readouterr().out


def test_runs_of_several_bench_files_plot_together_labelled_by_scorer(tmp_path, capsys):
    """scripts/plot_bench.py: WSA scorers trained by separate bench calls, in one plot beside E2E."""
    import importlib.util

    from wsa_robot.studies.benchmark import run_label

    spec = importlib.util.spec_from_file_location("plot_bench", Path(__file__).parents[1] / "scripts" / "plot_bench.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    def row(fusion, **reads):
        return {"fusion": fusion, "seed": 1, "curve": [[100000, -20.0], [200000, -5.0]], "final_mean": -5.0,
                "final_std": 1.0, **reads}

    files = []
    for name, runs in {"a": [row("wsa", wsa_scorer="additive"), row("e2e")], "b": [row("wsa", wsa_scorer="scaled")]}.items():
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps({"game": "Pong", "target": 18, "runs": runs}))
    assert [run_label(r) for r in script.merged(files)["runs"]] == ["WSA (additive)", "E2E", "WSA (scaled)"]
    assert script.main([*map(str, files), "--out", str(tmp_path / "both.png")]) == 0
    assert (tmp_path / "both.png").stat().st_size > 1000
    other = tmp_path / "c.json"
    other.write_text(json.dumps({"game": "Breakout", "target": None, "runs": [row("e2e")]}))
    assert script.main([str(files[0]), str(other), "--out", str(tmp_path / "x.png")]) == 2
    assert "different games (Breakout, Pong)" in capsys.readouterr().err


@pytest.mark.parametrize("game, scores, band_drawn", [("Breakout", [2.0, 30.0], False), ("Pong", [-21.0, 19.0], True)])
def test_the_published_band_is_drawn_unless_it_would_squeeze_the_curves(monkeypatch, tmp_path, game, scores,
                                                                        band_drawn):
    """Breakout's published 10M-step scores (398-415) above a 1M-step curve at 30: named in the legend, off the
    axes, so the curves keep the plot's height; Pong's (20.4-21.0) sit on the scale and are drawn."""
    from wsa_robot.studies import benchmark
    from wsa_robot.eval import plots

    drawn = {}
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: drawn.setdefault("ax", fig.axes[0]))
    row = {"fusion": "e2e", "seed": 1, "curve": [[100000, scores[0]], [200000, scores[1]]], "final_mean": scores[1],
           "final_std": 1.0}
    benchmark.plot({"game": game, "target": None, "runs": [row]}, tmp_path / "x.png")
    ax = drawn["ax"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("published, same PPO at 10M steps") for t in legend)
    assert any("far above this scale" in t for t in legend) == (not band_drawn)
    top = ax.get_ylim()[1]
    assert top >= 20.99 if band_drawn else top < 60  # Pong's band reaches 20.99; Breakout's would lift it to 415


def test_the_plot_shows_the_whole_game_checks_of_evals_at_the_target(monkeypatch, tmp_path):
    """A 5-game eval at the target with a 30-game check under it: the check is drawn where it was scored, with
    its spread, so the plot shows why the run trained on."""
    from wsa_robot.studies import benchmark
    from wsa_robot.eval import plots

    drawn = {}
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: drawn.setdefault("ax", fig.axes[0]))
    check = {"eval_step": 2_300_000, "step": 2_300_184, "mean_return": 13.9, "std": 7.6, "episodes": 30}
    row = {"fusion": "wsa", "seed": 1, "curve": [[2_200_000, 15.8], [2_300_000, 18.0]], "final_mean": 19.0,
           "final_std": 1.0, "target_checks": [check]}
    benchmark.plot({"game": "Pong", "target": 18, "runs": [row]}, tmp_path / "x.png")
    ax = drawn["ax"]
    assert "30 games where an eval hit the target" in [t.get_text() for t in ax.get_legend().get_texts()]
    marks = [line for line in ax.get_lines() if line.get_marker() == "D"]
    assert [(list(m.get_xdata()), list(m.get_ydata())) for m in marks] == [([2_300_184], [13.9])]


def test_the_plot_gives_each_method_one_colour_and_each_seed_its_own_line_style(monkeypatch, tmp_path):
    """Two seeds of WSA and E2E on one plot (a bench with --seeds 1,2, or plot_bench.py over several files):
    a reader tells the methods apart by colour and the seeds by line. Before, each run had a colour of its
    own, so four runs read as four methods."""
    from wsa_robot.studies import benchmark
    from wsa_robot.eval import plots

    drawn = {}
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: drawn.setdefault("ax", fig.axes[0]))
    rows = [{"fusion": fusion, "seed": seed, "curve": [[100000, -21.0], [200000, 5.0 * seed]], "final_mean": 1.0,
             "final_std": 1.0, **({"wsa_scorer": "scaled"} if fusion == "wsa" else {})}
            for fusion in ("wsa", "e2e") for seed in (1, 2)]
    benchmark.plot({"game": "Pong", "target": 18, "runs": rows}, tmp_path / "x.png")
    curves = {line.get_label().split(" (final")[0]: line for line in drawn["ax"].get_lines()
              if line.get_label().endswith(")") and "seed" in line.get_label()}
    assert sorted(curves) == ["E2E seed 1", "E2E seed 2", "WSA (scaled) seed 1", "WSA (scaled) seed 2"]
    colour = {name: line.get_color() for name, line in curves.items()}
    style = {name: line.get_linestyle() for name, line in curves.items()}
    assert colour["WSA (scaled) seed 1"] == colour["WSA (scaled) seed 2"] != colour["E2E seed 1"]
    assert colour["E2E seed 1"] == colour["E2E seed 2"]
    assert style["WSA (scaled) seed 1"] == style["E2E seed 1"] != style["WSA (scaled) seed 2"] == style["E2E seed 2"]


def test_each_env_plays_a_fixed_share_of_the_games_to_their_end():
    """Env 0's games last 2 steps and score 1, env 1's last 7 and score 0: 6 games are 3 of each (mean 0.5),
    not the 6 that end first (5 short ones and 1 long: mean 0.83)."""
    import numpy as np

    from wsa_robot.studies.benchmark import games_by_share, shares

    assert shares(30, 8) == [4, 4, 4, 4, 4, 4, 3, 3] and sum(shares(7, 3)) == 7

    class Envs:
        t = 0

        def reset(self):
            return np.zeros((2, 1))

        def step(self, action):
            self.t += 1
            ends = [self.t % 2 == 0, self.t % 7 == 0]
            infos = [{"episode": {"r": r}} if e else {} for e, r in zip(ends, (1.0, 0.0))]
            return np.zeros((2, 1)), np.zeros(2), np.array(ends), infos

    class Agent:
        def predict(self, obs, deterministic):
            return np.zeros(len(obs)), None

    games = games_by_share(Agent(), Envs(), shares(6, 2))
    assert len(games) == 6 and np.mean([score for score, _ in games]) == 0.5


ROOT = Path(__file__).resolve().parents[1]


def bench_spec_of(monkeypatch, argv: list[str]):
    """The spec (and results path) `wsa-robot bench ARGV` would run, without training or scoring."""
    from wsa_robot.cli.commands import main
    from wsa_robot.studies import benchmark

    got = {}

    def capture(spec, out, train=True):
        got.update(spec=spec, out=out)
        return {"runs": []}

    monkeypatch.setattr(benchmark, "benchmark", capture)
    assert main(argv) == 0
    return got["spec"], got["out"]


def test_the_pong_bench_spec_is_the_command_that_made_its_results_file(monkeypatch):
    """configs/bench_pong.yaml: the bench as a spec of the engine, the same spec as the command line that made
    results/atari_pong.json (its provenance), into the same results file."""
    import dataclasses

    made_by = json.loads((ROOT / "results" / "atari_pong.json").read_text())["provenance"]["command"]
    assert "bench --task atari/Pong --steps 3000000 --eval-every 100000 --target 18" in made_by
    by_file = bench_spec_of(monkeypatch, ["bench", "--plan", str(ROOT / "configs" / "bench_pong.yaml")])
    by_line = bench_spec_of(monkeypatch, ["bench", "--task", "atari/Pong", "--steps", "3000000", "--eval-every",
                                          "100000", "--target", "18"])
    assert dataclasses.asdict(by_file[0]) == dataclasses.asdict(by_line[0]) and by_file[1] == by_line[1]
    assert by_file[1] == Path("results/atari_pong.json") and by_file[0].fusions == ["wsa", "e2e"]


def test_options_on_the_command_line_override_the_bench_spec(monkeypatch, tmp_path):
    spec_file = tmp_path / "b.yaml"
    spec_file.write_text("bench:\n  task: atari/Pong\n  fusions: [e2e]\n  seeds: [1, 2]\n  steps: 5000\n"
                         "  overrides: [horizon=400]\n")
    spec, _ = bench_spec_of(monkeypatch, ["bench", "--plan", str(spec_file), "--steps", "1024", "wsa_scorer=scaled"])
    assert (spec.steps, spec.seeds, spec.fusions) == (1024, [1, 2], ["e2e"])
    assert spec.overrides == ("horizon=400", "wsa_scorer=scaled") and spec.eval_every == 40_000  # the default


@pytest.mark.parametrize("text, match", [
    ("bench:\n  task: atari/Pong\n  step: 10\n", "unknown bench key 'step'; did you mean steps?"),
    ("bench:\n  seeds: one\n", "seeds"),
    ("task: Lift\nruns: []\n", "is not a bench spec"),
])
def test_bench_spec_mistakes_are_one_line(capsys, tmp_path, text, match):
    (tmp_path / "b.yaml").write_text(text)
    one_line_error(capsys, ["bench", "--plan", str(tmp_path / "b.yaml")], match)


def test_a_bench_spec_given_to_plan_says_to_run_it_with_bench(capsys):
    one_line_error(capsys, ["plan", str(ROOT / "configs" / "bench_pong.yaml")],
                   "is a bench spec; run it with `wsa-robot bench --plan")
