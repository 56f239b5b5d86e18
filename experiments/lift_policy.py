"""What a Lift agent does in its deterministic eval episodes, phase by phase (issue 16): how close the gripper
gets to the cube, how often it closes its fingers, whether it grasps, how high the cube goes, and where the
reward comes from. A return of ~60 over 200 steps can mean "hovers over the cube" or "lifts late"; this
tells them apart. Reads the simulator, so it works for any run on Lift (cameras or the state oracle).

    python experiments/lift_policy.py RUN_DIR --episodes 10 --out results/lift_policy_oracle.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from wsa_robot.agents import load_agent
from wsa_robot.agents.acting import act
from wsa_robot.core.atomic import write_json
from wsa_robot.envs.gl import choose_gl_backend
from wsa_robot.core.errors import UserError
from wsa_robot.run.pipeline import make_vec_env, plan
from wsa_robot.core.provenance import provenance
from wsa_robot.run.run_dir import existing_run_dir
from wsa_robot.run.spec import resolve

LIFT_HEIGHT = 0.04  # robosuite Lift's success: the cube's bottom more than 4 cm above the table


def robosuite_env(venv):
    """The robosuite environment under the wrappers of the eval VecEnv's one env (a DummyVecEnv)."""
    env = venv.envs[0] if hasattr(venv, "envs") else None
    while env is not None and not hasattr(env, "_env"):
        env = getattr(env, "env", None)
    if env is None:
        raise UserError("lift_policy.py reads the simulator: run it on a Lift run (vec_env=dummy for eval)")
    return env._env


def episode(model, venv) -> dict:
    obs = venv.reset()
    raw = robosuite_env(venv)
    table_z = raw.model.mujoco_arena.table_offset[2]
    dist, closing, grasped, height, rewards, success = [], [], [], [], [], False
    for _ in range(raw.horizon):
        action, _ = act(model, obs, deterministic=True)
        obs, reward, done, info = venv.step(action)
        if done[0]:  # the VecEnv has reset already: the last step's state is gone
            rewards.append(float(reward[0]))
            success = success or bool(info[0].get("is_success"))
            break
        cube = raw.sim.data.body_xpos[raw.cube_body_id]
        eef = raw.sim.data.site_xpos[raw.robots[0].eef_site_id["right"]]
        dist.append(float(np.linalg.norm(cube - eef)))
        closing.append(float(action[0][-1]) > 0)  # robosuite's gripper: > 0 closes, < 0 opens
        grasped.append(bool(raw._check_grasp(gripper=raw.robots[0].gripper, object_geoms=raw.cube)))
        height.append(float(cube[2] - table_z))
        rewards.append(float(reward[0]))
        success = success or bool(info[0].get("is_success"))
    return {"success": success, "return": float(np.sum(rewards)),
            "min_gripper_cube_m": min(dist), "final_gripper_cube_m": dist[-1],
            "steps_within_3cm": int(np.sum(np.asarray(dist) < 0.03)),
            "closing_share": float(np.mean(closing)), "grasp_steps": int(np.sum(grasped)),
            "max_cube_height_m": float(max(height) - min(height[:1] or [0.0]))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    prov = provenance()
    try:
        run = existing_run_dir(args.run)
        cfg = run.read_config()
        if cfg.task != "Lift":
            raise UserError(f"{args.run} is a {cfg.task} run; lift_policy.py reads Lift's cube")
        choose_gl_backend()
        pipe = plan(resolve(cfg))
        venv = make_vec_env(pipe, 1, pipe.spec.seeds.eval, training=False)
        model = load_agent(cfg, run.checked_model_file(), None)
        steps = run.checkpoint_step()
        try:
            episodes = [episode(model, venv) for _ in range(args.episodes)]
        finally:
            venv.close()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    keys = [k for k in episodes[0] if k != "success"]
    summary = {k: float(np.mean([e[k] for e in episodes])) for k in keys}
    summary["success_rate"] = float(np.mean([e["success"] for e in episodes]))
    write_json(args.out, {"run": str(args.run), "steps": steps, "episodes": episodes, "mean": summary,
                          "provenance": prov})
    for k, v in summary.items():
        print(f"{k:>24}: {v:.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
