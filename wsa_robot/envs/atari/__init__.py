"""The atari backend: its env (env.py), HackAtari modifications as variations (variations.py) and the limit on
eval games that make no progress (stall.py). Empty on purpose: importing the package loads no emulator."""
