"""The `wsa-robot` command's entry point. It imports the CLI itself, so that Ctrl-C while the command's libraries
load (typer, rich: the first few hundred ms) is the same one stop line and exit 130 as at any later moment."""

from __future__ import annotations

# Imports inside functions: the CLI itself, so that a Ctrl-C while it loads is caught here.

import sys


def main() -> int:
    try:
        from wsa_robot.cli.commands import main as cli_main
    except KeyboardInterrupt:
        print("stopped before the command started; nothing was written", file=sys.stderr)
        return 130
    return cli_main()
