"""The gym_robotics backend (gymnasium-robotics Fetch and FrankaKitchen): backend.py (what the registry asks;
imports no simulator) and the env (env.py).

Empty on purpose: importing the package loads no simulator."""
