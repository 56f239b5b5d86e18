"""The names of the fusions and of WSA's scorers, without torch: the config validates `fusion` and
`wsa_scorer` against these, and fusion/__init__.py and attention.py check their registries match them."""

FUSIONS = ("wsa", "lin", "fix", "dpa", "cnn", "e2e")
SCORERS = ("additive", "scaled", "relu", "linear")
