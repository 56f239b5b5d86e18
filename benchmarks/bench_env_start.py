"""How long an env subprocess of the default Lift run takes to start (constructor to the first reset's
observation) and how much memory it holds, with this project's torch-free worker (run/env_workers.py) against
SB3's SubprocVecEnv given the same env recipe (its worker and CloudpickleWrapper import torch).

    python benchmarks/bench_env_start.py --rounds 3      # writes results/env_start.json

Rounds alternate the two, so drift in the machine's speed hits both alike. This module imports nothing heavy
at its top: the forkserver that starts env subprocesses first imports the main module, and a torch imported
here would be in every subprocess of both variants.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def start_once(variant: str) -> dict:
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from wsa_robot.config import load_config
    from wsa_robot.envs import EnvOptions
    from wsa_robot.run.env_recipe import EnvRecipe
    from wsa_robot.run.env_workers import EnvSubprocesses
    from wsa_robot.run.spec import resolve

    spec = resolve(load_config(["task=Lift"]))
    recipe = EnvRecipe(spec.task, spec.cameras, spec.cfg.image_size,
                       EnvOptions.of(spec.env, seed=0, training=True), worker=True)
    started = time.perf_counter()
    venv = EnvSubprocesses([recipe]) if variant == "torch-free" else SubprocVecEnv([recipe])
    venv.reset()
    seconds = time.perf_counter() - started
    pid = venv.processes[0].pid
    status = Path(f"/proc/{pid}/status").read_text()
    rss_mb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024
    torch_loaded = "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    venv.close()
    return {"seconds": round(seconds, 3), "rss_mb": round(rss_mb, 1), "torch_loaded": torch_loaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="results/env_start.json")
    args = parser.parse_args()
    from wsa_robot.envs.gl import ensure_headless_gl

    ensure_headless_gl()
    from wsa_robot.core.atomic import write_json
    from wsa_robot.core.provenance import provenance

    runs: dict[str, list[dict]] = {"torch-free": [], "sb3": []}
    for r in range(args.rounds):
        for variant in runs:
            runs[variant].append(start_once(variant))
            print(f"round {r + 1} {variant}: {runs[variant][-1]}", flush=True)
    summary = {v: {"median_seconds": statistics.median(x["seconds"] for x in rows),
                   "min_seconds": min(x["seconds"] for x in rows), "max_seconds": max(x["seconds"] for x in rows),
                   "median_rss_mb": statistics.median(x["rss_mb"] for x in rows),
                   "torch_loaded": rows[0]["torch_loaded"]} for v, rows in runs.items()}
    write_json(Path(args.out), {"what": "start of one Lift env subprocess (constructor to first reset) and its RSS",
                                "command": "python benchmarks/bench_env_start.py --rounds " + str(args.rounds),
                                "runs": runs, "summary": summary, "provenance": provenance()})
    print(summary)


if __name__ == "__main__":
    main()
