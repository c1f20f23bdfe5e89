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
from collections.abc import Mapping, Sequence
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
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        env=dict(env) if env is not None else child_env(),
        cwd=cwd,
        text=True,
        start_new_session=False,
    )
    with _lock:
        _children.add(proc)
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return Result(args, -signal.SIGKILL, out or "", (err or "") + "\ntimed out")
    except BaseException:
        # Interrupted (e.g. by a signal handler raising): never leave the child running.
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
