"""Small things several test files need: polling for a condition, a parameter-free encoder."""

import time

from wsa_robot.encoders.base import FrozenEncoder


def wait_for(predicate, timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` seconds pass (False)."""
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False


class MeanColour(FrozenEncoder):
    """Mean of each channel: a parameter-free encoder whose output is easy to check."""
    name, input_size, output_shape = "mean", 16, (3,)

    def encode(self, x):
        return x.mean(dim=(2, 3))
