"""One run, from its config to its checkpoints: `spec.resolve` decides it, `pipeline` builds its observations,
`train` learns, `run_dir` and `resume` keep it on disk and bring it back."""
