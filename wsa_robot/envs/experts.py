"""Scripted controllers that solve a robosuite task from the simulator's state (config `sac.expert_steps`).

SAC from a perfect state plateaus at reaching on Lift: in 200k steps no config found the grasp and the lift
(issue 16, results/learn_lift.json), as robosuite's own SAC benchmark needs millions of steps. Lifting pays
2.25 against reaching's 1, but a policy that has never lifted has never seen it pay. With `sac.expert_steps`
the first steps of training are played by one of these controllers instead of SB3's uniform random warm-up,
so the replay buffer holds lifts from the start (as in DDPGfD, SACfD and RLPD's offline data).

They are PRIVILEGED: they read the object's position from the simulator, which a robot with cameras does not
have. Only the warm-up's actions come from them; the agent itself sees what its run's encoders see and acts
alone after the warm-up, at eval, and on a real robot.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# robosuite's OSC arm controllers map an action of 1 to a 5 cm move of the hand's target (output_max)
OSC_STEP = 0.05
ABOVE = 0.06  # approach height over the object's centre, metres
LIFT = 0.15  # then held this high over where it closed (Lift succeeds at 4 cm)
CLOSE_STEPS = 12  # robosuite's incremental Panda gripper closes in 10 steps of +1 (envs/gripper.py)


class LiftExpert:
    """Above the cube, down around it with the hand open, close, then up and hold: the hand's position from proprio,
    the cube's from the simulator. Works with both arm controllers (orientation deltas 0) and every gripper
    mode (it holds the gripper action at -1 or +1)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.phase, self.closed_for, self.lift_to = "approach", 0, None

    def act(self, hand: np.ndarray, cube: np.ndarray, action_dim: int) -> np.ndarray:
        grip = -1.0
        if self.phase == "approach":
            target = cube + [0.0, 0.0, ABOVE]
            if np.linalg.norm((target - hand)[:2]) < 0.01 and abs(target[2] - hand[2]) < 0.02:
                self.phase = "descend"
        if self.phase == "descend":
            target = cube.copy()
            if np.linalg.norm(cube - hand) < 0.012:
                self.phase = "close"
        if self.phase == "close":
            target, grip = cube.copy(), 1.0
            self.closed_for += 1
            if self.closed_for >= CLOSE_STEPS:
                self.phase, self.lift_to = "lift", hand + [0.0, 0.0, LIFT]
        if self.phase == "lift":
            target, grip = self.lift_to, 1.0
        action = np.zeros(action_dim, np.float32)
        action[:3] = np.clip((target - hand) / OSC_STEP, -1.0, 1.0)
        action[-1] = grip
        return action


def lift_inputs(env: Any, raw: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(hand, cube) positions of a robosuite Lift env, from its last observation and its simulator."""
    return np.asarray(raw["robot0_eef_pos"], float), np.array(env.sim.data.body_xpos[env.cube_body_id])


# robosuite env id -> (the controller's class, what it reads from the env)
EXPERTS = {"Lift": (LiftExpert, lift_inputs)}


def has_expert(env_id: str) -> bool:
    return env_id in EXPERTS
