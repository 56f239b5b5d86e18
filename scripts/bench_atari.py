"""The paper's Atari comparison on this machine: `wsa-robot bench` (wsa_robot/studies/benchmark.py) as a script.

    python scripts/bench_atari.py --task atari/Pong --steps 1000000 --deadline-min 100
        WSA and E2E side by side, each on half the cores; results/atari_pong.json and results/atari_pong.png
    python scripts/bench_atari.py --task atari/Pong --report-only
        score the runs as they are (runs/bench/pong-*)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wsa_robot.cli.commands import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
