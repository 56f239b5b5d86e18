"""How the gripper's action dimension drives the fingers (config `gripper`, robosuite).

robosuite's Panda gripper is `incremental`: each action moves the fingers' target 0.2 of the way from open (-1)
to closed (+1) by the action's sign, so closing takes 10 consecutive positive actions. A Gaussian policy that
explores the gripper flips that sign at random and seldom closes on the cube: the state oracle on Lift learned
to reach but not to grasp (issue 16, results/lift_policy_oracle.json). `absolute`: the action is the target
itself (-1 open, +1 closed, in between a partly closed hand), so one action closes the hand; the fingers still
move at their actuators' speed. An exploring policy's mean starts near 0, a half-closed hand whose 4 cm gap
cannot straddle Lift's cube, and the absolute oracle learned to keep the hand closed
(results/lift_policy_oracle_abs.json). `binary`: open unless the action is positive, then closed, so a hand
that explores is either open enough to straddle the cube or closed on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Imports inside functions: robosuite, loaded by the env that calls this (after the GL backend is chosen).

GRIPPER_MODES = ("incremental", "absolute", "binary")


def _target_from_action(gripper: Any, binary: bool) -> None:
    """Make one robosuite two-finger gripper (one action dof, targets [-c, +c]) take its target from the action:
    the action itself, or with `binary` fully closed when it is positive and fully open otherwise."""
    signs = np.array([-1.0, 1.0])  # robosuite's PandaGripper: closing moves the two fingers' targets apart in sign

    def format_action(action: np.ndarray) -> np.ndarray:
        a = float(action[0])
        gripper.current_action = signs * ((1.0 if a > 0 else -1.0) if binary else float(np.clip(a, -1.0, 1.0)))
        return gripper.current_action

    gripper.format_action = format_action


def set_gripper_mode(env: Any, mode: str) -> None:
    """Apply `mode` to every gripper of a robosuite env; robosuite's own behaviour is `incremental`."""
    if mode == "incremental":
        return
    from robosuite.models.grippers.panda_gripper import PandaGripper

    for robot in env.robots:
        for gripper in robot.gripper.values():
            if not isinstance(gripper, PandaGripper):
                raise ValueError(f"gripper={mode} knows the Panda gripper only, not {type(gripper).__name__}")
            _target_from_action(gripper, binary=mode == "binary")


def incremental_target(gripper_actions: np.ndarray) -> float:
    """Where robosuite's incremental Panda gripper (its `format_action`) has moved the fingers' target after
    these actions from a reset (target 0): each step 0.2 towards closed (+1) or open (-1) by the action's sign,
    clipped at every step. A state restored from a demo needs it, since MuJoCo's state holds the fingers'
    positions but not the controller's target: without it the hand opens at the next step."""
    target = 0.0
    for a in np.asarray(gripper_actions, np.float64).ravel():
        target = float(np.clip(target + 0.2 * np.sign(a), -1.0, 1.0))
    return target


def set_gripper_target(env: Any, target: float) -> None:
    """Put every two-finger gripper's target at `target` (-1 open .. +1 closed), as if its actions had moved it
    there; the absolute and binary modes overwrite it at the next action anyway."""
    for robot in env.robots:
        for gripper in robot.gripper.values():
            if getattr(gripper, "dof", None) == 1:
                gripper.current_action = np.array([-1.0, 1.0]) * target
