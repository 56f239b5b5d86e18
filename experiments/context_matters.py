"""Does the context move WSA's weights? One deterministic episode per trained run, the token weights of every
step (the weights of the forward that chose each action), and how far each token's weight moves over it.

    python experiments/context_matters.py runs/lift_linear:linear runs/lift_additive:additive
    python experiments/context_matters.py RUN[:LABEL] ... [--episodes 1] [--seed S]
        [--out results/context_weights_lift.json]

A context-blind scorer (`wsa_scorer=linear`) can only move a token's weight through that token's own
embedding; a scorer that reads the context (`additive`, the default) can move every weight as the scene
changes. The spread is each token's standard deviation over the episode's steps (and its min-max range).

Writes the JSON ({label: {run, scorer, tokens, weights [T][K], spread, range, mean, return, success}}) and,
beside it, a PNG with one panel per run: every token's weight over the episode, the runs side by side.
The runs to compare come from `experiments/learn_check.py --label ...` (same task and budget, one config key apart).
"""

from __future__ import annotations

# Imports inside functions: torch and SB3's preprocessing, only for the context swap of a loaded agent.

import argparse
from pathlib import Path

import numpy as np

from wsa_robot.agents import load_agent
from wsa_robot.core.atomic import write_json
from wsa_robot.engine.curves import Panel, Series, plot_curves
from wsa_robot.agents.evaluate import run_episode
from wsa_robot.fusion import has_weights, reads_scorer
from wsa_robot.run.pipeline import make_vec_env, plan
from wsa_robot.core.provenance import provenance
from wsa_robot.run.run_dir import RunDir


def episode_weights(run: RunDir, seed: int | None, episodes: int) -> dict:
    """The run's latest checkpoint on `episodes` deterministic episodes (seeded as `wsa-robot eval`); the
    per-step weights of all of them, in order."""
    cfg = run.read_config()
    if not has_weights(cfg.fusion):
        raise SystemExit(f"{run.path} is a fusion={cfg.fusion} run: it has no token weights")
    pipe = plan(cfg)
    venv = make_vec_env(pipe, 1, pipe.spec.seeds.eval if seed is None else seed, training=False)
    try:
        model = load_agent(cfg, run.checked_model_file(), None)
        results = [run_episode(model, venv) for _ in range(episodes)]
        swap = context_swap_effect(model, venv, pipe.context_key)
    finally:
        venv.close()
    weights = np.concatenate([r["weights_per_step"] for r in results])  # [T, K]
    keys = list(pipe.token_keys)
    return {
        "run": str(run.path), "task": cfg.task, "fusion": cfg.fusion,
        "scorer": cfg.wsa_scorer if reads_scorer(cfg.fusion) else None, "context": pipe.context_key,
        "steps_trained": run.read_state()["num_timesteps"], "episodes": episodes,
        "return": [r["return"] for r in results], "success": [r["success"] for r in results],
        "tokens": keys, "weights": weights.round(5).tolist(),
        "spread": dict(zip(keys, map(float, weights.std(0)))),
        "range": dict(zip(keys, map(float, weights.max(0) - weights.min(0)))),
        "mean": dict(zip(keys, map(float, weights.mean(0)))),
        "context_swap": swap,
    }


def context_swap_effect(model, venv, context_key: str, seed: int = 0) -> dict:
    """How much the weights move when only the context changes: one more deterministic episode, then every
    step's tokens scored against the context of another step of it (a fixed shuffle). Mean and max over the
    steps of the largest |weight change| of a token. A context-blind scorer gives 0 here by construction;
    the spread above mixes both sources (a token's own embedding changes too)."""
    import torch
    from stable_baselines3.common.preprocessing import preprocess_obs

    from wsa_robot.agents import act, policy_extractor
    from wsa_robot.fusion.adapters import token_mask
    from wsa_robot.fusion.attention import masked_softmax

    seen, obs = [], venv.reset()
    while True:
        seen.append({k: v.copy() for k, v in obs.items()})
        action, _ = act(model, obs)
        obs, _, done, _ = venv.step(action)
        if done[0]:
            break
    batch = {k: np.concatenate([o[k] for o in seen]) for k in seen[0]}
    swapped = dict(batch, **{context_key: batch[context_key][np.random.default_rng(seed).permutation(len(seen))]})
    ext, policy = policy_extractor(model), model.policy

    def weights(tokens_from: dict, context_from: dict) -> np.ndarray:
        """The weights of `tokens_from`'s tokens scored against `context_from`'s context (the context may be
        a token too, as ae@agentview on Lift: only its context role is swapped)."""
        with torch.no_grad():
            t, c = (preprocess_obs(policy.obs_to_tensor(o)[0], policy.observation_space)
                    for o in (tokens_from, context_from))
            z = ext.tokens(t)
            mask = token_mask(t, z.shape[1], z.shape[0], z.device)
            return masked_softmax(ext.scores(ext.context(c[context_key].float()), z), mask).cpu().numpy()
    change = np.abs(weights(batch, batch) - weights(batch, swapped)).max(1)  # [T]: most any token's weight moved
    return {"steps": len(seen), "mean_max_change": float(change.mean()), "max_change": float(change.max())}


def plot(results: dict[str, dict], path: Path) -> Path | None:
    """One panel per run, side by side on one y scale: each token's weight over the steps (engine/curves.py)."""
    series, panels = [], []
    for i, (label, r) in enumerate(results.items()):
        w = np.asarray(r["weights"])
        series += [Series(f"{key} (sd {r['spread'][key]:.3f})", [[{"steps": t, label: float(w[t, k])}
                                                                  for t in range(len(w))]], width=1.3, marker=None)
                   for k, key in enumerate(r["tokens"])]
        panels.append(Panel(label, "token weight" if i == 0 else "",
                            f"{label}: {r['fusion']}" + (f", scorer {r['scorer']}" if r["scorer"] else "")
                            + f"\ncontext of another step: weights move {r['context_swap']['mean_max_change']:.3f}"))
    return plot_curves(series, panels, path, xlabel="step", panel_size=(5, 3.5), legend="upper right",
                       legend_each_panel=True, sharey=True,
                       suptitle="token weights over a deterministic episode (sd: spread over the steps)")


def parse(spec: str) -> tuple[str, RunDir]:
    """RUN or RUN:LABEL (the label defaults to the run's folder name)."""
    path, _, label = spec.partition(":")
    return label or Path(path).name, RunDir(Path(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run dirs, each RUN or RUN:LABEL")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--seed", type=int, default=None, help="first env seed (default: each run's eval seed)")
    parser.add_argument("--out", type=Path, default=Path("results/context_weights_lift.json"))
    args = parser.parse_args()
    prov = provenance()  # at the start: the load it measures is the machine's before this script
    runs = dict(map(parse, args.runs))
    results = {label: episode_weights(run, args.seed, args.episodes) for label, run in runs.items()}
    write_json(args.out, {**results, "provenance": prov})
    png = plot(results, args.out.with_suffix(".png"))
    for label, r in results.items():
        spread = "  ".join(f"{k} {v:.4f}" for k, v in r["spread"].items())
        print(f"{label:>12}  return {np.mean(r['return']):7.2f}  weight sd per token: {spread}  "
              f"context swapped: mean max change {r['context_swap']['mean_max_change']:.4f}")
    print(f"wrote {args.out} and {png}")


if __name__ == "__main__":
    main()
