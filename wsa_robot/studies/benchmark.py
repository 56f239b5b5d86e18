"""`wsa-robot bench --task T`: WSA against E2E (or any fusions) on one task of any backend, for a step budget and
seeds, as the paper's Atari comparison. Writes results/atari_<game>.json (results/bench_<task>.json for the
other backends) and a PNG of the learning curves. The scores are episode returns (for a game, whole games).

Each (fusion, seed) is an ordinary run dir under `runs_root`, an engine job (engine/jobs.py) trained by
`wsa-robot train` in its own process (the runs of one call train side by side, so they share the machine alike); a run already finished is kept and
an unfinished one resumes. `deadline_min` stops every run still training at that time with SIGTERM (a
checkpoint, then exit) and benchmarks what is there. `target` stops a run once its score reaches it: a periodic
eval (a few games) that reaches it stops the run (SIGTERM: a checkpoint, then exit), and `final_episodes`
games from that checkpoint decide; if they hold the target the run is marked done there and never resumed,
else it resumes (bench_target.py keeps every check). Ctrl-C or SIGTERM to the bench stops every run with a
checkpoint first, and the same command resumes them; a run never outlives its bench (even one killed). The
final score is `final_episodes` whole games (deterministic policy, real scores: no life loss, no reward
clipping) on up to 8 envs at once, from the last checkpoint.
"""

from __future__ import annotations

# Imports inside functions: torch, stable-baselines3 and matplotlib, so `wsa-robot bench --help` and a plan check start fast.

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from wsa_robot.core.atomic import write_json
from wsa_robot.engine.aggregate import iqm_ci
from wsa_robot.studies.bench_target import eval_to_check, read_checks, read_target, record_check
from wsa_robot.config import RunConfig
from wsa_robot.core.errors import UserError
from wsa_robot.engine.jobs import Job
from wsa_robot.run.run_dir import RunDir
from wsa_robot.run.stopping import die_with_parent, sigterm_as_ctrl_c


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


def run_path(spec: BenchSpec, fusion: str, seed: int) -> Path:
    return spec.runs_root / f"{spec.game.lower()}-{fusion}-seed{seed}"


def job(spec: BenchSpec, fusion: str, seed: int, threads: int = 1) -> Job:
    """The run of (fusion, seed) as an engine job: its run dir, the budget, a new run's settings."""
    path = run_path(spec, fusion, seed)
    return Job(path.name, path, spec.steps, (
        f"task={spec.task}", f"fusion={fusion}", f"seed={seed}", f"total_steps={spec.steps}",
        f"eval_every={spec.eval_every}", f"eval_episodes={spec.eval_episodes}", *spec.overrides), threads)


def _train_command(spec: BenchSpec, fusion: str, seed: int, threads: int = 1) -> list[str]:
    return job(spec, fusion, seed, threads).child_command()


def threads_each(cores: int, runs: int) -> int:
    """Torch threads per run when `runs` train side by side on `cores`."""
    return max(1, cores // max(1, runs))


def say(line: str) -> None:
    print(line, flush=True)  # a bench runs for hours, often into a log file: every line as it comes


def train_all(spec: BenchSpec, log_dir: Path, say: Callable[[str], None] = say) -> dict[str, float]:
    """Train every (fusion, seed) side by side; returns this call's training seconds per run name. Runs whose
    checkpoint already reached the budget or the target are left alone (a resume would add its start-up to
    their wall time). The runs that train share the cores, and when one finishes, those still training are
    restarted on the cores it freed (SIGTERM: a checkpoint, then a resume with more threads). `say` gets a
    line per run as it starts, at each of its periodic evals and when it stops."""
    log_dir.mkdir(parents=True, exist_ok=True)
    todo: list[tuple[str, str, int, str]] = []  # name, fusion, seed, how it begins
    for fusion in spec.fusions:
        for seed in spec.seeds:
            path = run_path(spec, fusion, seed)
            run = RunDir(path)
            saved = run.checkpoint_step()
            if spec.target is not None and saved is not None and read_target(path) is None:
                # an eval at the target that a stop left unchecked (or that an older bench never checked); evals
                # past the checkpoint do not count: a kill lost their steps, and the resume drops them
                _check_target(spec, path.name, [r for r in run.read_evals() if r["step"] <= saved], say)
            progress = _progress(spec, path.name)
            step, _, finished = progress
            if finished:
                say(_standing(path.name, progress) + "; kept as it is")
            else:
                todo.append((path.name, fusion, seed,
                             f"resuming at step {step:,}" if run.config_file.exists() else "new run"))
    with contextlib.ExitStack() as logs, sigterm_as_ctrl_c():
        runs = _Runs(spec, log_dir, logs, say)
        threads = threads_each(spec.cores, len(todo))
        if todo:  # the paths once, so each run's line fits 80 columns
            say(f"each run's output: {log_dir}/<run>.log")
        for name, fusion, seed, begin in todo:
            say(f"{name}: {begin}, to {spec.steps:,} agent steps on {threads} thread{'s' * (threads > 1)}")
            runs.start(name, fusion, seed, threads)
        try:
            return _wait(runs, spec.deadline_min, log_dir, spec, say)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM to the bench alone: the runs checkpoint, then it stops
            runs.stop_all()
            for name in runs.procs:
                say(_standing(name, _progress(spec, name)))
            say("the same command resumes the runs from there")
            raise
        finally:
            runs.stop_all()  # a failed run stops the others (SIGTERM: they checkpoint first)


def _progress(spec: BenchSpec, name: str) -> tuple[int, bool, bool]:
    """The run's checkpoint step, whether a check held the target, and whether the run is finished: at the
    target, or at the step budget with its last eval (a stop during that eval leaves it owed; a resume runs it)."""
    run = RunDir(spec.runs_root / name)
    step = run.checkpoint_step() or 0  # one read of the checkpoint's zip
    at_target = read_target(run.path) is not None
    return step, at_target, at_target or (step >= spec.steps and not run.eval_owed(spec.eval_every, step))


def _standing(name: str, progress: tuple[int, bool, bool]) -> str:
    """Where a run stands (_progress): finished, which the next call keeps as it is, or stopped (resumable)."""
    step, at_target, finished = progress
    if not finished:
        return f"{name}: stopped at step {step:,}"
    return f"{name}: done at step {step:,}" + (" (stopped at the target)" if at_target else "")


def _finished(spec: BenchSpec, name: str) -> bool:
    return _progress(spec, name)[2]


@dataclass
class _Process:
    """One training process of a run: when it started and ended (None: still running, as far as the bench
    stopped it), on how many threads, and whether the bench sent it SIGTERM."""
    proc: subprocess.Popen
    started: float
    threads: int
    ended: float | None = None
    signalled: bool = False

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.signalled = True
            self.proc.send_signal(signal.SIGTERM)  # the run checkpoints, then exits


class _Runs:
    """The training processes of one bench call, by run name, and the seconds of the processes each run had
    before its current one (a run's seconds in this call are the sum of its processes)."""

    def __init__(self, spec: BenchSpec, log_dir: Path, logs: contextlib.ExitStack,
                 say: Callable[[str], None]) -> None:
        self.spec, self.log_dir, self.logs, self.say = spec, log_dir, logs, say
        self.procs: dict[str, _Process] = {}
        self.keys: dict[str, tuple[str, int]] = {}
        self.earlier_s: dict[str, float] = {}

    def start(self, name: str, fusion: str, seed: int, threads: int) -> None:
        if name in self.procs:
            self.earlier_s[name] = self.seconds(name)
        self.keys[name] = (fusion, seed)
        log = self.logs.enter_context(open(self.log_dir / f"{name}.log", "a"))
        proc = subprocess.Popen(_train_command(self.spec, fusion, seed, threads), stdout=log,
                                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                preexec_fn=die_with_parent)
        self.procs[name] = _Process(proc, time.time(), threads)

    def restart(self, name: str, threads: int) -> None:
        self.start(name, *self.keys[name], threads)

    def seconds(self, name: str) -> float:
        p = self.procs[name]
        return self.earlier_s.get(name, 0.0) + (p.ended or time.time()) - p.started

    def stop(self, name: str) -> None:
        """SIGTERM the run's process and wait for its checkpoint; its seconds stop counting."""
        p = self.procs[name]
        p.terminate()
        p.proc.wait()
        p.ended = p.ended or time.time()
        _check_exit(name, p, self.log_dir)

    def hand_over(self, running: list[str]) -> None:
        """Restart the `running` runs with the cores shared among them alone, where that means more threads.
        A run that reached its budget while it was being stopped is left stopped (its exit is recorded next)."""
        threads = threads_each(self.spec.cores, len(running))
        for name in running:
            p = self.procs[name]
            if threads <= p.threads or p.proc.poll() is not None:
                continue
            self.stop(name)
            if not _finished(self.spec, name):
                self.say(f"{name}: restarting on {threads} threads (cores freed by a finished run)")
                self.restart(name, threads)

    def stop_all(self) -> None:
        for p in self.procs.values():
            p.terminate()
            p.proc.wait()


def _check_exit(name: str, p: _Process, log_dir: Path) -> None:
    """A failed run raises. A run the bench sent SIGTERM may die of it rather than checkpoint and exit 0: the
    signal came as it was ending on its own, after its last checkpoint, and that checkpoint stands."""
    if p.proc.returncode != 0 and not (p.signalled and p.proc.returncode == -signal.SIGTERM):
        raise RuntimeError(f"training {name} failed (exit {p.proc.returncode}); see {log_dir / name}.log")


def _check_target(spec: BenchSpec, name: str, evals: list[dict], say: Callable[[str], None]) -> bool:
    """If the run's latest eval reached the target and was not checked yet, score `final_episodes` whole games
    from its checkpoint (the run must be stopped) and keep the check; True if that held the target."""
    path = spec.runs_root / name
    row = eval_to_check(path, evals, spec.target)
    if row is None:
        return False
    step = RunDir(path).checkpoint_step() or 0
    say(f"{name}: eval {float(row['mean_return']):+.1f} at the target; scoring {spec.final_episodes} games "
        f"at step {step:,}")
    scores, stalled = final_scores(path, spec.final_episodes)
    check = record_check(path, row, step, scores, stalled, spec.target)
    say(f"{name}: {check['episodes']} games: {check['mean_return']:+.1f} ± {check['std']:.1f}" +
        (", the target holds" if check["held"] else f", under {spec.target:g}; training on"))
    return check["held"]


def _wait(runs: _Runs, deadline_min: float | None, log_dir: Path, spec: BenchSpec,
          say: Callable[[str], None] = say) -> dict[str, float]:
    """Seconds each run trained; at `deadline_min` every one still running gets SIGTERM (checkpoint, then stop).
    A run whose latest periodic eval reached `spec.target` is stopped and its checkpoint scored over whole
    games (_check_target): it stays stopped if the score holds the target, else it resumes. The bench does
    nothing else while it scores."""
    deadline = time.time() + 60 * deadline_min if deadline_min else None
    stopping = False  # past the deadline: no run is restarted
    seconds: dict[str, float] = {}
    evals_seen = {name: len(RunDir(spec.runs_root / name).read_evals()) for name in runs.procs}
    while len(seconds) < len(runs.procs):
        finished = False
        for name, p in list(runs.procs.items()):
            if name in seconds:
                continue
            path = spec.runs_root / name
            exited = p.proc.poll() is not None  # before reading the evals: a run's last eval precedes its exit
            evals = RunDir(path).read_evals()
            evals_seen[name] = _say_new_evals(name, evals, evals_seen[name], spec.eval_episodes, say)
            if not exited:
                if spec.target is not None and not stopping and eval_to_check(path, evals, spec.target):
                    runs.stop(name)
                    if not _check_target(spec, name, evals, say) and not _finished(spec, name):
                        runs.restart(name, p.threads)
                continue
            p.ended = p.ended or time.time()
            seconds[name] = runs.seconds(name)
            _check_exit(name, p, log_dir)
            step, at_target, done = _progress(spec, name)
            finished = finished or done
            why = ("reached the target" if at_target else "reached the budget") if done else "stopped"
            say(f"{name}: {why} at step {step:,} ({_minutes(seconds[name])} this call)" +
                ("" if done else "; resumable"))  # 80 columns with any game's name
        if deadline and time.time() > deadline:
            say(f"deadline of {deadline_min:g} min: stopping the runs still training (they checkpoint first)")
            for p in runs.procs.values():
                p.terminate()
            deadline, stopping = None, True
        elif finished and not stopping:
            runs.hand_over([name for name in runs.procs if name not in seconds])
        time.sleep(2)
    return seconds


def _say_new_evals(name: str, rows: list[dict], seen: int, episodes: int, say: Callable[[str], None]) -> int:
    """One line per eval row the run appended since `seen` rows, with the rate since the row before (the run's
    current pace, not its average over resumes at other settings); returns the count now."""
    for i in range(seen, len(rows)):
        row, before = rows[i], rows[i - 1] if i else {"step": 0, "wall_s": 0.0}
        span = (row.get("wall_s") or 0.0) - (before.get("wall_s") or 0.0)
        rate = f", {(row['step'] - before['step']) / span:.0f} steps/s" if span > 0 else ""
        say(f"{name}: step {int(row['step']):,}, eval {float(row['mean_return']):+.1f} "
            f"over {episodes} game{'s' if episodes != 1 else ''}{rate}")
    return len(rows)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


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
    of those games stalled (ended early for making no progress: envs/stall.py). At most `n_envs` envs play at
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
    from wsa_robot.engine.curves import Mark, Panel, Reference, Series, plot_curves

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
