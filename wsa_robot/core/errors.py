"""The one exception type for mistakes a user can fix; the CLI prints its message on one line and exits 2."""


class UserError(Exception):
    """Bad input from a user (task, encoder, camera, override, path, checkpoint). The message names the fix."""


class NonFiniteError(RuntimeError):
    """Observations, embeddings, rewards, losses or weights went NaN/inf. Training stops without saving, so the
    last good checkpoint stays as it was; the CLI prints the message on one line and exits 1."""


class SaveError(RuntimeError):
    """A checkpoint could not be written (no space, no permission). The previous checkpoint is kept whole; the
    CLI prints the message on one line and exits 1, and nothing retries a write that cannot succeed."""
