"""Scripted controllers that solve a robosuite task from the simulator's state (config `sac.expert_steps`).

SAC from a perfect state plateaus at reaching on Lift: in 200k steps no config found the grasp and the lift
(issue 16, results/learn_lift.json), as robosuite's own SAC benchmark needs millions of steps. Lifting pays
2.25 against reaching's 1, but a policy that has never lifted has never seen it pay. With `sac.expert_steps`
the first steps of training are played by one of these controllers instead of SB3's uniform random warm-up,
so the replay buffer holds successes from the start (as in DDPGfD, SACfD and RLPD's offline data).

They are PRIVILEGED: they read the objects' positions from the simulator, which a robot with cameras does not
have. Only the warm-up's actions come from them; the agent itself sees what its run's encoders see and acts
alone after the warm-up, at eval, and on a real robot.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# robosuite's OSC arm controllers map an action of 1 to a 5 cm move of the hand's target (output_max)
OSC_STEP = 0.05
ABOVE = 0.06  # approach height over the object's centre, metres
LIFT = 0.15  # Lift: held this high over where the hand closed (Lift succeeds at 4 cm)
CARRY = 0.12  # Stack: carried this high over the target before it is lowered
GRIP_STEPS = 12  # robosuite's incremental Panda gripper closes (or opens) in 10 steps of one sign (envs/gripper.py)


class PickExpert:
    """Above the object, down around it with the hand open, close, up; then, given a place to put it, over that
    place, down, open and away; without one, hold it up. The hand's position comes from proprio, the object's
    and the place's from the simulator. Works with both arm controllers (orientation deltas 0) and every gripper
    mode (it holds the gripper action at -1 or +1)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.phase, self.gripped_for, self.opened_for, self.hold = "approach", 0, 0, None

    def act(self, hand: np.ndarray, obj: np.ndarray, place: np.ndarray | None, action_dim: int) -> np.ndarray:
        """`place`: where the hand releases the object (the object's centre there); None: hold it up."""
        grip = -1.0
        if self.phase == "approach":
            target = obj + [0.0, 0.0, ABOVE]
            if np.linalg.norm((target - hand)[:2]) < 0.01 and abs(target[2] - hand[2]) < 0.02:
                self.phase = "descend"
        if self.phase == "descend":
            target = obj.copy()
            if np.linalg.norm(obj - hand) < 0.012:
                self.phase = "close"
        if self.phase == "close":
            target, grip = obj.copy(), 1.0
            self.gripped_for += 1
            if self.gripped_for >= GRIP_STEPS:
                self.phase = "lift"
                self.hold = hand + [0.0, 0.0, LIFT] if place is None else None
        if self.phase == "lift" and place is None:
            target, grip = self.hold, 1.0
        elif self.phase == "lift":
            target, grip = np.array([hand[0], hand[1], place[2] + CARRY]), 1.0
            if hand[2] > place[2] + CARRY - 0.02:
                self.phase = "carry"
        if self.phase == "carry":
            target, grip = place + [0.0, 0.0, CARRY], 1.0
            if np.linalg.norm((place - hand)[:2]) < 0.008:
                self.phase = "lower"
        if self.phase == "lower":
            target, grip = place.copy(), 1.0
            if hand[2] - place[2] < 0.008:
                self.phase = "release"
        if self.phase == "release":
            target = place.copy()
            self.opened_for += 1
            if self.opened_for >= GRIP_STEPS:
                self.phase = "away"
        if self.phase == "away":
            target = place + [0.0, 0.0, ABOVE]
        action = np.zeros(action_dim, np.float32)
        action[:3] = np.clip((target - hand) / OSC_STEP, -1.0, 1.0)
        action[-1] = grip
        return action


def _position(env: Any, body_id: int) -> np.ndarray:
    return np.array(env.sim.data.body_xpos[body_id])


def lift_inputs(env: Any, raw: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, None]:
    """(hand, cube, no place) of a robosuite Lift env, from its last observation and its simulator."""
    return np.asarray(raw["robot0_eef_pos"], float), _position(env, env.cube_body_id), None


def stack_inputs(env: Any, raw: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hand, red cube, where the red cube's centre rests on the green one) of a robosuite Stack env."""
    half_a, half_b = env.cubeA.size[2], env.cubeB.size[2]
    place = _position(env, env.cubeB_body_id) + [0.0, 0.0, half_b + half_a + 0.005]
    return np.asarray(raw["robot0_eef_pos"], float), _position(env, env.cubeA_body_id), place


# robosuite env id -> what the controller reads from the env (the controller is a PickExpert for each)
EXPERTS = {"Lift": lift_inputs, "Stack": stack_inputs}


def has_expert(env_id: str) -> bool:
    return env_id in EXPERTS
