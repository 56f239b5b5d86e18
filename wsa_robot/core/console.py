"""The process's one rich Console, made when first asked for rather than at import."""

from __future__ import annotations

import functools

from rich.console import Console


@functools.cache
def console() -> Console:
    """Reads the terminal's size and sys.stdout when first called (a test's captured stdout included)."""
    return Console()
