"""What every layer reads: the typed config, the task specs, the algorithms' facts, the one user-error type,
the project's data folders and trained weights, atomic writes and results' provenance."""
