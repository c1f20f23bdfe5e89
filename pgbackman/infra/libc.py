"""The C library, for the few Linux calls the os module lacks (prctl, inotify,
sync_file_range), loaded once.

``ctypes.CDLL(None)`` opens the running program itself, whose symbols include libc's; it
costs nothing, where ``ctypes.util.find_library`` runs ``ldconfig -p`` in a child process
on every call (milliseconds of start-up of every pgbackman_dump).
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any


@functools.cache
def libc() -> Any:
    """The C library (None when it cannot be opened)."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def function(name: str) -> Any:
    """The libc function ``name``, or None where it does not exist (not Linux)."""
    lib = libc()
    return getattr(lib, name, None) if lib is not None else None
