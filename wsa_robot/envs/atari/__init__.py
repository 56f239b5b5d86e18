"""The atari backend: backend.py (what the registry asks; imports no emulator), the env (env.py), HackAtari's
modifications as variations (variations.py) and the early end of eval games that make no progress (stall.py).

Empty on purpose: importing the package loads no emulator."""
