"""Per-job locks: ``flock(LOCK_EX | LOCK_NB)`` on a file in the node's backup partition.

Two runs of the same backup definition (or snapshot) never dump at once; maintenance takes the
same lock, non-blocking, before deleting a definition's files and skips when it is busy.
The kernel drops a flock when the last process holding the locked descriptor dies (even on
kill -9), so there is no stale-lock logic; the PID written into the file is for diagnostics
only. The run hands the descriptor to its children (see :attr:`JobLock.fileno`).
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

from pgbackman.core.naming import lock_file_name
from pgbackman.errors import LockBusyError
from pgbackman.infra import proc


class JobLock:
    """A non-blocking exclusive flock on ``path`` (file created 0600 when missing)."""

    def __init__(
        self, path: str | os.PathLike[str], *, record_pid: bool = True
    ) -> None:
        self.path = Path(path)
        # A run records its PID (who holds the job, for "busy" messages). Maintenance holds
        # a job's lock for a moment only, thousands of times a pass: it leaves the file as
        # it is (no truncate and write, no inode change to journal each time).
        self.record_pid = record_pid
        self._fd: int | None = None

    @classmethod
    def for_job(
        cls,
        partition: str | os.PathLike[str],
        def_id: int | None,
        snapshot_id: int | None,
        *,
        record_pid: bool = True,
    ) -> JobLock:
        return cls(
            Path(partition) / lock_file_name(def_id, snapshot_id), record_pid=record_pid
        )

    @property
    def held(self) -> bool:
        return self._fd is not None

    @property
    def fileno(self) -> int | None:
        """The locked descriptor. Passed to the run's children (``proc.run(pass_fds=)``),
        it keeps the lock held for as long as any of them lives: a child that outlived a
        killed run still makes the job "locked", so nobody sweeps the files it writes."""
        return self._fd

    def holder_pid(self) -> int | None:
        """PID recorded by the current holder (diagnostics; may be stale)."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def acquire(self) -> JobLock:
        """Take the lock or raise LockBusyError at once."""
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                pid = self.holder_pid()
                # Only pgbackman_dump records its pid (maintenance leaves the file as it
                # is): a recorded pid that is gone is not the holder, so it is not named.
                who = f" (held by pid {pid})" if pid and proc.pid_alive(pid) else ""
                raise LockBusyError(f"Job lock {self.path} is busy{who}") from None
            raise
        if not self.record_pid:
            self._fd = fd
            return self
        try:
            os.fchmod(fd, 0o600)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        except OSError:
            pass  # the pid is informational only
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock. The file stays: unlinking it would race with a new locker."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> JobLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
