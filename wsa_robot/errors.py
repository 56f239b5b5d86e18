"""The one exception type for mistakes a user can fix; the CLI prints its message on one line and exits 2."""


class UserError(Exception):
    """Bad input from a user (task, encoder, camera, override, path, checkpoint). The message names the fix."""
