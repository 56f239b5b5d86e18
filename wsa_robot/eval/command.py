"""`wsa-robot eval RUN --episodes N --render`: the run's latest checkpoint, a table, videos and weight plots."""

from __future__ import annotations

import contextlib

from rich.console import Console
from rich.progress import Progress

from wsa_robot.agents import load_agent
from wsa_robot.atomic import write_json
from wsa_robot.eval.evaluate import run_episodes
from wsa_robot.pipeline import make_vec_env, plan
from wsa_robot.run_dir import RunDir

console = Console()
VIDEO_SIZE = 252  # pixels per camera in videos; divisible by 84 and by the 2 that H.264 wants


def eval_run(run: RunDir, episodes: int, render: bool) -> list[dict]:
    cfg = run.read_config()
    model_file = run.checked_model_file()
    pipe = plan(cfg)
    venv = make_vec_env(cfg, pipe, 1, cfg.seed + 20_000, video_size=VIDEO_SIZE if render else None,
                        training=False)
    writers: dict[int, object] = {}
    with contextlib.ExitStack() as stack, Progress(console=console) as bar:
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
    from wsa_robot.eval.table import episode_table, summary

    console.print(episode_table(rows, pipe.token_keys))
    write_json(run.path / "eval_summary.json", {"episodes": rows, "summary": summary(rows)})
    if render:
        console.print(f"videos and weight plots in {run.videos}")
    return rows
