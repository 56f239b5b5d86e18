"""Many runs compared: the Atari benchmark, learning curves of labelled plans, aggregates over seeds, and
whether a plan's runs can start here. (Grids on Ray: sweep/.)"""
