"""The privileged state oracle: `encoders=state` puts the simulator's object state in the observation as one
vector token, `state`, in place of camera embeddings, through the same fusion and SAC.

It is privileged (a real robot has no such vector) and exists as the upper bound a camera agent is measured
against, as in the frozen-representation literature (MVP, PVR). What it holds, per backend:
robosuite: the task's `object-state` observable (Lift: cube_pos, cube_quat, gripper_to_cube_pos);
gymnasium-robotics Fetch: the object part of the `observation` vector (position, position relative to the
gripper, rotation, linear and angular velocity); FrankaKitchen: the object joints' positions and velocities.
It is not an image encoder: the env emits it, the encoder bank never runs it, and a run whose encoders are all
state renders no camera at all.
"""

from __future__ import annotations

from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.entry import EncoderEntry
from wsa_robot.core.errors import UserError
from wsa_robot.core.keys import STATE

STATE_ENCODERS = (STATE,)


def is_state(name: str) -> bool:
    """Whether `name` is the privileged state (a vector the env gives) rather than an image encoder."""
    return name in STATE_ENCODERS


def image_encoders(names: list[str]) -> list[str]:
    """The encoders that run on camera images (all but the state oracle)."""
    return [n for n in names if not is_state(n)]


def _build() -> FrozenEncoder:
    raise UserError("state is the simulator's object state, read from the env, not an image encoder to build; "
                    "use it as encoders=state in a run")


def state_entry() -> EncoderEntry:
    return EncoderEntry(STATE, "privileged", "PRIVILEGED simulator object state, the oracle (robosuite object-state; "
                        "Fetch object pose and velocity): not available to a real robot", "simulator state",
                        (), None, True, _build, params=lambda: 0)
