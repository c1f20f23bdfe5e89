"""Starting external programs: argv lists only, never a shell.

The children started by :func:`run` are remembered so that a SIGTERM handler can forward the
signal (:func:`terminate_children`), which is how pgbackman_dump stops pg_dump when it is
stopped itself. Callers log the argv through :func:`pgbackman.log.redact_argv`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

_children: set[subprocess.Popen[Any]] = set()
_lock = threading.Lock()


@dataclass
class Result:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def signal(self) -> int | None:
        """The signal that killed the child, if any."""
        return -self.returncode if self.returncode < 0 else None

    def describe(self) -> str:
        if self.returncode < 0:
            try:
                name = signal.Signals(-self.returncode).name
            except ValueError:
                name = str(-self.returncode)
            return f"{os.path.basename(self.argv[0])} killed by signal {name}"
        return f"{os.path.basename(self.argv[0])} exited with status {self.returncode}"


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for children: ours, minus PGPASSWORD (passwords come from .pgpass)."""
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    # Never let libpq prompt for a password on a terminal: fail instead.
    env.setdefault("PGCONNECT_TIMEOUT", "15")
    if extra:
        env.update(extra)
    return env


@contextmanager
def _tracked(argv: list[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """Start ``argv``; while it runs it is known to :func:`terminate_children`, and if the
    caller is interrupted (e.g. by a signal handler raising) the child is never left running.
    """
    proc = subprocess.Popen(argv, **popen)
    with _lock:
        _children.add(proc)
    try:
        yield proc
    except BaseException:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        raise
    finally:
        with _lock:
            _children.discard(proc)


def _env(env: Mapping[str, str] | None) -> dict[str, str]:
    return dict(env) if env is not None else child_env()


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdout: IO[Any] | int | None = subprocess.PIPE,
    stderr: IO[Any] | int | None = subprocess.PIPE,
    input: str | None = None,
    timeout: float | None = None,
    cwd: str | None = None,
) -> Result:
    """Run ``argv`` (no shell) to completion and return its status and captured output."""
    args = [str(a) for a in argv]
    stdin = subprocess.PIPE if input is not None else subprocess.DEVNULL
    with _tracked(
        args,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=_env(env),
        cwd=cwd,
        text=True,
    ) as proc:
        try:
            out, err = proc.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return Result(args, -signal.SIGKILL, out or "", (err or "") + "\ntimed out")
    return Result(args, proc.returncode, out or "", err or "")


def terminate_children(sig: int = signal.SIGTERM) -> None:
    """Forward ``sig`` to every child still running (safe to call from a signal handler)."""
    # No lock here: a handler that waits for a lock the interrupted code holds deadlocks.
    procs = list(_children)
    for p in procs:
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass


def run_streaming(
    argv: Sequence[str],
    sink: Any,
    *,
    env: Mapping[str, str] | None = None,
    stderr: IO[Any] | int | None = None,
    chunk_size: int = 1 << 20,
) -> Result:
    """Run ``argv`` (no shell) and feed its binary stdout to ``sink(bytes)`` chunk by chunk.

    Used for ``pg_dumpall`` whose output is compressed in Python: no shell pipe, so the
    program's own exit status is the one reported. A sink exception stops the child.
    ``stderr`` should be a file (e.g. the run log): a pipe could fill up and block.
    """
    args = [str(a) for a in argv]
    with _tracked(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=_env(env),
    ) as proc:
        assert proc.stdout is not None
        with proc.stdout:
            while chunk := proc.stdout.read(chunk_size):
                sink(chunk)
        proc.wait()
    return Result(args, proc.returncode, "", "")


def run_feeding(
    argv: Sequence[str],
    chunks: Any,
    *,
    env: Mapping[str, str] | None = None,
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
) -> Result:
    """Run ``argv`` (no shell) and write every ``bytes`` item of the iterable ``chunks`` to
    its stdin, then close stdin and wait.

    Used by pgbackman_restore to stream a decompressed ``pg_dumpall`` file into ``psql``
    without a shell pipe. When the child exits early (``psql -v ON_ERROR_STOP=1`` stops at
    the first error) the broken pipe ends the feeding and the child's own exit status is
    reported. ``stdout``/``stderr`` should be files (e.g. the run log), never pipes.
    """
    args = [str(a) for a in argv]
    with _tracked(
        args, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr, env=_env(env)
    ) as proc:
        assert proc.stdin is not None
        try:
            for chunk in chunks:
                if proc.poll() is not None:
                    break
                proc.stdin.write(chunk)
        except BrokenPipeError:
            pass  # the child stopped reading: its exit status says why
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
        proc.wait()
    return Result(args, proc.returncode, "", "")
