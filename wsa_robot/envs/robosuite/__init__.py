"""The robosuite backend: backend.py (what the registry asks; imports no simulator), the env (env.py), the
scripted controllers (experts.py), the gripper modes (gripper.py) and the visual variations (variations.py).

Empty on purpose: importing the package loads no simulator."""
