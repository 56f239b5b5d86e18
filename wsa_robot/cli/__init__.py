"""The `wsa-robot` command: its entry point, subcommands (commands.py) and the tables it prints."""
