"""Small things several test files need: polling for a condition, a parameter-free encoder, a tiny trained
Lift run, and the check that a user mistake gives one line and exit code 2."""

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


def one_line_error(capsys, argv: list[str], match: str) -> str:
    """Run the CLI; assert exit code 2 and one stderr line (no traceback) containing `match`; return it."""
    from wsa_robot.cli.commands import main

    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert match in err, err
    return err


def train_tiny_lift(run, horizon: int) -> None:
    """A Lift run of 30 steps with a small net, trained in-process into `run` (a path), for tests that need a
    checkpoint rather than a learned agent."""
    from wsa_robot.cli.commands import main

    args = ["train", "total_steps=30", f"horizon={horizon}", "eval_every=0", "sac.learning_starts=20",
            "sac.batch_size=8", "fusion_dim=32", "sac.net_arch=32,32", f"run_dir={run}", "--no-progress"]
    assert main(args) == 0


class FakeProcess:
    """A stand-in for a training process (subprocess.Popen) in executor tests: SIGTERM ends it at once (it
    checkpoints and exits 0); a subclass's `poll` says when it ends on its own."""
    returncode: int | None = None

    def send_signal(self, _sig) -> None:
        self.returncode = 0

    def wait(self) -> int | None:
        return self.returncode
