"""Many runs compared, built on the engine (engine/): the Atari benchmark and the learning curves of labelled
plans. (Grids: sweep/.)"""
