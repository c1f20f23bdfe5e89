"""Which files of one directory appear, and which ones their writer has closed.

pgbackman_dump checks each file of a pg_dump -Fd directory while pg_dump writes the next one
(archive/readback.py). It learns about the files here:

* :class:`InotifyWatch` (Linux inotify through ctypes: no extra dependency): ``IN_CREATE``
  says a file appeared, ``IN_CLOSE_WRITE`` that the writer closed it, so it can be finished
  at once; ``IN_Q_OVERFLOW`` (events lost) makes the caller list the directory again;
* :class:`PollWatch`, when inotify is unavailable (not Linux, or ``fs.inotify.
  max_user_instances`` reached by many runs at once): the directory is listed on every
  call; files are then only known to be complete once their writer has exited.

Either way a caller never trusts a close event alone: files are checked again (size,
mtime) against the directory once the writer has exited.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pgbackman.infra import libc

# <sys/inotify.h>
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_ONLYDIR = 0x01000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len

CREATED = "created"
CLOSED = "closed"
RESCAN = "rescan"  # events were lost: list the directory again


def _load_libc() -> Any:
    init = libc.function("inotify_init1")
    add = libc.function("inotify_add_watch")
    if init is None or add is None:
        return None
    init.argtypes = [ctypes.c_int]
    add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    return libc.libc()


_libc = _load_libc()


class InotifyWatch:
    """inotify on one directory (see module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if _libc is None:
            raise OSError(errno.ENOSYS, "inotify is not available")
        fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        mask = IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR
        if _libc.inotify_add_watch(fd, os.fsencode(path), mask) < 0:
            err = ctypes.get_errno()
            os.close(fd)
            raise OSError(err, os.strerror(err))
        self._fd: int | None = fd
        self.path = Path(path)

    def fileno(self) -> int | None:
        return self._fd

    def read(self) -> list[tuple[str, str]]:
        """Pending events as (kind, name), oldest first (non-blocking)."""
        if self._fd is None:
            return []
        out: list[tuple[str, str]] = []
        while True:
            try:
                buf = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return out
            if not buf:
                return out
            pos = 0
            while pos + _EVENT.size <= len(buf):
                _wd, mask, _cookie, length = _EVENT.unpack_from(buf, pos)
                raw = buf[pos + _EVENT.size : pos + _EVENT.size + length]
                pos += _EVENT.size + length
                name = os.fsdecode(raw.rstrip(b"\0"))
                if mask & IN_Q_OVERFLOW:
                    out.append((RESCAN, ""))
                elif mask & IN_ISDIR or not name:
                    continue
                elif mask & IN_CLOSE_WRITE:
                    out.append((CLOSED, name))
                elif mask & (IN_CREATE | IN_MOVED_TO):
                    out.append((CREATED, name))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class PollWatch:
    """The fallback: every :meth:`read` lists the directory and reports new names."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._known: set[str] = set()

    def fileno(self) -> int | None:
        return None

    def read(self) -> list[tuple[str, str]]:
        try:
            names = set(os.listdir(self.path))
        except FileNotFoundError:
            return []
        new = sorted(names - self._known)
        self._known |= names
        return [(CREATED, n) for n in new]

    def close(self) -> None:
        pass


Watch = InotifyWatch | PollWatch


def watch_directory(path: str | os.PathLike[str]) -> Watch:
    """inotify when the kernel gives us an instance, else polling."""
    try:
        return InotifyWatch(path)
    except OSError:
        return PollWatch(path)


def wait_readable(fds: Sequence[int | None], timeout: float) -> list[int]:
    """The descriptors of ``fds`` (None entries ignored) readable within ``timeout`` s."""
    poller = select.poll()
    wanted = [fd for fd in fds if fd is not None]
    for fd in wanted:
        poller.register(fd, select.POLLIN)
    try:
        ready = poller.poll(max(0, int(timeout * 1000)))
    except InterruptedError:
        return []
    return [fd for fd, _ev in ready]
