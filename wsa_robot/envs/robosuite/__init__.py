"""The robosuite backend: its env (env.py), scripted controllers (experts.py), gripper modes (gripper.py) and
visual variations (variations.py). Empty on purpose: importing the package loads no simulator."""
