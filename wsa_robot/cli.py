"""The `wsa-robot` command: train, eval, pretrain, tasks, encoders. User mistakes: one line, exit code 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from typer.exceptions import TyperException
from rich.console import Console

from wsa_robot.errors import UserError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Train robot agents that see through frozen encoders fused by Weight Sharing Attention.")
console = Console()


@app.command(context_settings={"allow_extra_args": False})
def train(
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value config overrides, e.g. seed=3 algo=ppo"),
    task: Optional[str] = typer.Option(None, "--task", help="task name, see `wsa-robot tasks` (default Lift)"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="continue this run dir from its checkpoint"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="show the progress bar"),
) -> None:
    """Train an agent; the run dir (config, checkpoints, TensorBoard, evals) is printed at the start."""
    from wsa_robot.config import load_config
    from wsa_robot.run_dir import existing_run_dir, new_run_dir
    from wsa_robot.train import train as run_training

    overrides = list(overrides or [])
    if resume is not None:
        run = existing_run_dir(resume)
        cfg = run.read_config()
        if overrides or task:
            raise UserError("--resume continues a run with its own config; drop the overrides or start a new run")
        run.checked_model_file()
    else:
        cfg = load_config(([f"task={task}"] if task else []) + overrides)
        from wsa_robot.pipeline import plan

        plan(cfg)  # validate device, task, cameras, encoders and context before a run dir is made
        run = new_run_dir(cfg)
        console.print(f"run dir: {run.path}")
    run_training(cfg, run, resume=resume is not None, progress=progress)


@app.command("eval")
def evaluate(
    run_dir: Optional[Path] = typer.Argument(None, help="a run dir (default: the most recent run)"),
    episodes: int = typer.Option(5, "--episodes", "-n", min=1, help="deterministic episodes"),
    render: bool = typer.Option(False, "--render", help="write an MP4 per episode and a weights plot"),
) -> None:
    """Run deterministic episodes of a trained agent and print return, success, length and weights."""
    from wsa_robot.eval.command import eval_run
    from wsa_robot.run_dir import existing_run_dir

    eval_run(existing_run_dir(run_dir), episodes, render)


@app.command()
def pretrain(
    task: str = typer.Option("Lift", "--task"),
    skill: str = typer.Option("autoencoder", "--skill",
                              help="what to pretrain: autoencoder, depth, segmentation, contrastive, keypoints"),
    frames: int = typer.Option(3000, "--frames", min=100, help="frames per camera from a random policy"),
    steps: int = typer.Option(4000, "--steps", min=1, help="gradient steps"),
    out: Optional[Path] = typer.Option(None, "--out", help="assets folder to write (default: the project's)"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Pretrain one of the project's own encoders on frames from the task's cameras (cached in data/frames/)."""
    from wsa_robot.pretrain import pretrain as run_pretrain

    entry = run_pretrain(task, skill, frames_per_camera=frames, steps=steps, out_dir=out, seed=seed)
    console.print(entry)


@app.command()
def tasks() -> None:
    """List every task: backend, cameras, horizon, success signal."""
    from wsa_robot.listing import tasks_table

    console.print(tasks_table())


@app.command()
def encoders() -> None:
    """List every registered encoder: output shape, input, source, parameters, weights present."""
    from wsa_robot.listing import encoders_table

    console.print(encoders_table())


def main(argv: list[str] | None = None) -> int:
    try:
        app(args=argv, standalone_mode=False)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except typer.Abort:
        return 130
    except TyperException as e:  # usage errors: unknown command or option, bad option value
        print(f"error: {e.format_message()}", file=sys.stderr)
        return 2
    except typer.Exit as e:
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
