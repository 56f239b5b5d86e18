"""Demonstrations: recorded by a task's scripted controller (record.py), stored in robomimic's HDF5 layout
(robomimic_file.py), learned from through a second replay buffer (replay.py); source.py decides which file a
run reads."""
