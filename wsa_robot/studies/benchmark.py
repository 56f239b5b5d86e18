"""`wsa-robot bench --task T` (or `--plan FILE`, a bench spec: configs/bench_pong.yaml): WSA against E2E (or any
fusions) on one task of any backend, for a step budget and seeds, as the paper's Atari comparison. Writes results/atari_<game>.json (results/bench_<task>.json for the
other backends) and a PNG of the learning curves. The scores are episode returns (for a game, whole games).

The bench is a spec of the engine: each (fusion, seed) is an ordinary run dir under `runs_root`, an engine job
(engine/jobs.py) trained by `wsa-robot train` in its own process, all side by side so they share the machine
alike (engine/side_by_side.py: the cores a finished run frees go to those still training; a run already
finished is kept and an unfinished one resumes). `deadline_min` stops every run still training at that time
with SIGTERM (a checkpoint, then exit) and benchmarks what is there. `target` is the engine's target-stop rule
(engine/target.py): a periodic eval (a few games) that reaches it stops the run, and `final_episodes` games from
that checkpoint decide; if they hold the target the run is done there and never resumed, else it resumes. Ctrl-C
or SIGTERM to the bench stops every run with a checkpoint first, and the same command resumes them; a run never
outlives its bench (even one killed). This module says what to run, scores the runs and reports them. The
final score is `final_episodes` whole games (deterministic policy, real scores: no life loss, no reward
clipping) on up to 8 envs at once, from the last checkpoint.
"""

from __future__ import annotations

# Imports inside functions: torch, stable-baselines3 and matplotlib, so `wsa-robot bench --help` and a plan check start fast.

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wsa_robot.core.atomic import write_json
from wsa_robot.engine.aggregate import iqm_ci
from wsa_robot.engine.curves import Mark, Panel, Reference, Series, plot_curves
from wsa_robot.engine.side_by_side import SideBySide, threads_each
from wsa_robot.engine.target import TargetStop, read_checks, read_target
from wsa_robot.config import RunConfig
from wsa_robot.core.errors import UserError
from wsa_robot.engine.jobs import Job
from wsa_robot.run.run_dir import RunDir


@dataclass
class BenchSpec:
    game: str  # the task's last name part (Pong, Lift, Reach): run dir names, the results file, the plot
    steps: int
    seeds: list[int]
    fusions: list[str]
    eval_every: int = 40_000
    eval_episodes: int = 5
    final_episodes: int = 30
    runs_root: Path = Path("runs/bench")
    deadline_min: float | None = None
    target: float | None = None  # a run whose periodic eval mean reaches this stops (budget or target first)
    cores: int = 1  # torch threads shared by the runs training at a time (os.cpu_count())
    overrides: tuple[str, ...] = ()  # more `key=value` for every run, e.g. horizon=4000 for short games
    task: str = ""  # the task's full name (atari/Pong, Lift, fetch/Reach); "": atari/<game>

    def __post_init__(self) -> None:
        self.task = self.task or f"atari/{self.game}"

    @property
    def default_out(self) -> Path:
        """results/atari_<game>.json for a game (the files the docs quote), results/bench_<task>.json else."""
        game = self.task.startswith("atari/")
        return Path("results") / f"{'atari' if game else 'bench'}_{self.game.lower()}.json"


def bench_spec(task: str, steps: int, seeds: str, fusions: str, eval_every: int, eval_episodes: int,
               final_episodes: int, deadline_min: float | None, runs_root: Path, overrides: list[str],
               target: float | None = None) -> BenchSpec:
    """The spec of `wsa-robot bench`, after checking every argument (a UserError names the fix)."""
    from wsa_robot.config import load_config
    from wsa_robot.fusion import FUSIONS
    from wsa_robot.run.spec import resolve
    from wsa_robot.envs.tasks import load_task

    spec_task = load_task(task)
    names = [f.strip() for f in fusions.split(",") if f.strip()]
    unknown = [f for f in names if f not in FUSIONS]
    if unknown or not names:
        raise UserError(f"unknown fusion {unknown[0] if unknown else fusions!r}; choose from: {', '.join(FUSIONS)}")
    try:
        seed_list = [int(x) for x in seeds.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"--seeds takes comma-separated integers, e.g. 1,2,3; got {seeds!r}") from None
    load_config([f"task={task}", *overrides])  # a bad override fails here, not in every run's process
    for fusion in names:  # and so does a run that `wsa-robot train` would refuse (encoders, context, ...)
        resolve(load_config([f"task={task}", f"fusion={fusion}", *overrides]))
    return BenchSpec(spec_task.name.rsplit("/", 1)[-1], steps, seed_list, names, eval_every, eval_episodes,
                     final_episodes, runs_root, deadline_min, target, cores=os.cpu_count() or 1,
                     overrides=tuple(overrides), task=spec_task.name)


BENCH_KEYS = ("task", "fusions", "seeds", "steps", "eval_every", "eval_episodes", "final_episodes", "target",
              "overrides")


class BenchFile(BaseModel):
    """A bench spec file's `bench:` mapping (configs/bench_pong.yaml): any of BENCH_KEYS, named and typed as the
    `wsa-robot bench` options of the same names (lists where the options take comma-separated values)."""
    model_config = ConfigDict(extra="forbid")
    task: Optional[str] = None
    fusions: Optional[list[str]] = None
    seeds: Optional[list[int]] = None
    steps: Optional[int] = Field(None, gt=0)
    eval_every: Optional[int] = Field(None, gt=0)
    eval_episodes: Optional[int] = Field(None, gt=0)
    final_episodes: Optional[int] = Field(None, gt=0)
    target: Optional[float] = None
    overrides: Optional[list[str]] = None


def read_bench_file(path: Path) -> dict:
    """The settings a bench spec file gives, as the bench command's arguments (seeds and fusions
    comma-separated); every mistake a UserError."""
    import difflib

    import yaml

    if not path.exists():
        raise UserError(f"bench spec {path} does not exist (see configs/bench_pong.yaml)")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        raise UserError(f"{path} is not valid YAML; fix the file") from None
    if not isinstance(data, dict) or set(data) != {"bench"} or not isinstance(data["bench"], dict):
        raise UserError(f"{path} is not a bench spec: it holds one mapping `bench:` of {', '.join(BENCH_KEYS)} "
                        "(see configs/bench_pong.yaml; a plan of runs goes to `wsa-robot plan`)")
    for key in data["bench"]:
        if key not in BENCH_KEYS:
            close = difflib.get_close_matches(str(key), BENCH_KEYS, n=1, cutoff=0.5)
            raise UserError(f"{path}: unknown bench key {key!r}; " +
                            (f"did you mean {close[0]}?" if close else f"a bench spec has {', '.join(BENCH_KEYS)}"))
    try:
        given = BenchFile(**data["bench"]).model_dump(exclude_unset=True)
    except ValidationError as e:
        err = e.errors()[0]
        raise UserError(f"{path}: bad {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    for key in ("seeds", "fusions"):
        if key in given:
            given[key] = ",".join(map(str, given[key]))
    return given


def bench_settings(path: Path, settings: dict, given: set[str]) -> dict:
    """The bench command's `settings` (by BENCH_KEYS) with the spec file's values, except those `given` on the
    command line, which win; the file's overrides come first and the command line's after them."""
    out = dict(settings)
    for key, value in read_bench_file(path).items():
        if key == "overrides":
            out[key] = [*value, *settings.get(key, [])]
        elif key not in given:
            out[key] = value
    return out


def run_path(spec: BenchSpec, fusion: str, seed: int) -> Path:
    return spec.runs_root / f"{spec.game.lower()}-{fusion}-seed{seed}"


def job(spec: BenchSpec, fusion: str, seed: int, threads: int = 1) -> Job:
    """The run of (fusion, seed) as an engine job: its run dir, the budget, a new run's settings."""
    path = run_path(spec, fusion, seed)
    return Job(path.name, path, spec.steps, (
        f"task={spec.task}", f"fusion={fusion}", f"seed={seed}", f"total_steps={spec.steps}",
        f"eval_every={spec.eval_every}", f"eval_episodes={spec.eval_episodes}", *spec.overrides), threads,
        spec.eval_every, spec.eval_episodes)


def say(line: str) -> None:
    print(line, flush=True)  # a bench runs for hours, often into a log file: every line as it comes


def train_all(spec: BenchSpec, log_dir: Path, say: Callable[[str], None] = say) -> dict[str, float]:
    """Train every (fusion, seed) side by side (the engine's side-by-side executor, with the target-stop rule
    when the spec has a target); returns this call's training seconds per run name. Runs whose checkpoint
    already reached the budget or the target are left alone; `say` gets a line per run as it starts, at each
    of its periodic evals and when it stops."""
    rule = None if spec.target is None else target_rule(spec.task, spec.target, spec.final_episodes)
    runner = SideBySide(log_dir, spec.cores, spec.deadline_min, rule, episode_unit(spec.task))
    return runner.run([job(spec, f, s) for f in spec.fusions for s in spec.seeds], say)


def episode_unit(task: str) -> str:
    return "game" if task.startswith("atari/") else "episode"


def target_rule(task: str, target: float, episodes: int) -> TargetStop:
    """The engine's target-stop rule for runs of `task`: an eval at `target` is checked over `episodes` whole
    episodes (games) from the run's checkpoint (final_scores). The bench's, and `wsa-robot plan/sweep --target`."""
    return TargetStop(target, episodes, final_scores, episode_unit(task))


def shares(episodes: int, n_envs: int) -> list[int]:
    """How many games each of `n_envs` envs plays so that `episodes` are scored: a fixed share each (the first
    envs one more when they do not divide), decided before any game starts. Taking the first `episodes` games
    to end instead keeps the short ones: on Pong seed 2, E2E's first 16 games averaged 20.75, the last 14 17.36."""
    return [episodes // n_envs + (i < episodes % n_envs) for i in range(n_envs)]


def final_scores(path: Path, episodes: int, n_envs: int = 8) -> tuple[list[float], int]:
    """A target check's games (seed stream `bench`): see play_games."""
    return play_games(path, episodes, "bench", n_envs)


def fresh_final_scores(path: Path, episodes: int, n_envs: int = 8) -> tuple[list[float], int]:
    """A run's final score (seed stream `final`), on games no target check played: see play_games."""
    return play_games(path, episodes, "final", n_envs)


def play_games(path: Path, episodes: int, stream: str, n_envs: int = 8) -> tuple[list[float], int]:
    """Real game scores of `episodes` whole deterministic games from the run's last checkpoint, and how many
    of those games stalled (ended early for making no progress: envs/atari/stall.py). At most `n_envs` envs play at
    once, each its fixed share of the games (`shares`), every game it starts played to its end; `stream`
    names the run's seed stream (spec.Seeds) the envs are seeded from."""
    from wsa_robot.agents import load_agent
    from wsa_robot.run.pipeline import make_vec_env, plan
    from wsa_robot.run.spec import resolve

    run = RunDir(path)
    spec = resolve(run.read_config())
    cfg = spec.cfg
    quota = shares(episodes, min(n_envs, episodes))
    venv = make_vec_env(plan(spec), len(quota), getattr(spec.seeds, stream), training=False)
    try:
        played = games_by_share(load_agent(cfg, run.checked_model_file(), None), venv, quota)
        return [score for score, _ in played], sum(stalled for _, stalled in played)
    finally:
        venv.close()


def games_by_share(model, venv, quota: list[int]) -> list[tuple[float, bool]]:
    """(score, stalled) of the first quota[i] games env i ends, env by env; the envs step until every share
    is played (an env past its share plays on, uncounted, while the others finish)."""
    games: list[list[tuple[float, bool]]] = [[] for _ in quota]
    obs = venv.reset()
    while any(len(g) < q for g, q in zip(games, quota)):
        action, _ = model.predict(obs, deterministic=True)
        obs, _, dones, infos = venv.step(action)
        for i, (done, info) in enumerate(zip(dones, infos)):
            if done and "episode" in info and len(games[i]) < quota[i]:
                games[i].append((float(info["episode"]["r"]), bool(info.get("stalled"))))
    return [game for env_games in games for game in env_games]


WALL_FILE = "bench_wall.json"  # a run's training seconds over every bench call that trained it


def read_wall(path: Path) -> float | None:
    """The run's training seconds over every bench call so far; None if no bench call trained it."""
    file = path / WALL_FILE
    return float(json.loads(file.read_text())["train_wall_s"]) if file.exists() else None


def add_wall(path: Path, seconds: float) -> None:
    write_json(path / WALL_FILE, {"train_wall_s": round((read_wall(path) or 0.0) + seconds, 1)})


FINAL_FILE = "bench_final.json"  # a run's final score, kept so a report does not play the games again
FINAL_PROTOCOL = ("fresh games (seed stream final, disjoint from the target checks'), a fixed share per env, "
                  "every game played to its end")


def final_score(path: Path, step: int, episodes: int) -> tuple[list[float], int]:
    """The run's final score at checkpoint `step` over `episodes` fresh games: the kept one if it is of this
    checkpoint and count, else played now and kept."""
    file = path / FINAL_FILE
    if file.exists():
        kept = json.loads(file.read_text())
        if kept.get("step") == step and len(kept.get("scores", [])) == episodes:
            return list(kept["scores"]), int(kept["stalled_games"])
    scores, stalled = fresh_final_scores(path, episodes)
    write_json(file, {"step": step, "scores": scores, "stalled_games": stalled, "protocol": FINAL_PROTOCOL})
    return scores, stalled


def run_result(spec: BenchSpec, fusion: str, seed: int) -> dict:
    """One run's row: eval curve, final score over whole games, training wall time (start-up and the periodic
    evals included) and agent steps per second of it."""
    run = RunDir(run_path(spec, fusion, seed))
    if not run.config_file.exists():
        raise UserError(f"no run at {run.path} to report; run `wsa-robot bench` without --report-only first")
    cfg = run.read_config()
    evals = run.read_evals()
    steps = run.checkpoint_step() or 0
    # the run's own wall, saved with every checkpoint, counts a bench call that a session stop ended; the
    # bench's sum of its calls (read_wall) lost such a call, so it is only the fallback
    wall = max(filter(None, (run.wall_s(), read_wall(run.path))), default=None)
    scores, stalled = final_score(run.path, steps, spec.final_episodes)
    return {"fusion": fusion, "seed": seed, "steps": int(steps), "run": str(run.path), **what_it_reads(cfg),
            "curve": [[int(r["step"]), round(float(r["mean_return"]), 2)] for r in evals],
            "final_mean": round(float(np.mean(scores)), 2), "final_std": round(float(np.std(scores)), 2),
            "episodes": len(scores), "final_protocol": FINAL_PROTOCOL,
            "schedule_horizon_steps": cfg.total_steps if cfg.algo == "ppo" and cfg.ppo.linear_decay else None, "stalled_games": stalled, "wall_s": wall, "stopped_at_target": read_target(run.path),
            "target_checks": read_checks(run.path),
            "agent_steps_per_s": round(steps / wall, 1) if wall else None}


def what_it_reads(cfg: RunConfig) -> dict:
    """The settings that tell one fusion's runs apart where a default changed since (the Atari WSA scorer):
    a results file keeps them beside the run's scores, as the run's config.yaml did."""
    from wsa_robot.fusion import pixel_based, reads_scorer

    if pixel_based(cfg.fusion):
        return {}
    reads = {"encoders": list(cfg.encoders), "context": cfg.context, "encoder_precision": cfg.encoder_precision}
    return reads | ({"wsa_scorer": cfg.wsa_scorer} if reads_scorer(cfg.fusion) else {})


# Published final scores of the same reference PPO at 10M agent steps, as their authors report them (the
# project's reference notes): drawn on the plot as labelled lines, never mixed with this machine's numbers.
PUBLISHED_10M = {
    "Pong": {"CleanRL ppo_atari": 20.36, "openai/baselines ppo2": 20.51, "rl-zoo PPO": 20.99},
    "Breakout": {"CleanRL ppo_atari": 414.7, "openai/baselines ppo2": 406.6, "rl-zoo PPO": 398.0},
    "MsPacman": {"openai/baselines ppo2": 2152.8, "rl-zoo PPO": 1754.4},
}


def run_label(row: dict) -> str:
    """`WSA (scaled)`, `E2E`: the fusion, and the scorer where the row records one."""
    scorer = row.get("wsa_scorer")
    return row["fusion"].upper() + (f" ({scorer})" if scorer else "")


OFF_SCALE = 3.0  # the published band is drawn unless its low end is over 3x the highest score on the plot


def _highest(result: dict) -> float:
    """The highest score the plot shows (curves and target), at least 1."""
    values = [v for row in result["runs"] for _, v in row["curve"]] + [result.get("target") or 0.0]
    return max([1.0, *values])


SEED_LINE_STYLES = ("-", "--", ":", "-.")
METHOD_COLOURS = ("tab:blue", "tab:orange", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
                  "tab:cyan")  # no green or grey: the published band and the target line are drawn in those


def _run_styles(rows: list[dict]) -> tuple[dict[str, str], dict[int, str]]:
    """A colour per method (run_label) and a line style per seed, in the order the rows name them: runs of one
    method read as one family, whatever the number of seeds or files they come from."""
    labels = list(dict.fromkeys(run_label(row) for row in rows))
    seeds = list(dict.fromkeys(row["seed"] for row in rows))
    return ({label: METHOD_COLOURS[i % len(METHOD_COLOURS)] for i, label in enumerate(labels)},
            {seed: SEED_LINE_STYLES[i % len(SEED_LINE_STYLES)] for i, seed in enumerate(seeds)})


def plot(result: dict, path: Path) -> Path:
    """Eval return against agent steps, one line per run (engine/curves.py); the target and the published
    10M-step scores as horizontal references, and the whole-game check behind each eval at the target."""
    references = []
    published = PUBLISHED_10M.get(result["game"], {})
    if published:
        low, high = min(published.values()), max(published.values())
        text = f"published, same PPO at 10M steps: {low:.4g} to {high:.4g}"
        drawn = low <= OFF_SCALE * _highest(result)  # else it would squeeze a short run's curves into the bottom
        references.append(Reference(low, high, text if drawn else text + " (far above this scale)",
                                     colour="tab:green", drawn=drawn))
    if result.get("target") is not None:
        references.append(Reference(result["target"], label=f"target {result['target']:g} (a run stops once "
                                    "whole games hold it)", style="--"))
    colours, styles = _run_styles(result["runs"])
    series, checks_named = [], False
    for row in result["runs"]:
        checks = row.get("target_checks") or []  # the whole-game score behind each eval at the target
        series.append(Series(f"{run_label(row)} seed {row['seed']} (final {row['final_mean']:.1f} ± "
                             f"{row['final_std']:.1f})", [[{"steps": s, "return": v} for s, v in row["curve"]]],
                             colour=colours[run_label(row)], style=styles[row["seed"]],
                             marks=[Mark(c["step"], c["mean_return"], c["std"]) for c in checks],
                             marks_label=None if checks_named or not checks else
                             f"{checks[0]['episodes']} games where an eval hit the target"))
        checks_named = checks_named or bool(checks and row["curve"])
    game = result.get("task", "atari/").startswith("atari/")
    panel = Panel("return", "eval return (whole games)" if game else "eval return (whole episodes)",
                  f"{result['game']}: WSA vs E2E", references=references)
    return plot_curves(series, [panel], path, xlabel="agent steps", panel_size=(7, 5), legend="below",
                       empty_panels=True, xformat=lambda x, _: f"{x / 1e6:g}M")


def benchmark(spec: BenchSpec, out: Path, train: bool = True) -> dict:
    """Train (unless `train` is False: report the runs as they are), score, write `out` and its PNG."""
    from wsa_robot.core.provenance import provenance

    prov = provenance()
    if train:
        for name, seconds in train_all(spec, spec.runs_root / "logs").items():
            add_wall(spec.runs_root / name, seconds)
    n_runs = len(spec.fusions) * len(spec.seeds)
    say(f"scoring {n_runs} run(s): {spec.final_episodes} whole games each from its last checkpoint")
    result = {"provenance": prov, "game": spec.game, "task": spec.task, "budget_steps": spec.steps,
              "target": spec.target,
              "machine": {"cpu_count": os.cpu_count(), "threads_per_run": threads_each(spec.cores, n_runs),
                          "runs_side_by_side": n_runs, "freed_cores_go_to_the_runs_left": True},
              "runs": [run_result(spec, f, s) for f in spec.fusions for s in spec.seeds]}
    finals = {f: iqm_ci([r["final_mean"] for r in result["runs"] if r["fusion"] == f]) for f in spec.fusions}
    result["final_iqm"] = {f: agg for f, agg in finals.items() if agg is not None}  # 3+ seeds (aggregate.py)
    write_json(out, result)
    plot(result, out.with_suffix(".png"))
    return result
