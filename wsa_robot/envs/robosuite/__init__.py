"""The robosuite backend: its env (env.py), scripted controllers (experts.py) and gripper modes (gripper.py).
Empty on purpose: importing the package loads no simulator."""
