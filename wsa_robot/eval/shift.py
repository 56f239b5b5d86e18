"""`wsa-robot eval RUN --variations all`: the same episodes intact and under every visual variation, one table."""

from __future__ import annotations

from rich.progress import Progress

from wsa_robot.core.atomic import write_json
from wsa_robot.core.console import console
from wsa_robot.envs.task_variations import expand, variations_for
from wsa_robot.envs.variations import INTACT, parse_spec
from wsa_robot.eval.conditions import Evaluator, conditions_table
from wsa_robot.run.run_dir import RunDir
from wsa_robot.envs.tasks import load_task


def eval_variations(run: RunDir, episodes: int, spec: str) -> dict[str, dict]:
    """`spec`: "all" or a comma list of variation specs; `intact` always runs first. Every condition starts
    from the same env seed, so the episodes differ only in what the cameras see. Writes RUN/variations.json."""
    cfg = run.read_config()
    task = load_task(cfg.task)
    names = expand(task, spec)  # every name checked before anything loads
    run.checked_model_file()
    described = variations_for(task)
    results: dict[str, dict] = {}
    with Evaluator(run) as evaluator, Progress(console=console()) as bar:  # one agent, one env; its eval seed
        job = bar.add_task(f"eval {run.path} under {len(names)} conditions", total=len(names))
        for name in names:
            bar.update(job, description=f"eval {name}")
            results[name] = evaluator.evaluate(episodes, variation=None if name == INTACT else name)
            bar.advance(job)
    table = conditions_table(results, console().width)
    table.title = f"{cfg.task}: {episodes} deterministic episode(s) per visual variation"
    table.columns[0].header = "variation"
    console().print(table)
    rows = [{"variation": name,
             "description": "the unchanged scene" if name == INTACT else described[parse_spec(name)[0]].description,
             **{k: v for k, v in s.items() if k != "variation"}} for name, s in results.items()]
    write_json(run.path / "variations.json", {"task": cfg.task, "episodes": episodes, "seed": evaluator.seed,
                                              "variations": rows})
    console().print(f"written to {run.path / 'variations.json'}")
    return results
