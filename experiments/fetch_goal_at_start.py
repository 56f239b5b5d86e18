"""How often a Fetch episode starts already solved: the block within the success distance of the goal at reset.

    python experiments/fetch_goal_at_start.py --episodes 2000

Resets FetchPush-v4 and FetchPickAndPlace-v4 (gymnasium-robotics) with seeds 0..N-1 and asks the env's own
compute_reward whether the initial achieved goal already meets the desired one (sparse reward 0). A policy that
never touches the block scores this share as success. Writes results/fetch_goal_at_start.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import provenance

ENVS = ("FetchPush-v4", "FetchPickAndPlace-v4")


def share_solved_at_reset(env_id: str, episodes: int) -> dict:
    import gymnasium_robotics

    gym.register_envs(gymnasium_robotics)
    env = gym.make(env_id)
    solved = []
    for seed in range(episodes):
        obs, _ = env.reset(seed=seed)
        reward = env.unwrapped.compute_reward(obs["achieved_goal"], obs["desired_goal"], {})
        solved.append(float(reward) == 0.0)
    env.close()
    return {"episodes": episodes, "solved_at_reset": int(np.sum(solved)),
            "share": round(float(np.mean(solved)), 4), "seeds": f"0..{episodes - 1}"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=2000)
    p.add_argument("--out", type=Path, default=Path("results/fetch_goal_at_start.json"))
    args = p.parse_args()
    prov, t0 = provenance(), time.time()
    rows = {env_id: share_solved_at_reset(env_id, args.episodes) for env_id in ENVS}
    for env_id, row in rows.items():
        print(f"{env_id:<22} {row['solved_at_reset']}/{row['episodes']} start solved ({100 * row['share']:.1f}%)")
    write_json(args.out, {"provenance": prov, "test": "env.compute_reward(achieved_goal, desired_goal) == 0 "
                          "right after reset (the env's own success distance, 0.05 m)", "envs": rows,
                          "wall_s": round(time.time() - t0, 1)})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
