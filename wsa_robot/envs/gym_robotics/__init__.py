"""The gym_robotics backend (gymnasium-robotics Fetch and FrankaKitchen): its env (env.py). Empty on purpose:
importing the package loads no simulator."""
