"""One plot of the runs of several `wsa-robot bench` results files of the same game, e.g. the WSA scorers
against E2E on Pong, which were trained by separate bench calls (each run's curve, final score and scorer
come from its file):

    python scripts/plot_bench.py results/atari_pong.json results/atari_pong_scaled.json \\
        --out results/atari_pong_scorers.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wsa_robot.studies.benchmark import plot  # noqa: E402
from wsa_robot.core.errors import UserError  # noqa: E402


def merged(paths: list[Path]) -> dict:
    """The first file's game and target with every file's runs, in the order given."""
    results = [json.loads(p.read_text()) for p in paths]
    games = {r["game"] for r in results}
    if len(games) != 1:
        raise UserError(f"the files are of different games ({', '.join(sorted(games))}); give one game's files")
    return {**results[0], "runs": [row for r in results for row in r["runs"]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="bench results JSON files of one game")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    args = parser.parse_args(argv)
    try:
        print(plot(merged(args.results), args.out))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
