"""Scripted controllers that solve a robosuite task from the simulator's state: they record demonstrations
(`wsa-robot demos record`, demos/record.py) and can play a run's first steps (config `sac.expert_steps`).

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

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

# robosuite's OSC arm controllers map an action of 1 to a 5 cm move of the hand's target (output_max)
OSC_STEP = 0.05
ABOVE = 0.06  # approach height over the object's centre, metres
LIFT = 0.15  # Lift: held this high over where the hand closed (Lift succeeds at 4 cm)
CARRY = 0.12  # Stack: carried this high over the target before it is lowered
# robosuite's incremental Panda gripper closes (or opens) in 10 steps of one sign (gripper.py)
GRIP_STEPS = 12


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


class DoorExpert:
    """Above the handle's end, down onto it with the hand open, close; turn the handle down along its arc about
    the latch's axis until the latch clears (near a quarter turn), then pull the door toward the robot, the
    handle held down. The handle's end and its pivot come from the simulator."""

    REACH = np.array([0.0, 0.015, 0.0])  # the hand's side stops this short of the handle's axis at the door panel
    TURNED = 1.4  # radians of handle turn that clear robosuite's latch (its range ends at 1.57)
    STEP = 0.35  # radians ahead on the arc each target is set

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.phase, self.gripped_for, self.descended_for = "approach", 0, 0

    def act(self, hand: np.ndarray, handle: np.ndarray, pivot: np.ndarray, turned: float, hinge: np.ndarray,
            action_dim: int) -> np.ndarray:
        grip = -1.0
        if self.phase == "approach":
            target = handle + self.REACH + [0.0, 0.0, ABOVE]
            if np.linalg.norm(target - hand) < 0.015:
                self.phase = "descend"
        if self.phase == "descend":
            target = handle + self.REACH
            self.descended_for += 1
            if np.linalg.norm(target - hand) < 0.015 or self.descended_for > 30:  # or as close as the door lets it
                self.phase = "close"
        if self.phase == "close":
            target, grip = hand.copy(), 1.0
            self.gripped_for += 1
            if self.gripped_for >= GRIP_STEPS:
                self.phase = "turn"
        if self.phase in ("turn", "pull"):
            grip = 1.0
            if turned > self.TURNED:
                self.phase = "pull"
            offset = handle - pivot
            radius = np.hypot(offset[0], offset[2])
            angle = min(np.arctan2(-offset[2], -offset[0]) + self.STEP, 1.55)  # 0 level, growing downward
            target = pivot + [-radius * np.cos(angle), offset[1], -radius * np.sin(angle)]
            if self.phase == "pull":  # along the handle's circle about the hinge, the way that comes toward the robot
                radial = (handle - hinge)[:2]
                tangent = np.array([-radial[1], radial[0], 0.0]) / max(np.linalg.norm(radial), 1e-6)
                target = target + 0.06 * (tangent if tangent[1] > 0 else -tangent)
        action = np.zeros(action_dim, np.float32)
        action[:3] = np.clip((target - hand) / OSC_STEP, -1.0, 1.0)
        action[-1] = grip
        return action


def _position(env: Any, body_id: int) -> np.ndarray:
    return np.array(env.sim.data.body_xpos[body_id])


def _hand(raw: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(raw["robot0_eef_pos"], float)


def lift_inputs(env: Any, raw: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, None]:
    """(hand, cube, no place) of a robosuite Lift env, from its last observation and its simulator."""
    return _hand(raw), _position(env, env.cube_body_id), None


def stack_inputs(env: Any, raw: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hand, red cube, where the red cube's centre rests on the green one) of a robosuite Stack env."""
    half_a, half_b = env.cubeA.size[2], env.cubeB.size[2]
    place = _position(env, env.cubeB_body_id) + [0.0, 0.0, half_b + half_a + 0.005]
    return _hand(raw), _position(env, env.cubeA_body_id), place


CAN_DROP = 0.08  # the can is let go this high over its bin's target spot (it falls in upright)


def can_inputs(env: Any, raw: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hand, can, over the can's target spot in its bin) of a robosuite PickPlaceCan env."""
    place = np.array(env.target_bin_placements[env.object_to_id["can"]]) + [0.0, 0.0, CAN_DROP]
    return _hand(raw), _position(env, env.obj_body_id["Can"]), place


def door_inputs(env: Any, raw: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(hand, the handle's end, the handle's pivot, the handle's turn, a point on the door's hinge axis) of a
    robosuite Door env (with its latch)."""
    pivot = _position(env, env.sim.model.body_name2id(env.door.latch_body))
    hinge = np.array(env.sim.data.xanchor[env.sim.model.joint_name2id(env.door.joints[0])])
    handle = np.array(env.sim.data.site_xpos[env.sim.model.site_name2id(env.door.important_sites["handle"])])
    return _hand(raw), handle, pivot, float(env.sim.data.qpos[env.handle_qpos_addr]), hinge


@dataclass(frozen=True)
class Scripted:
    """A task's controller: its class and what it reads from the env and its last raw observation."""
    make: Callable[[], Any]
    inputs: Callable[[Any, dict[str, np.ndarray]], tuple]


# robosuite env id -> its scripted controller
EXPERTS = {"Lift": Scripted(PickExpert, lift_inputs), "Stack": Scripted(PickExpert, stack_inputs),
           "PickPlaceCan": Scripted(PickExpert, can_inputs), "Door": Scripted(DoorExpert, door_inputs)}


def has_expert(env_id: str) -> bool:
    return env_id in EXPERTS
