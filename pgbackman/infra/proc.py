"""Starting external programs: argv lists only, never a shell.

The children started by :func:`run` are remembered so that a SIGTERM handler can forward the
signal (:func:`terminate_children`), which is how pgbackman_dump stops pg_dump when it is
stopped itself. Callers log the argv through :func:`pgbackman.log.redact_argv`.

Every child dies with its parent: it is started with ``PR_SET_PDEATHSIG`` = SIGTERM (Linux
``prctl``), so a ``kill -9`` of pgbackman_dump takes pg_dump down with it instead of leaving
an orphan that keeps writing into a staging directory nobody owns (pg_dump forwards the
SIGTERM to its ``-j`` workers). The death signal is sent when the *thread* that started the
child ends, so children are started from the main thread only. :func:`processes_using`
finds live processes that still write under a directory (for the partial-dump sweeps).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

_children: set[subprocess.Popen[Any]] = set()
_lock = threading.Lock()
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
DEATH_SIGNAL = signal.SIGTERM


def _load_prctl() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None  # not Linux: children are still stopped by terminate_children()


_prctl = _load_prctl()


def _die_with(parent: int) -> Callable[[], None] | None:
    """preexec_fn of every child: ask the kernel for DEATH_SIGNAL when the parent dies, and
    exit at once if the parent is already gone (it died between fork and prctl)."""
    if _prctl is None:
        return None

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, int(DEATH_SIGNAL), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


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
    # The one place that starts programs: an argv list, never a shell (names are data).
    proc = subprocess.Popen(argv, preexec_fn=_die_with(os.getpid()), **popen)  # noqa: S603
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
    pass_fds: Sequence[int] = (),
) -> Result:
    """Run ``argv`` (no shell) to completion and return its status and captured output.

    ``pass_fds`` are inherited by the child (e.g. the job lock, so that the lock stays held
    for as long as any process of the run lives)."""
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
        pass_fds=tuple(pass_fds),
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
    pass_fds: Sequence[int] = (),
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
        pass_fds=tuple(pass_fds),
    ) as proc:
        assert proc.stdout is not None  # noqa: S101 - stdout=PIPE always sets it
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
        assert proc.stdin is not None  # noqa: S101 - stdin=PIPE always sets it
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


def page(argv: Sequence[str], text: str, env: Mapping[str, str] | None = None) -> int:
    """Show ``text`` through a pager program (no shell) on our terminal and wait for it.

    While the pager runs, Ctrl-C is the pager's (less uses it to stop a search): this
    process ignores SIGINT until the pager exits, as psql does. A pager that quits before
    reading everything is normal (q in less)."""
    args = [str(a) for a in argv]
    with _tracked(
        args, stdin=subprocess.PIPE, env=_env(env), text=True, errors="replace"
    ) as proc:
        assert proc.stdin is not None  # noqa: S101 - stdin=PIPE always sets it
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            try:
                proc.stdin.write(text)
            except BrokenPipeError:
                pass
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
            proc.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
    return proc.returncode


def processes_using(path: str | os.PathLike[str]) -> list[int]:
    """Live processes (other than this one) that work under ``path``: their argv names it,
    their working directory is inside it, or they hold a file open inside it. Processes
    of other users whose /proc entries we cannot read are not seen (the backup user's own
    pg_dump always is)."""
    top = os.path.realpath(path)
    prefix = top.rstrip("/") + "/"
    needle = os.fsencode(top)
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        base = Path("/proc", entry)
        try:
            if needle in (base / "cmdline").read_bytes():
                found.append(int(entry))
                continue
            links = [os.readlink(base / "cwd")]
            fd_dir = base / "fd"
            for fd in os.listdir(fd_dir):
                try:
                    links.append(os.readlink(fd_dir / fd))
                except OSError:
                    continue
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if any(link == top or link.startswith(prefix) for link in links):
            found.append(int(entry))
    return sorted(found)
