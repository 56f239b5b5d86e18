"""The `wsa-robot` command: train, eval, pretrain, plan, sweep, bench, tasks, encoders. User mistakes: one line,
exit code 2."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Optional

import typer
from typer.exceptions import TyperException
from rich.console import Console

from wsa_robot.core.errors import NonFiniteError, SaveError, UserError

# Imports inside functions: each command loads only what it uses (torch, simulators, SB3), so `wsa-robot --help`,
# `tasks` and a user's mistake answer at once.

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Train robot agents that see through frozen encoders fused by Weight Sharing Attention.")
console = Console()


@app.command(context_settings={"allow_extra_args": False})
def train(
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value config overrides, e.g. seed=3 algo=ppo"),
    task: Optional[str] = typer.Option(None, "--task", help="task name, see `wsa-robot tasks` (default Lift)"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="continue this run dir from its checkpoint"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="show the progress bar"),
    add_encoder: Optional[list[str]] = typer.Option(
        None, "--add-encoder", help="with --resume: add an encoder (a token per camera, fresh adapter; wsa/dpa), "
                                    "or restore a removed NAME / NAME@camera; repeatable"),
    remove_encoder: Optional[list[str]] = typer.Option(
        None, "--remove-encoder", help="with --resume: mask an encoder's tokens, or one NAME@camera / proprio "
                                       "(weight 0, the others renormalised); repeatable"),
) -> None:
    """Train an agent; the run dir (config, checkpoints, TensorBoard, evals) is printed at the start.
    `--resume RUN` continues a run (total_steps=N may extend it) and may change its tokens while training."""
    overrides = list(overrides or [])
    events: list[dict] = []
    pipe = None
    if (add_encoder or remove_encoder) and resume is None:
        raise UserError("--add-encoder/--remove-encoder change a run while it trains: add --resume RUN "
                        "(a new run takes encoders=... and removed_tokens=...)")
    from wsa_robot.run.run_lock import release_writer_locks
    from wsa_robot.run.stopping import defer_interrupts, honour_deferred_interrupts

    run = None
    defer_interrupts()  # Ctrl-C during set-up stops the run once it can stop cleanly (train.py honours it)
    try:
        from wsa_robot.config import load_config
        from wsa_robot.demos.source import absolute_demos
        from wsa_robot.run.run_dir import existing_run_dir, new_run_dir
        from wsa_robot.run.train import train as run_training

        if resume is not None:
            from wsa_robot.run.resume import resume_config
            from wsa_robot.run.run_lock import hold_writer_lock

            if task:
                raise UserError("--resume continues a run with its own task; drop --task or start a new run")
            run = existing_run_dir(resume)
            hold_writer_lock(run.path)  # before anything is written: one writer per run (run_lock.py)
            pipe, events = resume_config(run, overrides, add_encoder or [], remove_encoder or [])
        else:
            from wsa_robot.run.pipeline import plan
            from wsa_robot.run.spec import resolve

            cfg = load_config(([f"task={task}"] if task else []) + overrides)
            cfg = absolute_demos(cfg)  # a resume from another folder reads the same file
            spec = resolve(cfg)  # task, cameras, encoders and context: every check, before a folder is made
            run = new_run_dir(cfg)  # the folder checked, made and locked, before any encoder loads
            console.print(f"run dir: {run.path}")
            pipe = plan(spec)  # the encoders load once
        if pipe.spec.cfg.encoder_precision == "auto" and pipe.bank is not None:
            console.print(f"frozen encoders in {pipe.bank.precision} (encoder_precision=auto: bf16 on AMX CPUs)")
        run_training(run, pipe, resume=resume is not None, progress=progress, events=events)
    except KeyboardInterrupt:  # before training began (training stops itself, with a checkpoint)
        raise typer.Exit(_stopped_at_start(run)) from None
    except BaseException:
        if run is not None and resume is None:
            run.discard_if_unstarted()
        raise
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            honour_deferred_interrupts()  # a set-up that failed before training never reached it
        release_writer_locks()  # the command is done with its run (tests and scripts call main in process)


def _stopped_at_start(run) -> int:
    """Ctrl-C while a run was being set up: the one stop line, and 130."""
    from wsa_robot.run.resume import say

    if run is None:
        say("stopped before training started; nothing was written")
    elif run.checkpoint_step() is not None:
        say(f"stopped before training started; {run.path} is as it was; resume with: "
            f"wsa-robot train --resume {run.path}")
    elif run.discard_if_unstarted():
        say(f"stopped before training started; nothing was saved ({run.path} removed)")
    else:
        say(f"stopped before training started; nothing was saved in {run.path}")
    return 130


@app.command("eval")
def evaluate(
    run_dir: Optional[Path] = typer.Argument(None, help="a run dir (default: the most recent run)"),
    episodes: int = typer.Option(5, "--episodes", "-n", min=1, help="deterministic episodes"),
    render: bool = typer.Option(False, "--render", help="write an MP4 per episode and a weights plot"),
    fault: Optional[list[str]] = typer.Option(
        None, "--fault", help="camera fault, repeatable: camera_dropout:CAM:p=P, noise:CAM:sigma=S, "
        "freeze:CAM:p=P (CAM may be all); also runs the episodes without faults to compare"),
    variation: Optional[str] = typer.Option(
        None, "--variation", help="run under a named visual variation, NAME or NAME:SEED (robot tasks: "
        "table_color, lighting_dim, camera_shift, ...; Atari: the game's HackAtari modifications, e.g. "
        "color_all_blocks_blue; an unknown name lists them all)"),
    variations: Optional[str] = typer.Option(
        None, "--variations", help="'all' or a comma list of variations: the episodes intact first, then "
        "under each; one table, written to RUN/variations.json"),
) -> None:
    """Run deterministic episodes of a trained agent and print return, success, length and weights."""
    from wsa_robot.eval.command import eval_run
    from wsa_robot.run.run_dir import existing_run_dir

    if variations is not None:
        if variation is not None or render or fault:
            raise UserError("--variations runs its own list of conditions; drop --variation, --render and --fault")
        from wsa_robot.eval.shift import eval_variations

        eval_variations(existing_run_dir(run_dir), episodes, variations)
        return
    eval_run(existing_run_dir(run_dir), episodes, render, faults=list(fault or []), variation=variation)


@app.command()
def pretrain(
    task: str = typer.Option("Lift", "--task"),
    skill: str = typer.Option("autoencoder", "--skill",
                              help="what to pretrain: autoencoder, depth, segmentation, contrastive, keypoints, "
                                   "stdim (ST-DIM, Atari), vos (video object segmentation, Atari), scene_state "
                                   "(the simulator's object state and proprio regressed from RGB, robosuite), "
                                   "scene_invariant (the same from two views of each step under different "
                                   "variations, pulled together; needs --vary)"),
    frames: int = typer.Option(3000, "--frames", min=100, help="frames per camera from a random policy"),
    steps: int = typer.Option(4000, "--steps", min=1, help="gradient steps"),
    episode_length: Optional[int] = typer.Option(None, "--episode-length", min=1, help="steps per episode "
                                                 "(default: 100 for robosuite, whole games for Atari); shorter: "
                                                 "more object placements in the same frames"),
    out: Optional[Path] = typer.Option(None, "--out", help="assets folder to write (default: the project's)"),
    seed: int = typer.Option(0, "--seed"),
    agent: Optional[Path] = typer.Option(None, "--agent", help="a trained run of this task that plays some of "
                                         "the episodes (states a random policy never reaches)"),
    agent_fraction: float = typer.Option(0.5, "--agent-fraction", min=0.0, max=1.0,
                                         help="with --agent: the share of episodes it plays"),
    name: Optional[str] = typer.Option(None, "--name", help="the encoder's name, as `encoders=[...]` "
                                       "names it (default: <skill>_<task>; with --agent, <skill>_<task>_agent, "
                                       "so the shipped one stays)"),
    vary: Optional[str] = typer.Option(None, "--vary", help="show each episode under a visual variation of "
                                       "these kinds (comma list, or all), seeds no evaluation uses; or intact"),
    hold_out: Optional[str] = typer.Option(None, "--hold-out", help="with --vary: a kind left out of the "
                                           "frames, to test generalisation on"),
    expert_fraction: float = typer.Option(0.0, "--expert-fraction", min=0.0, max=1.0,
                                          help="the share of episodes the task's scripted PRIVILEGED controller "
                                          "plays (states with the object grasped and lifted)"),
) -> None:
    """Pretrain one of the project's own encoders on frames from the task's cameras (cached in data/frames/)."""
    from wsa_robot.pretrain import pretrain as run_pretrain

    entry = run_pretrain(task, skill, frames_per_camera=frames, steps=steps, out_dir=out, seed=seed,
                         episode_length=episode_length,
                         agent_run=agent, agent_fraction=agent_fraction, name=name,
                         vary=[k.strip() for k in vary.split(",") if k.strip()] if vary else None,
                         hold_out=hold_out, expert_fraction=expert_fraction)
    console.print(entry)
    tokens = "" if skill != "keypoints" else f" (and {entry['encoder']}_features, {entry['encoder']}_maps)"
    console.print(f"registered as encoder {entry['encoder']}{tokens}: a run reads it with "
                  f"encoders=[{entry['encoder']},...]")


WIDE = typer.Option(False, "--wide", help="every column, however wide (for grep); default: what fits the terminal")


def _print_table(table_for, wide: bool) -> None:
    """`table_for(width)`: a listing fitted to the terminal (80 columns when piped), or every column."""
    from wsa_robot.core.tables import print_wide

    print_wide(console, table_for(None)) if wide else console.print(table_for(console.width))


@app.command()
def tasks(wide: bool = WIDE) -> None:
    """List every task: backend, cameras, horizon, success signal."""
    from wsa_robot.cli.listing import tasks_table

    _print_table(tasks_table, wide)


@app.command()
def encoders(wide: bool = WIDE) -> None:
    """List every registered encoder: output shape, input, source, parameters, weights present."""
    from wsa_robot.cli.listing import encoders_table

    _print_table(lambda width: encoders_table(width=width), wide)


@app.command()
def runs(
    root: Optional[Path] = typer.Argument(None, help="a folder of run dirs (default runs/)"),
    as_json: bool = typer.Option(False, "--json", help="a JSON list, one object per run, for scripts"),
    wide: bool = WIDE,
) -> None:
    """List the runs under runs/ (or ROOT), most recently active first: task, algo, fusion, encoders, seed,
    steps done of total, last eval return and success, wall time, finished or not."""
    import json

    from wsa_robot.run.run_dir import RUNS_ROOT
    from wsa_robot.cli.runs_table import collect_runs, runs_json, runs_table

    rows = collect_runs(root or RUNS_ROOT) if root or RUNS_ROOT.is_dir() else []  # no runs/ yet: no runs
    root = root or RUNS_ROOT
    if as_json:
        print(json.dumps(runs_json(rows), indent=2))
    elif not rows:
        console.print(f"no runs under {root}; train one with `wsa-robot train --task Lift`")
    else:
        _print_table(lambda width: runs_table(rows, root, width), wide)


TARGET_HELP = ("stop a run once its periodic eval's mean return reaches this: the eval is checked over "
               "--target-episodes whole episodes from the run's checkpoint, and the run trains on unless they hold "
               "it; budget or target, whichever first (engine/target.py, as `bench --target`). Only --executor "
               "local or side-by-side can stop a run at its evals; inprocess and ray cannot")
TARGET_EPISODES_HELP = "with --target: whole episodes (games) that check an eval at the target"


@app.command()
def sweep(
    file: str = typer.Argument(..., help="sweep YAML (or a shipped one's name: paper_atari, lift_encoders)"),
    cpus: Optional[int] = typer.Option(None, "--cpus", min=1, help="CPUs of the local Ray (default: all)"),
    gpus: Optional[int] = typer.Option(None, "--gpus", min=0, help="GPUs of the local Ray (default: all)"),
    address: Optional[str] = typer.Option(None, "--address", help="an existing Ray cluster (default $RAY_ADDRESS; "
                                                                  "none: start a local Ray)"),
    out: Optional[Path] = typer.Option(None, "--out", help="sweep folder (default runs/sweeps/<name>); on a "
                                                            "cluster, a filesystem every node shares"),
    report_only: bool = typer.Option(False, "--report-only", help="aggregate the run dirs as they are; no Ray"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate and list the trials; no Ray"),
    executor: str = typer.Option("ray", "--executor", help="ray (default), local (child processes), inprocess "
                                 "or side-by-side (every trial at once, sharing the cores)"),
    parallel: int = typer.Option(1, "--parallel", help="local: trials training at once"),
    target: Optional[float] = typer.Option(None, "--target", help=TARGET_HELP),
    target_episodes: int = typer.Option(30, "--target-episodes", min=1, help=TARGET_EPISODES_HELP),
) -> None:
    """Run a grid of trials (any config keys x seeds) on Ray (or --executor local/inprocess), skip finished ones,
    resume unfinished ones, then write summary.csv / summary.md / curves/ (mean ± std over seeds per cell).
    Exit 1 if a trial is unfinished."""
    from wsa_robot.sweep.command import sweep_command

    code = sweep_command(file, cpus=cpus, gpus=gpus, address=address, out=out, report_only=report_only,
                         dry_run=dry_run, console=console, executor_name=executor, parallel=parallel,
                         target=target, target_episodes=target_episodes)
    if code:
        raise typer.Exit(code)


@app.command("plan")
def plan_command(
    file: Path = typer.Argument(..., help="a plan YAML: task, runs (label, fusion, encoders, seeds, overrides)"),
    runs_root: Optional[Path] = typer.Option(None, "--runs-root", help="where the run dirs go, one per label and "
                                             "seed (default runs/<plan name>)"),
    steps: int = typer.Option(200_000, "--steps", min=1, help="env steps per run"),
    eval_every: int = typer.Option(10_000, "--eval-every", min=1, help="env steps between evals (and checkpoints)"),
    eval_episodes: int = typer.Option(20, "--eval-episodes", min=1, help="deterministic episodes per eval"),
    only: Optional[list[str]] = typer.Option(None, "--only", help="train only this label (repeatable); the report "
                                             "has all"),
    out: Optional[Path] = typer.Option(None, "--out", help="results JSON (default results/<plan name>.json)"),
    report_only: bool = typer.Option(False, "--report-only", help="write the JSON and PNG from the run dirs as "
                                     "they are; no training"),
    executor: str = typer.Option("local", "--executor", help="local (child processes), inprocess, side-by-side "
                                 "(every run at once, sharing the cores), or ray"),
    parallel: int = typer.Option(1, "--parallel", help="local: runs training at once (default one: runs "
                                 "sharing a few cores slow each other)"),
    address: Optional[str] = typer.Option(None, "--address", help="ray: an existing cluster (default $RAY_ADDRESS;"
                                          " none: a local Ray)"),
    cpus: Optional[int] = typer.Option(None, "--cpus", min=1, help="ray: CPUs of the local Ray (default: all)"),
    gpus: Optional[int] = typer.Option(None, "--gpus", min=0, help="ray: GPUs of the local Ray (default: all)"),
    target: Optional[float] = typer.Option(None, "--target", help=TARGET_HELP),
    target_episodes: int = typer.Option(30, "--target-episodes", min=1, help=TARGET_EPISODES_HELP),
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value for every run, e.g. torch_threads=1"),
) -> None:
    """Train a plan's labelled configurations, each seed an ordinary run dir, resuming unfinished runs and
    skipping finished ones (and those --target stopped); then write the results JSON (curves, steps to 0.8
    success, summary over seeds, target checks) and its PNG. Exit 1 if a run stopped short of --steps (the same
    command resumes it)."""
    from wsa_robot.engine.executors import check_executor, executor as make_executor
    from wsa_robot.engine.plan import Schedule, read_plan
    from wsa_robot.studies.benchmark import target_rule
    from wsa_robot.studies.learning import learn

    check_executor(executor, parallel, address, cpus, gpus, None if report_only else target)
    name = file.stem
    root = runs_root or Path("runs") / name
    plan = read_plan(file)
    rule = None if target is None or report_only else target_rule(plan.task, target, target_episodes)
    runner = None if report_only else make_executor(executor, root / "logs", root, plan.resources,
                                                    parallel, address, cpus, gpus, rule=rule)
    code = learn(file, root, Schedule(steps, eval_every, eval_episodes), out or Path("results") / f"{name}.json",
                 list(overrides or []), runner, only, say=lambda line: console.print(line, soft_wrap=True,
                                                                                     highlight=False))
    if code:
        raise typer.Exit(code)


@app.command()
def bench(
    ctx: typer.Context,
    plan: Optional[Path] = typer.Option(None, "--plan", help="a bench spec YAML (e.g. configs/bench_pong.yaml: "
                                        "`bench:` with task, fusions, seeds, steps, eval_every, eval_episodes, "
                                        "final_episodes, target, overrides); options given here override it"),
    task: str = typer.Option("atari/Pong", "--task", help="a task of any backend, see `wsa-robot tasks` "
                             "(e.g. atari/Pong, Lift)"),
    steps: int = typer.Option(1_000_000, "--steps", min=1, help="agent steps per run"),
    seeds: str = typer.Option("1", "--seeds", help="comma-separated seeds"),
    fusions: str = typer.Option("wsa,e2e", "--fusions", help="comma-separated fusions to compare"),
    eval_every: int = typer.Option(40_000, "--eval-every", min=1, help="agent steps between curve points"),
    eval_episodes: int = typer.Option(5, "--eval-episodes", min=1, help="games per curve point"),
    final_episodes: int = typer.Option(30, "--final-episodes", min=1, help="whole games for the final score"),
    deadline_min: Optional[float] = typer.Option(None, "--deadline-min", help="stop training after this many "
                                                 "minutes (checkpoint) and score what is there"),
    out: Optional[Path] = typer.Option(None, "--out", help="results JSON (default results/atari_<game>.json, "
                                       "results/bench_<task>.json for the other backends)"),
    report_only: bool = typer.Option(False, "--report-only", help="score the run dirs as they are; no training"),
    runs_root: Path = typer.Option(Path("runs/bench"), "--runs-root", help="where the run dirs go"),
    target: Optional[float] = typer.Option(None, "--target", help="stop a run once its score reaches this (e.g. "
                                           "18 for Pong): a periodic eval that reaches it is checked over "
                                           "--final-episodes games from the checkpoint, and the run trains on "
                                           "unless those hold it; budget or target, whichever first"),
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value overrides for every run, e.g. horizon=4000"),
) -> None:
    """Train WSA and E2E (or any fusions) side by side on one task (an Atari game, or any other backend's), then
    write the learning curves, the final score over whole episodes, wall time and agent-steps/s to
    results/atari_<game>.json (results/bench_<task>.json) and a PNG. The runs always train side by side (the
    engine's side-by-side executor): the bench measures wall time and steps/s of runs sharing one machine alike."""
    from wsa_robot.studies.benchmark import BENCH_KEYS, bench_settings, bench_spec, benchmark

    s = {"task": task, "fusions": fusions, "seeds": seeds, "steps": steps, "eval_every": eval_every,
         "eval_episodes": eval_episodes, "final_episodes": final_episodes, "target": target,
         "overrides": list(overrides or [])}
    if plan is not None:
        given = {k for k in BENCH_KEYS  # typed on the command line (typer's own click: its enum, by name)
                 if getattr(ctx.get_parameter_source(k), "name", "DEFAULT") != "DEFAULT"}
        s = bench_settings(plan, s, given)
    spec = bench_spec(s["task"], s["steps"], s["seeds"], s["fusions"], s["eval_every"], s["eval_episodes"],
                      s["final_episodes"], deadline_min, runs_root, s["overrides"], s["target"])
    result = benchmark(spec, out or spec.default_out, train=not report_only)
    for row in result["runs"]:
        console.print(f"{row['fusion']:>4} seed {row['seed']}: {row['steps']:,} steps, final {row['final_mean']:.1f} "
                      f"± {row['final_std']:.1f} over {row['episodes']} games, {row['agent_steps_per_s']} steps/s")


weights_app = typer.Typer(no_args_is_help=True, help="Zoo encoder weights: where they come from, fetch them.")
app.add_typer(weights_app, name="weights")


@weights_app.command("list")
def weights_list(
    weights_dir: Optional[Path] = typer.Option(None, "--dir", help="weights folder (default $WSA_WEIGHTS_DIR, "
                                                                  "then ~/.cache/wsa-robot/weights)"),
    wide: bool = WIDE,
) -> None:
    """Every zoo encoder's weights: official source, where they go, whether they are here and checksummed."""
    from wsa_robot.cli.listing import weights_table

    _print_table(lambda width: weights_table(weights_dir, width=width), wide)


@weights_app.command("fetch")
def weights_fetch(
    name: str = typer.Argument(..., help="a name from `wsa-robot weights list`, or all"),
    weights_dir: Optional[Path] = typer.Option(None, "--dir", help="weights folder (default $WSA_WEIGHTS_DIR, "
                                                                  "then ~/.cache/wsa-robot/weights)"),
    offline: bool = typer.Option(False, "--offline", help="download nothing (as HF_HUB_OFFLINE=1): say what to "
                                                          "download from where, and where to put it"),
) -> None:
    """Download zoo weights from their official source (R3M: its authors' Google Drive files; the others: the
    Hugging Face hub), resumable, recording each file's sha256 in the folder's manifest.json."""
    from wsa_robot.encoders.fetch import fetch

    for path in fetch(name, weights_dir, offline=offline):
        console.print(str(path))


demos_app = typer.Typer(no_args_is_help=True, help="Demonstrations in robomimic's HDF5 format: record, show.")
app.add_typer(demos_app, name="demos")


@demos_app.command("record")
def demos_record(
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value config of the run the demos are for "
                                                              "(controller, gripper, cameras, image_size, ...)"),
    task: str = typer.Option("Lift", "--task", help="a robosuite task with a scripted controller: Lift, Stack, "
                                                    "Door, PickPlaceCan"),
    n: int = typer.Option(5, "-n", help="successful demos to write"),
    out: Optional[Path] = typer.Option(None, "--out", help="the HDF5 file (default demos/<task>_<n>.hdf5)"),
    seed: int = typer.Option(0, "--seed", help="episode k is seeded from this (the same seed: the same demos)"),
) -> None:
    """Record demos with the task's scripted controller (PRIVILEGED: it reads the simulator; the file says so).
    Only successful episodes are written, with the task's cameras and proprio as the run's env shows them."""
    from wsa_robot.config import load_config
    from wsa_robot.demos.record import record

    # the run the demos are for, without the task's own demos (config.task_defaults): they are being made here
    cfg = load_config([f"task={task}", "demos=null", *(overrides or [])])
    from wsa_robot.run.spec import resolve

    spec = resolve(cfg)  # every check of the config, first
    out = out or Path("demos") / f"{spec.task.name}_{n}.hdf5"
    done = record(cfg, spec.task, n, out, seed=seed, report=console.print)
    console.print(f"{len(done.episodes)} demos of {spec.task.name} in {done.seconds:.1f} s ({done.attempts} tries) "
                  f"-> {out}; train with: wsa-robot train --task {spec.task.name} demos={out}")


@demos_app.command("show")
def demos_show(file: Path = typer.Argument(..., help="a robomimic-format HDF5 file")) -> None:
    """List a file's demos: length, return, success and cameras, and where they came from."""
    from wsa_robot.demos.robomimic_file import file_info

    info = file_info(file)
    attrs = info["attrs"]
    console.print(f"{file}: {len(info['demos'])} demos of {info['env_name']}, {attrs.get('total', '?')} steps",
                  soft_wrap=True, highlight=False)
    if "privileged" in attrs:
        console.print(attrs["privileged"], highlight=False)
    console.print(f"{'demo':<8} {'steps':>5} {'return':>7} {'success':>7}  cameras", highlight=False)
    for row in info["demos"]:
        ret = "-" if row["return"] is None else f"{row['return']:.1f}"
        ok = "?" if row["success"] is None else ("yes" if row["success"] else "no")
        console.print(f"{row['demo']:<8} {row['length']:>5} {ret:>7} {ok:>7}  {' '.join(row['cameras'])}",
                      soft_wrap=True, highlight=False)


def main(argv: list[str] | None = None) -> int:
    from wsa_robot.envs.gl import choose_gl_backend

    choose_gl_backend()  # before any command imports mujoco; env subprocesses and a local Ray inherit it
    try:
        code = app(args=argv, standalone_mode=False)  # typer turns Ctrl-C into a returned 130, not an exception
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (NonFiniteError, SaveError) as e:  # training stopped; the last good checkpoint is kept
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C in a command that has no stop of its own to say
        print("stopped", file=sys.stderr)
        return 130
    except TyperException as e:  # usage errors: unknown command or option, bad option value
        print(f"error: {e.format_message()}", file=sys.stderr)
        return 2
    except typer.Exit as e:
        return e.exit_code
    return code if isinstance(code, int) else 0  # a command returns None


if __name__ == "__main__":
    sys.exit(main())
