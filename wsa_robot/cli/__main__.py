"""`python -m wsa_robot.cli ...`: the `wsa-robot` command, as before cli.py became this folder."""

import sys

from wsa_robot.cli.entry import main

if __name__ == "__main__":  # importing this module (pkgutil.walk_packages does) runs nothing
    sys.exit(main())
