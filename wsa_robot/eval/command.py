"""`wsa-robot eval RUN --episodes N --render`: the run's latest checkpoint, a table, videos and weight plots."""

from __future__ import annotations

# Imports inside functions: video writing and plots, loaded only when the command needs them.

import contextlib

from rich.progress import Progress

from wsa_robot.agents import load_agent
from wsa_robot.core.atomic import write_json
from wsa_robot.core.console import console
from wsa_robot.envs.faults import parse_faults
from wsa_robot.envs.task_variations import canonical
from wsa_robot.envs.variations import INTACT
from wsa_robot.agents.evaluate import run_episodes
from wsa_robot.run.pipeline import make_vec_env, plan
from wsa_robot.run.run_dir import RunDir
from wsa_robot.run.spec import resolve

VIDEO_SIZE = 252  # pixels per camera in videos; divisible by 84 and by the 2 that H.264 wants


def eval_run(run: RunDir, episodes: int, render: bool, faults: list[str] | None = None,
             variation: str | None = None) -> list[dict]:
    """`faults`: camera fault specs for these episodes (the run's training faults are not applied here);
    with faults, the same episodes also run without them, for the comparison.
    `variation`: a named visual variation (NAME or NAME:SEED, envs/variations.py); None: the intact scene."""
    faults = [str(f) for f in parse_faults(faults)]  # a bad spec fails before anything loads
    cfg = run.read_config()
    spec = resolve(cfg)
    variation = canonical(spec.task, variation)  # a bad name fails before anything loads, too
    variation = None if variation == INTACT else variation
    model_file = run.checked_model_file()
    pipe = plan(spec)
    venv = make_vec_env(pipe, 1, spec.seeds.eval, video_size=VIDEO_SIZE if render else None,
                        training=False, faults=faults, variation=variation)
    writers: dict[int, object] = {}
    with contextlib.ExitStack() as stack, Progress(console=console()) as bar:
        stack.callback(venv.close)
        model = load_agent(cfg, model_file, None)
        job = bar.add_task(f"eval {run.path}", total=episodes)

        def on_start(ep: int):
            if not render:
                return None
            from wsa_robot.eval.video import VideoWriter, compose_frame

            writer = stack.enter_context(VideoWriter(run.videos / f"episode_{ep:03d}.mp4", fps=20))
            writers[ep] = writer

            def on_frame(images, weights, step, ret):
                named = None if weights is None else dict(zip(pipe.token_keys, map(float, weights)))
                writer.append(compose_frame(images, named, step=step, reward=ret))
            return on_frame

        def on_end(ep: int, result: dict) -> None:
            bar.advance(job)
            if render and ep in writers:
                writers.pop(ep).close()
                if result["weights_per_step"] is not None:
                    from wsa_robot.eval.plots import plot_weights

                    plot_weights(result["weights_per_step"], pipe.token_keys, run.videos / f"weights_{ep:03d}.png",
                                 title=f"{cfg.task} episode {ep}: WSA weight per token")

        rows = run_episodes(model, venv, episodes, pipe.token_keys, on_start, on_end)
    from wsa_robot.run.eval_table import episode_table, summary, weights_fit, weights_table

    result = {"episodes": rows, "summary": summary(rows), "faults": faults, "variation": variation}
    title = "evaluation (deterministic policy)"
    if variation:
        title = f"{title} under variation {variation}"
    if faults:
        from wsa_robot.eval.conditions import conditions_table, evaluate_run

        title = f"{title} with faults {', '.join(faults)}"
        console().print(f"running the same {episodes} episode(s) without faults to compare")
        result["without_faults"] = evaluate_run(run, episodes, faults=[], seed=spec.seeds.eval,
                                                 variation=variation, pipe=pipe)  # the same encoders
    table = episode_table(rows, pipe.token_keys, console().width, title)
    console().print(table)
    if result["summary"]["weights"] and not weights_fit(table, pipe.token_keys):
        console().print(weights_table(result["summary"]["weights"], console().width))
    if faults:
        console().print(conditions_table({"without faults": result["without_faults"],
                                        "with " + ", ".join(faults): result["summary"]}, console().width))
    write_json(run.path / "eval_summary.json", result)
    if render:
        console().print(f"videos and weight plots in {run.videos}")
    return rows
