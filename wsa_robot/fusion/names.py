"""The names of the fusions, WSA's scorers and E2E's augmentations, without torch: the config validates
`fusion`, `wsa_scorer` and `e2e_augment` against these; fusion/__init__.py, attention.py and augment.py use
them."""

FUSIONS = ("wsa", "lin", "fix", "dpa", "cnn", "e2e")
SCORERS = ("additive", "scaled", "relu", "linear")
AUGMENTATIONS = ("shift", "color")  # fusion/augment.py
