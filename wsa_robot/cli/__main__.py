"""`python -m wsa_robot.cli ...`: the `wsa-robot` command, as before cli.py became this folder."""

import sys

from wsa_robot.cli.entry import main

sys.exit(main())
