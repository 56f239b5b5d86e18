"""What every layer reads: the one user-error type, token names, seed streams, the device, the task spec's
type, the project's data folders and trained weights, atomic writes, a run dir's files, results' provenance
and the terminal's tables. It imports nothing else of the package (tests/test_layering.py)."""
