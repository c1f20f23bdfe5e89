"""Starting external programs: argv lists only, never a shell.

The children started by :func:`run` are remembered so that a SIGTERM handler can forward the
signal (:func:`terminate_children`), which is how pgbackman_dump stops pg_dump when it is
stopped itself. Callers log the argv through :func:`pgbackman.log.redact_argv`.

Every child dies with its parent: it is started with ``PR_SET_PDEATHSIG`` = SIGTERM (Linux
``prctl``), so a ``kill -9`` of pgbackman_dump takes pg_dump down with it instead of leaving
an orphan that keeps writing into a staging directory nobody owns (pg_dump forwards the
SIGTERM to its ``-j`` workers). The death signal is sent when the *thread* that started the
child ends, so children are started from the main thread only. A :class:`Probe` is a short
program (``pg_dump --version``) started early and read later, reaped on every path.
:func:`processes_using` finds live processes that still write under a directory (for the partial-dump sweeps).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pgbackman.infra import libc

_children: set[subprocess.Popen[Any]] = set()
_lock = threading.Lock()
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
DEATH_SIGNAL = signal.SIGTERM


# Not Linux: None, and children are still stopped by terminate_children().
_prctl = libc.function("prctl")


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


def _start(argv: list[str], **popen: Any) -> subprocess.Popen[Any]:
    """Start ``argv`` with the death signal (:func:`_die_with`) and remember it for
    :func:`terminate_children`; the caller must reap it and forget it."""
    # The one place that starts programs: an argv list, never a shell (names are data).
    child = subprocess.Popen(argv, preexec_fn=_die_with(os.getpid()), **popen)  # noqa: S603
    with _lock:
        _children.add(child)
    return child


def _forget(child: subprocess.Popen[Any]) -> None:
    """``child`` was reaped: :func:`terminate_children` leaves it alone."""
    with _lock:
        _children.discard(child)


@contextmanager
def _tracked(argv: list[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """Start ``argv``; while it runs it is known to :func:`terminate_children`, and if the
    caller is interrupted (e.g. by a signal handler raising) the child is never left running.
    """
    proc = _start(argv, **popen)
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
        _forget(proc)


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


class Child:
    """A program started by :func:`started` that runs while the caller does other work.

    ``pidfd`` (Linux >= 5.3) becomes readable when the program exits, so a caller waiting
    in ``select.poll`` for other events notices the exit at once; None elsewhere."""

    def __init__(self, popen: subprocess.Popen[Any]) -> None:
        self._popen = popen
        self.argv = [str(a) for a in popen.args]  # type: ignore[union-attr]
        self.pid = popen.pid
        self.pidfd: int | None = None
        if hasattr(os, "pidfd_open"):
            try:
                self.pidfd = os.pidfd_open(popen.pid)
            except OSError:
                self.pidfd = None

    def poll(self) -> int | None:
        return self._popen.poll()

    def wait(self) -> Result:
        self._popen.wait()
        return Result(self.argv, self._popen.returncode, "", "")

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


@contextmanager
def started(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
    pass_fds: Sequence[int] = (),
) -> Iterator[Child]:
    """Start ``argv`` (no shell) and let the caller work while it runs; the block must wait
    for it (:meth:`Child.wait`). Leaving the block by an exception stops the program (as
    :func:`run` does). ``stdout``/``stderr`` should be files, never pipes nobody reads."""
    args = [str(a) for a in argv]
    with _tracked(
        args,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        env=_env(env),
        pass_fds=tuple(pass_fds),
    ) as popen:
        child = Child(popen)
        try:
            yield child
            if popen.poll() is None:  # a caller that did not wait: never an orphan
                popen.terminate()
                popen.wait()
        finally:
            child.close()


class Probe:
    """A short program started now and read later, so that the caller works meanwhile:
    ``pg_dump --version`` of every installed release runs while pgbackman_dump connects to
    its node (run/clients.VersionProbes) instead of after it, one after the other.

    Its output is captured (a few lines: the pipes cannot fill up). Like every child it is
    known to :func:`terminate_children` and dies with its parent. The caller must end it
    with :meth:`result` or :meth:`discard`; both reap it and close its pipes whatever
    happens, so a probe never stays behind as a zombie or as open descriptors (a run may
    last hours after its probes were needed)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 30,
    ) -> None:
        self.argv = [str(a) for a in argv]
        self.timeout = timeout
        self._result: Result | None = None
        self._popen: subprocess.Popen[str] | None = _start(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(env),
            text=True,
        )

    @property
    def running(self) -> bool:
        """Not yet reaped (neither :meth:`result` nor :meth:`discard` ended it)."""
        return self._popen is not None

    def result(self) -> Result:
        """Wait for the program (at most ``timeout`` seconds: then it is killed) and return
        its status and output; the same Result on later calls."""
        if self._result is not None:
            return self._result
        popen, self._popen = self._popen, None
        if popen is None:
            raise RuntimeError(f"{self.argv[0]}: probe discarded before its result")
        try:
            out, err = popen.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _reap(popen)
            self._result = Result(self.argv, -signal.SIGKILL, "", "timed out")
        except BaseException:  # interrupted: never leave it running or unreaped
            _reap(popen)
            raise
        else:  # communicate() closed the pipes and reaped it
            _forget(popen)
            self._result = Result(self.argv, popen.returncode, out or "", err or "")
        return self._result

    def discard(self) -> None:
        """Not needed after all: kill it if it still runs and reap it (idempotent)."""
        popen, self._popen = self._popen, None
        if popen is not None:
            _reap(popen)


def _reap(popen: subprocess.Popen[Any]) -> None:
    """Kill ``popen`` if it still runs, close our ends of its pipes and wait for it.

    The pipes are closed before the wait, never drained: a grandchild that inherited them
    cannot make this block (SIGKILL cannot be caught, so the wait is short)."""
    try:
        if popen.poll() is None:
            popen.kill()
    finally:
        try:
            for pipe in (popen.stdin, popen.stdout, popen.stderr):
                if pipe is not None:
                    pipe.close()
        finally:
            try:
                popen.wait()
            finally:
                _forget(popen)


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


def pid_alive(pid: int) -> bool:
    """True when a process other than this one runs with ``pid`` (one we may not signal
    counts as alive). Used to tell a killed run's leftovers from a live run's files; a pid
    reused by another process keeps them a while longer, which is the safe side."""
    if pid == os.getpid():
        return False  # a killed run had our pid; we are not that run
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
