"""Where an Atari PPO agent step spends its time: WSA (the frozen skills) against E2E, side by side.

    python benchmarks/profile_atari_step.py                          # results/throughput_profile_pong.json
    python benchmarks/profile_atari_step.py --iterations 1 --out /tmp/profile.json
    python benchmarks/profile_atari_step.py --combine before.json after.json   # one file, before and after a change

Builds PPO as benchmarks/_bench_atari.py does (as `wsa-robot train --task atari/Pong` builds it: 8 envs in one
process, n_steps 128, 4 epochs, batch 256), runs one untimed iteration, then times `--iterations` whole PPO
iterations with a wall clock around each phase (wrapped methods, no profiler overhead):

    env_step          the 8 ALE envs and their wrappers (DummyVecEnv.step_wait, and reset)
    skills_input      uint8 frame stacks -> float input of the frozen skills (EncoderBank: batch and prepare)
    skill:<name>      each frozen skill's forward (`encode`, in torch, or onnxruntime for `wsa:onnx`)
    skills_output     embeddings -> float16 numpy (EncoderBank), token dict and mask (EmbeddingVecEnv)
    policy_rollout    the policy's forward on each rollout step (obs to tensors, extractor, heads, sampling)
    ppo_update        PPO.train: n_epochs over the rollout (forward, backward, Adam step)
    rest              everything else of the iteration (buffer writes, GAE, callbacks)

Per phase: wall and CPU (this thread's) milliseconds per agent step and their share of the iteration; with
--torch-threads 1 the CPU time is all the work, and it does not grow when other processes share the cores. The two configurations alternate
(`--rounds`); each phase's median over rounds is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from functools import wraps
from pathlib import Path
from typing import Any, Callable

import torch

from _bench_atari import _config
from _bench_util import machine_info
from wsa_robot.agents import build_agent
from wsa_robot.core.atomic import write_json
from wsa_robot.encoders.vec_env import EmbeddingVecEnv
from wsa_robot.run.pipeline import make_vec_env, plan
from wsa_robot.core.provenance import provenance


class Clock:
    """Wall and CPU seconds (this thread's) per named phase; `wrap` times a bound method in place (the instance
    attribute hides it). On a shared machine the CPU time is the steadier of the two: a phase preempted by
    other processes loses wall time, not CPU time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def timed(self, inner: Callable, phase: str) -> Callable:
        """`inner`, its time added to `phase` on every call."""

        def timed(*args, **kwargs):
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start
                self.cpu[phase] += time.thread_time() - cpu

        return timed

    def wrap(self, obj: Any, method: str, phase: str) -> None:
        inner: Callable = getattr(obj, method)
        # nn.Module too: a plain attribute, not a submodule
        object.__setattr__(obj, method, wraps(inner)(self.timed(inner, phase)))


def instrument(clock: Clock, model, venv) -> None:
    """Wrap the phases named in the module docstring; nested phases are subtracted in `split`."""
    inner = venv.venv if isinstance(venv, EmbeddingVecEnv) else venv
    clock.wrap(inner, "step_wait", "env_step")
    clock.wrap(inner, "reset", "env_step")
    if isinstance(venv, EmbeddingVecEnv):
        clock.wrap(venv, "embed", "_embed_total")
        bank = venv.bank
        for i, enc in enumerate(bank.encoders):
            bank.runners[i] = clock.timed(bank.runners[i], f"skill:{enc.name}")  # torch's encode or onnxruntime's
            clock.wrap(enc, "prepare", "skills_input")
    clock.wrap(model.policy, "forward", "policy_rollout")
    clock.wrap(model, "train", "ppo_update")
    clock.wrap(model, "collect_rollouts", "_rollout_total")


def split(seconds: dict[str, float], total: float, steps: int) -> dict[str, dict[str, float]]:
    """ms per agent step and share of the iteration, per phase; the nested totals become `skills_output`
    and `rest`."""
    flat = {k: v for k, v in seconds.items() if not k.startswith("_")}
    if "_embed_total" in seconds:
        inside = sum(v for k, v in flat.items() if k.startswith("skill") and k != "skills_output")
        flat["skills_output"] = seconds["_embed_total"] - inside
    flat["rest"] = total - sum(flat.values())
    return {k: {"ms_per_step": round(1000 * v / steps, 4), "share": round(v / total, 4)}
            for k, v in sorted(flat.items(), key=lambda kv: -kv[1])}


def profile(fusion: str, seed: int, iterations: int, n_steps: int, variant: str = "") -> dict:
    cfg = _config(fusion, seed, iterations, n_steps, variant)
    pipe = plan(cfg, "cpu")
    venv = make_vec_env(pipe, cfg.n_envs, seed, training=True)
    try:
        model = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, tensorboard_log=None)
        per_iteration = model.n_steps * model.n_envs
        model.learn(per_iteration)  # warm-up, untimed
        clock = Clock()
        instrument(clock, model, venv)
        start, cpu = time.perf_counter(), time.thread_time()
        model.learn(per_iteration * iterations, reset_num_timesteps=False)
        total, total_cpu = time.perf_counter() - start, time.thread_time() - cpu
    finally:
        venv.close()
    steps = per_iteration * iterations
    return {"steps_per_s": steps / total, "steps_per_cpu_s": steps / total_cpu,
            "phases": split(clock.seconds, total, steps), "phases_cpu": split(clock.cpu, total_cpu, steps)}


def _median_phases(rounds: list[dict], field: str) -> dict[str, dict[str, float]]:
    names = {k for r in rounds for k in r[field]}

    def med(name: str, metric: str) -> float:
        return round(statistics.median(r[field].get(name, {metric: 0.0})[metric] for r in rounds), 4)

    return {k: {m: med(k, m) for m in ("ms_per_step", "share")}
            for k in sorted(names, key=lambda k: -med(k, "ms_per_step"))}


def median_rounds(rounds: list[dict]) -> dict:
    return {
        "steps_per_s": round(statistics.median(r["steps_per_s"] for r in rounds), 2),
        "runs_steps_per_s": [round(r["steps_per_s"], 2) for r in rounds],
        "steps_per_cpu_s": round(statistics.median(r["steps_per_cpu_s"] for r in rounds), 2),
        "runs_steps_per_cpu_s": [round(r["steps_per_cpu_s"], 2) for r in rounds],
        "phases": _median_phases(rounds, "phases"),
        "phases_cpu": _median_phases(rounds, "phases_cpu"),
    }


def combine(before: Path, after: Path, out: Path) -> None:
    """Two profile files (e.g. the same command on the commit before a change and after it) in one, with the
    speed-up of each configuration by CPU time (steady under load) and by wall clock."""
    runs = {"before": json.loads(before.read_text()), "after": json.loads(after.read_text())}
    speedup = {}
    for fusion in runs["after"]["configs"]:
        b, a = runs["before"]["configs"][fusion], runs["after"]["configs"][fusion]
        speedup[fusion] = {"cpu": round(a["steps_per_cpu_s"] / b["steps_per_cpu_s"], 3),
                           "wall": round(a["steps_per_s"] / b["steps_per_s"], 3)}
    write_json(out, {"provenance": provenance(), "sources": {"before": str(before), "after": str(after)},
                     **runs, "speedup_after_vs_before": speedup})
    print(json.dumps(speedup))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2, help="timed PPO iterations per run")
    parser.add_argument("--n-steps", type=int, default=128)
    parser.add_argument("--fusions", default="wsa,e2e",
                        help="configurations, alternated: a fusion, or fusion:variant (onnx: encoder_runtime=onnx, "
                             "which needs pip install -e '.[onnx]'; bf16 or fp32: encoder_precision, which is "
                             "auto for the task), e.g. wsa,wsa:fp32,e2e")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch.set_num_threads (0: torch's default, as train() leaves it for Atari)")
    parser.add_argument("--label", default="", help="a note stored with the results (e.g. before / after)")
    parser.add_argument("--out", type=Path, default=Path("results/throughput_profile_pong.json"))
    parser.add_argument("--combine", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
                        help="write two profile files into --out as before/after, and time nothing")
    args = parser.parse_args()
    if args.combine:
        return combine(*args.combine, args.out)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    prov, machine = provenance(), machine_info()
    fusions = args.fusions.split(",")
    rounds: dict[str, list[dict]] = {f: [] for f in fusions}
    for r in range(args.rounds):
        for fusion in fusions:
            name, _, variant = fusion.partition(":")
            rounds[fusion].append(profile(name, r, args.iterations, args.n_steps, variant))
            print(f"round {r + 1}/{args.rounds} {fusion}: {rounds[fusion][-1]['steps_per_s']:.1f} agent steps/s")
    res = {"provenance": prov, "machine": machine, "label": args.label,
           "settings": {"game": "atari/Pong", "n_envs": 8, "n_steps": args.n_steps, "iterations": args.iterations,
                        "rounds": args.rounds, "torch_threads": torch.get_num_threads()},
           "unit": "ms of wall clock per agent step; share of the timed iterations",
           "configs": {f: median_rounds(rs) for f, rs in rounds.items()}}
    for num, den in [("wsa", "e2e"), ("wsa:onnx", "e2e"), ("wsa:onnx", "wsa"), ("wsa:bf16", "e2e"),
                     ("wsa:bf16", "wsa"), ("wsa:fp32", "e2e"), ("wsa", "wsa:fp32")]:
        if {num, den} <= set(fusions):
            a, b = res["configs"][num], res["configs"][den]
            label = f"{num.replace(':', '_')}_vs_{den.replace(':', '_')}"
            res[label] = round(a["steps_per_s"] / b["steps_per_s"], 3)
            res[f"{label}_cpu"] = round(a["steps_per_cpu_s"] / b["steps_per_cpu_s"], 3)
    write_json(args.out, res)
    for fusion, c in res["configs"].items():
        print(f"{fusion}: {c['steps_per_s']} agent steps/s, {c['steps_per_cpu_s']} per CPU second")
        for k, v in c["phases"].items():
            cpu = c["phases_cpu"].get(k, {"ms_per_step": 0.0, "share": 0.0})
            print(f"  {k:<32} wall {v['ms_per_step']:8.3f} ms/step {100 * v['share']:5.1f} %   "
                  f"CPU {cpu['ms_per_step']:8.3f} ms/step {100 * cpu['share']:5.1f} %")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
