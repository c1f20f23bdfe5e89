"""Running a PgBackMan program as a daemon (pgbackman_control, pgbackman_maintenance).

Patroni's shape: signal handlers only set flags (:class:`SignalFlags`); the main loop checks
them between steps and sleeps in short slices, so SIGTERM is acted on within about a second
and never in the middle of a file installation. :func:`daemon_context` wraps python-daemon
with the settings its defaults get wrong for us: umask 0o027 (its default is 0), the log
file's descriptor preserved (python-daemon closes every other descriptor), working directory
``/`` and an flock-ed pidfile that refuses a second instance and ignores stale files.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any, Self

import daemon  # python-daemon

from pgbackman.errors import PgBackManError
from pgbackman.infra.fsutil import ensure_dir

log = logging.getLogger(__name__)

DAEMON_UMASK = 0o027


class PidFileError(PgBackManError):
    """The pidfile cannot be created or another instance holds it."""


class SignalFlags:
    """Flags set by signal handlers; the loop reads them. Handlers never do real work."""

    def __init__(self) -> None:
        self.stop_requested = False
        self.reload_requested = False
        self.stop_signal: int | None = None

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        # Only the first stop signal counts; later ones change nothing (no double shutdown).
        if not self.stop_requested:
            self.stop_signal = signum
            self.stop_requested = True

    def _on_hup(self, _signum: int, _frame: FrameType | None) -> None:
        self.reload_requested = True

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)

    def should_stop(self) -> bool:
        return self.stop_requested

    def sleep(self, seconds: float, step: float = 0.2) -> bool:
        """Sleep up to ``seconds``; return True as soon as a stop was requested."""
        deadline = time.monotonic() + max(0.0, seconds)
        while not self.stop_requested:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(step, left))
        return self.stop_requested


class PidFile:
    """An flock-ed pidfile, usable as python-daemon's ``pidfile`` context manager.

    The lock (not the file's existence) says whether an instance runs, so a file left by a
    killed process never blocks a restart. The file is 0644 and removed on exit.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> None:
        if not self.path.parent.exists():
            ensure_dir(self.path.parent, 0o755)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PidFileError(
                f"Cannot open pidfile {self.path}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                other = self.path.read_text(encoding="ascii", errors="replace").strip()
                raise PidFileError(
                    f"Another instance is running (pidfile {self.path}, pid {other or '?'})"
                ) from None
            raise PidFileError(
                f"Cannot lock pidfile {self.path}: {exc.strerror}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        os.fchmod(fd, 0o644)
        self._fd = fd

    def check(self) -> None:
        """Raise PidFileError if a running instance holds the pidfile (changes nothing)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise PidFileError(
                f"Cannot open pidfile {self.path}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            raise PidFileError(
                f"Another instance is running (pidfile {self.path})"
            ) from None
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def log_file_descriptors(handler: logging.Handler | None) -> list[int]:
    """Descriptors python-daemon must keep open so the file log handler keeps working."""
    stream = getattr(handler, "stream", None)
    if stream is None:
        return []
    try:
        return [stream.fileno()]
    except (OSError, ValueError):
        return []


def daemon_context(pidfile: str, preserve: list[Any]) -> daemon.DaemonContext:
    """A python-daemon context: fork + setsid, umask 027, cwd /, pidfile, preserved fds.

    SIGTERM is not mapped to python-daemon's ``terminate`` (which raises SystemExit
    wherever the code is): the caller installs :class:`SignalFlags` after ``open()``.
    """
    return daemon.DaemonContext(
        working_directory="/",
        umask=DAEMON_UMASK,
        pidfile=PidFile(pidfile),
        files_preserve=preserve,
        detach_process=True,
        signal_map={
            signal.SIGTSTP: None,
            signal.SIGTTIN: None,
            signal.SIGTTOU: None,
        },
    )
