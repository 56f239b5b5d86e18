"""Where one SAC update of the default Lift agent spends its time: whole updates in SB3's order and in ours
(agents/sac_update.py), the parts of ours, each module's forward and backward, and the multiply-adds of each.

    python benchmarks/profile_sac_update.py --label default                  # appends to results/profile_sac_update_lift.json
    python benchmarks/profile_sac_update.py --label scorer-64 wsa_scorer_hidden=64

The agent is the one `wsa-robot train --task Lift` builds (trailing key=value overrides change it), its replay
buffer filled with real transitions of the default pipeline (robosuite, 2 cameras, the frozen `ae`). Updates
run on `--threads` torch threads (1: what the learner gets under sac.overlap on 2 cores, agents/threads.py).
Variants, timed in turn (round robin, so drift in the machine's speed hits each alike):

    sb3             SB3's SAC.train on this policy: five fusion passes per update
    one_pass_fresh  ours, actor_features=fresh: four passes, the same update as SB3's
    one_pass_reused ours, actor_features=reused: three passes (DrQ-v2's actor features)

Multiply-adds come from torch's FlopCounterMode (FLOPs / 2): per whole update (forward and backward) and
per module forward.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

import torch

from wsa_robot.envs.gl import ensure_headless_gl

ensure_headless_gl()  # MUJOCO_GL must be set before anything imports mujoco

from stable_baselines3 import SAC  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from wsa_robot.core.atomic import write_json  # noqa: E402
from wsa_robot.config import load_config  # noqa: E402
from wsa_robot.core.provenance import provenance  # noqa: E402

VARIANTS = ("sb3", "one_pass_fresh", "one_pass_reused")


def build(overrides: list[str], fill: int, seed: int):
    """The default Lift agent as train() builds it, its buffer holding `fill` real transitions."""
    from wsa_robot.agents import build_agent
    from wsa_robot.run.pipeline import make_vec_env, plan

    cfg = load_config(["task=Lift", f"seed={seed}", "vec_env=dummy", f"sac.learning_starts={fill}",
                       "eval_every=0", *overrides])
    pipe = plan(cfg)
    venv = make_vec_env(pipe, 1, seed, training=True)
    model = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, tensorboard_log=None)
    model.learn(fill)  # learning_starts = fill: no update yet, the buffer holds real frames' embeddings
    venv.close()
    return cfg, model


def run_variant(model, variant: str, batch: int) -> None:
    if variant == "sb3":
        SAC.train(model, 1, batch)
    else:
        model.actor_features = variant.removeprefix("one_pass_")
        model.train(1, batch)


class PartTimer:
    """model.timer: the time from each named point to the next, summed over one update."""

    def __init__(self) -> None:
        self.parts: dict[str, list[float]] = defaultdict(list)
        self._last: tuple[str, float] | None = None
        self._update: dict[str, float] = defaultdict(float)

    def __call__(self, part: str) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self._update[self._last[0]] += now - self._last[1]
        if part == "end":
            for name, seconds in self._update.items():
                self.parts[name].append(seconds * 1e3)
            self._update, self._last = defaultdict(float), None
        else:
            self._last = (part, now)


def time_updates(model, batch: int, rounds: int, per_round: int) -> tuple[dict, dict]:
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    timers = {v: PartTimer() for v in VARIANTS if v != "sb3"}
    for v in VARIANTS:  # warm-up
        for _ in range(5):
            run_variant(model, v, batch)
    for _ in range(rounds):
        for v in VARIANTS:
            model.timer = timers.get(v, lambda part: None)
            for _ in range(per_round):
                t0 = time.perf_counter()
                run_variant(model, v, batch)
                times[v].append((time.perf_counter() - t0) * 1e3)
    model.timer = lambda part: None
    updates = {v: {"median_ms": round(statistics.median(t), 2), "p25_ms": round(_q(t, 0.25), 2),
                   "p75_ms": round(_q(t, 0.75), 2), "n": len(t)} for v, t in times.items()}
    parts = {v: {p: round(statistics.median(ms), 3) for p, ms in timer.parts.items()} for v, timer in timers.items()}
    return updates, parts


def _q(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def multiply_adds(model, batch: int) -> dict:
    """Multiply-adds of one whole update per variant (forward and backward)."""
    out = {}
    for v in VARIANTS:
        counter = FlopCounterMode(display=False)
        with counter:
            run_variant(model, v, batch)
        out[v] = {"total_M": round(counter.get_total_flops() / 2e6, 1)}
    return out


def module_times(model, batch: int, repeats: int) -> dict:
    """Forward and forward+backward of each piece of the fusion module and of the heads, on one replay batch."""
    data = model.replay_buffer.sample(batch)
    ext = model.critic.features_extractor
    obs = {k: v.float() if v.dtype == torch.float16 else v for k, v in data.observations.items()}
    z = ext.tokens(obs).detach()
    c = ext.context(obs[ext.context_key].float()).detach()
    features = ext(obs).detach()
    q_in = torch.cat([features, data.actions], dim=1).detach()
    pieces = {
        "extractor": lambda: ext(obs),
        "adapters": lambda: ext.tokens(obs),
        "context": lambda: ext.context(obs[ext.context_key].float()),
        "scorer": lambda: ext.scores(c, z) if hasattr(ext, "scores") else torch.zeros(()),
        "critic_heads": lambda: torch.cat([q(q_in) for q in model.critic.q_networks], 1),
        "actor_head": lambda: model.actor.mu(model.actor.latent_pi(features)),
    }
    out = {}
    for name, fn in pieces.items():
        counter = FlopCounterMode(display=False)
        with counter:
            fn()
        out[name] = {"forward_M_multiply_adds": round(counter.get_total_flops() / 2e6, 1)}
        fwd, both = [], []
        for _ in range(repeats):
            with torch.no_grad():
                t0 = time.perf_counter()
                fn()
                fwd.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            y = fn()
            if y.requires_grad:
                y.sum().backward()
            both.append(time.perf_counter() - t0)
        model.critic.optimizer.zero_grad()
        model.actor.optimizer.zero_grad()
        out[name].update(forward_ms=round(statistics.median(fwd) * 1e3, 3),
                         forward_backward_ms=round(statistics.median(both) * 1e3, 3))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True, help="names this profile in the file (e.g. default, scorer-64)")
    parser.add_argument("--out", type=Path, default=Path("results/profile_sac_update_lift.json"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the updates")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=25, help="updates per variant per round")
    parser.add_argument("--fill", type=int, default=400, help="real transitions in the buffer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("overrides", nargs="*", help="key=value for the agent's config")
    args = parser.parse_args()
    prov = provenance()
    torch.manual_seed(args.seed)
    cfg, model = build(args.overrides, args.fill, args.seed)
    torch.set_num_threads(args.threads)
    batch = cfg.sac.batch_size
    updates, parts = time_updates(model, batch, args.rounds, args.per_round)
    profile = {
        "label": args.label, "overrides": args.overrides, "threads": args.threads, "batch_size": batch,
        "fusion": cfg.fusion, "fusion_dim": cfg.fusion_dim, "wsa_scorer": cfg.wsa_scorer,
        "wsa_scorer_hidden": cfg.wsa_scorer_hidden or cfg.fusion_dim,
        "update_ms": updates, "parts_ms": parts,
        "modules_ms": module_times(model, batch, 50),
        "multiply_adds": multiply_adds(model, batch),
        "provenance": prov,
    }
    old = __import__("json").loads(args.out.read_text()) if args.out.exists() else {}
    profiles = [p for p in old.get("profiles", []) if p["label"] != args.label] + [profile]
    write_json(args.out, {
        "what": "one SAC update (batch 256) of the default Lift agent: whole updates by variant, the parts of ours, "
                "each module's forward and forward+backward, multiply-adds; benchmarks/profile_sac_update.py",
        "profiles": profiles,
        "provenance": prov,  # this run's; each profile keeps its own
    })
    for v, u in updates.items():
        print(f"{v:16s} {u['median_ms']:7.2f} ms  (p25 {u['p25_ms']}, p75 {u['p75_ms']})  "
              f"{profile['multiply_adds'][v]['total_M']:.0f} M multiply-adds")
    for v, p in parts.items():
        print(v, " ".join(f"{k}={ms:.2f}" for k, ms in p.items()))
    for k, m in profile["modules_ms"].items():
        print(f"  {k:14s} fwd {m['forward_ms']:.2f} ms  fwd+bwd {m['forward_backward_ms']:.2f} ms  "
              f"fwd {m['forward_M_multiply_adds']:.0f} M multiply-adds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
