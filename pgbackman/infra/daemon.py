"""Running a PgBackMan program as a long-lived daemon, in patroni's shape.

:class:`Daemon` is the one base of ``pgbackman_control``, ``pgbackman_maintenance`` and
``pgbackman_alerts``. A subclass writes :meth:`Daemon.run_cycle` (one turn of work) and,
when it needs them, :meth:`Daemon.cycle_interval`, :meth:`Daemon.reconfigure`,
:meth:`Daemon.startup` and :meth:`Daemon.shutdown`; the base owns everything else:

* signals (:class:`SignalFlags`): handlers only set flags, the loop reads them between
  cycles, so SIGTERM is acted on within about a second and never half-way through a step;
  SIGHUP re-reads the configuration (:meth:`Daemon.reload`) without dropping connections;
* the pace (:meth:`Daemon.run`): cycles start every ``cycle_interval()`` seconds; a cycle
  that overran is followed by the next one at once, with a warning; a cycle may ask for a
  different wait (for example "retry in 10 s" after the catalog went away);
* :meth:`Daemon.sleep`, which wakes up early on SIGTERM or SIGHUP;
* systemd (:class:`SystemdNotifier`): ``READY=1`` when the loop starts, ``RELOADING=1`` then
  ``READY=1`` around a reload, ``STOPPING=1`` when it ends (``Type=notify`` units).

:class:`SignalFlags` is also the stop flag of the job programs (pgbackman_dump/restore):
there every signal means stop, and it is forwarded to the running job once that exists.

:func:`daemon_context` wraps python-daemon for the mode without systemd, with the settings
its defaults get wrong for us: umask 0o027 (its default is 0), the log file's descriptor
preserved (python-daemon closes every other descriptor), working directory ``/`` and an
flock-ed pidfile (:class:`PidFile`) that refuses a second instance and ignores stale files.
"""

from __future__ import annotations

import abc
import errno
import fcntl
import logging
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from pgbackman.config import Config
from pgbackman.errors import PgBackManError, PidFileError
from pgbackman.infra.fsutil import ensure_dir
from pgbackman.log import setup_logging

if TYPE_CHECKING:
    import daemon

log = logging.getLogger(__name__)

DAEMON_UMASK = 0o027
SLEEP_STEP = 0.2  # seconds between two looks at the flags while sleeping

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class Stoppable(Protocol):
    """What a job program's run offers the signal handler (see :meth:`SignalFlags.attach`)."""

    def request_stop(self, signum: int) -> None: ...


class SignalFlags:
    """Flags set by signal handlers; the program reads them. Handlers never do real work.

    Only the first stop signal counts (``stop_signal``); later ones change nothing, so a
    second SIGTERM never starts a second shutdown. With ``hup_reloads`` (daemons) SIGHUP sets
    ``reload_requested``; without it (job programs) SIGHUP is a stop like SIGTERM and SIGINT.
    A run attached with :meth:`attach` is told about every stop signal at once (it forwards
    SIGTERM to its child program), including one that arrived before it existed.

    The handlers run in the main thread only once it is back in Python; a call blocked in C
    (libpq waiting for a hung catalog retries its wait after a signal) would keep a stop
    waiting. Callbacks given to :meth:`on_stop` are therefore called from a helper thread
    that learns about the signal through :func:`signal.set_wakeup_fd`, at once.
    """

    STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, *, hup_reloads: bool = True) -> None:
        self.hup_reloads = hup_reloads
        self.stop_requested = False
        self.reload_requested = False
        self.stop_signal: int | None = None
        self._run: Stoppable | None = None
        self._saved: dict[int, _Handler] = {}
        self._callbacks: list[Callable[[], None]] = []
        self._wakeup: tuple[int, int] | None = None  # (read end, write end) of the pipe
        self._old_wakeup_fd = -1

    # -- handlers ------------------------------------------------------------------------
    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stop_requested:
            self.stop_signal = signum
            self.stop_requested = True
        if self._run is not None:
            self._run.request_stop(signum)

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        if self.hup_reloads:
            self.reload_requested = True
        else:
            self._on_stop(signum, frame)

    def install(self) -> None:
        """Install the handlers (main thread only); :meth:`restore` puts the old ones back."""
        for sig in self.STOP_SIGNALS:
            self._saved.setdefault(sig, signal.getsignal(sig))
            signal.signal(sig, self._on_stop)
        self._saved.setdefault(signal.SIGHUP, signal.getsignal(signal.SIGHUP))
        signal.signal(signal.SIGHUP, self._on_hup)
        if self._wakeup is None:
            r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            self._wakeup = (r, w)
            self._old_wakeup_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
            threading.Thread(
                target=self._watch_wakeups, args=(r,), name="signal-watch", daemon=True
            ).start()

    def restore(self) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        self._saved.clear()
        if self._wakeup is not None:
            signal.set_wakeup_fd(self._old_wakeup_fd)
            _, w = self._wakeup
            self._wakeup = None
            os.write(w, b"\0")  # not a signal number: tells the helper thread to end
            os.close(w)

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` as soon as a stop signal arrives, from a helper thread.

        It must be quick and safe from any thread (e.g. :meth:`Catalog.interrupt`); it is
        called for every stop signal once :meth:`install` ran.
        """
        self._callbacks.append(callback)

    def _is_stop(self, signum: int) -> bool:
        return signum in self.STOP_SIGNALS or (
            signum == signal.SIGHUP and not self.hup_reloads
        )

    def _watch_wakeups(self, fd: int) -> None:
        # Signals go to the main thread only (its handlers set the flags).
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            while True:
                select.select([fd], [], [])
                try:
                    data = os.read(fd, 512)
                except BlockingIOError:
                    continue
                if any(self._is_stop(signum) for signum in data if signum):
                    for callback in list(self._callbacks):
                        try:
                            callback()
                        except Exception:  # a helper thread must not die
                            log.exception("Stop callback %r failed", callback)
                if not data or 0 in data:
                    return
        finally:
            os.close(fd)

    @contextmanager
    def installed(self) -> Iterator[Self]:
        self.install()
        try:
            yield self
        finally:
            self.restore()

    # -- job programs: forward stops to the run ------------------------------------------
    def attach(self, run: Stoppable) -> None:
        self._run = run
        if self.stop_signal is not None:
            run.request_stop(self.stop_signal)

    def detach(self) -> None:
        self._run = None

    # -- reading the flags ---------------------------------------------------------------
    def should_stop(self) -> bool:
        return self.stop_requested

    def sleep(self, seconds: float, *, wake_on_reload: bool = False) -> bool:
        """Sleep up to ``seconds``; return True as soon as a stop was requested.

        With ``wake_on_reload`` a SIGHUP ends the sleep early too (False is returned).
        """
        deadline = time.monotonic() + max(0.0, seconds)
        while not self.stop_requested:
            if wake_on_reload and self.reload_requested:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(SLEEP_STEP, left))
        return self.stop_requested


class SystemdNotifier:
    """sd_notify(3) written by hand: one datagram per state change to ``$NOTIFY_SOCKET``.

    Without the variable (not started by systemd with ``Type=notify``) every call does
    nothing. The variable is taken out of the environment, as sd_notify's
    ``unset_environment`` does, so that programs we start (at jobs keep our environment)
    never talk to systemd in our name. A failed send is logged, never fatal.
    """

    def __init__(self, address: str | None) -> None:
        self.address = address or None

    @classmethod
    def from_environment(cls) -> SystemdNotifier:
        return cls(os.environ.pop("NOTIFY_SOCKET", None))

    def notify(self, *states: str) -> bool:
        if self.address is None:
            return False
        # "@name" is a socket in the abstract namespace (leading NUL byte).
        target = "\0" + self.address[1:] if self.address[0] == "@" else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(states).encode("utf-8"), target)
        except OSError as exc:
            log.warning("Cannot notify systemd (%s): %s", self.address, exc)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        # MONOTONIC_USEC lets systemd (Type=notify-reload) tell this reload from an older one.
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")


class Daemon(abc.ABC):
    """The loop of a PgBackMan daemon; subclasses write :meth:`run_cycle`.

    ``program`` names the program in logs and in systemd's status line. The configuration is
    ``self.cfg``; after a SIGHUP it is the new one, and :meth:`reconfigure` is told the old
    one so that it can reopen what changed. ``log_to_stderr`` is kept for the reload's
    logging set-up (foreground runs log to stderr too).
    """

    program: ClassVar[str] = "pgbackman"

    def __init__(
        self,
        cfg: Config,
        *,
        flags: SignalFlags | None = None,
        log_to_stderr: bool = False,
    ) -> None:
        self.cfg = cfg
        self.flags = flags if flags is not None else SignalFlags()
        self.log_to_stderr = log_to_stderr
        self.systemd = SystemdNotifier.from_environment()

    # -- what a subclass writes ----------------------------------------------------------
    @abc.abstractmethod
    def run_cycle(self) -> float | None:
        """Do one cycle of work; return promptly once ``self.flags.should_stop()``.

        Return None for the regular pace, or the seconds to wait before the next cycle
        (e.g. the reconnect interval after the catalog was lost). An exception that escapes
        ends the daemon: catch what the daemon should survive.
        """

    def cycle_interval(self) -> float:
        """Seconds from the start of one cycle to the start of the next (0: back to back)."""
        return 0.0

    def startup(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Called once before the first cycle (signals installed, before READY=1)."""

    def shutdown(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Called once when the loop ends, also after an error (close connections here)."""

    def reconfigure(self, old: Config) -> None:  # noqa: B027 - optional hook, empty by default
        """Called after :meth:`reload` replaced ``self.cfg`` (``old`` is the previous one)."""

    # -- what the base owns --------------------------------------------------------------
    def reload(self) -> bool:
        """Re-read the configuration file and the logging set-up (SIGHUP).

        A file that does not load any more keeps the running configuration (logged).
        Returns whether the configuration was replaced.
        """
        try:
            new = Config.load(self.cfg.path)
        except PgBackManError as exc:
            log.error("Configuration not reloaded: %s", exc)
            return False
        setup_logging(new, self.program, to_stderr=self.log_to_stderr)
        old, self.cfg = self.cfg, new
        self.reconfigure(old)
        logging.getLogger(self.program).info("Configuration reloaded from %s", new.path)
        return True

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on a stop or reload request.

        Returns True when a stop was requested.
        """
        return self.flags.sleep(seconds, wake_on_reload=True)

    def run(self) -> int:
        """Install the signal flags, then run cycles until a stop is requested; exit 0."""
        with self.flags.installed():
            self.startup()
            try:
                self.systemd.ready(f"{self.program} running")
                self._loop()
            finally:
                self.systemd.stopping()
                self.shutdown()
        return 0

    def _reload(self) -> None:
        self.flags.reload_requested = False
        self.systemd.reloading()
        try:
            self.reload()
        finally:
            self.systemd.ready(f"{self.program} running")

    def _loop(self) -> None:
        next_start = time.monotonic()
        last_regular: float | None = None  # start of the last cycle that kept the pace
        while not self.flags.should_stop():
            if self.flags.reload_requested:
                self._reload()
                if last_regular is not None:  # the new interval applies at once
                    next_start = last_regular + self.cycle_interval()
            wait = next_start - time.monotonic()
            if wait > 0:
                self.sleep(wait)
                continue
            started = time.monotonic()
            asked = self.run_cycle()
            if asked is not None:
                next_start, last_regular = time.monotonic() + asked, None
                continue
            interval = self.cycle_interval()
            next_start, last_regular = started + interval, started
            overran = time.monotonic() - next_start
            if interval > 0 and overran > 0:
                logging.getLogger(self.program).warning(
                    "The cycle took %.0fs, more than its interval of %.0fs; "
                    "the next one starts now",
                    interval + overran,
                    interval,
                )


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
    wherever the code is): :meth:`Daemon.run` installs :class:`SignalFlags` after ``open()``.
    """
    import daemon  # python-daemon; imported here: job programs use this module too

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


def serve(
    make: Callable[[], Daemon],
    *,
    foreground: bool,
    pidfile: str,
    log_handler: logging.Handler | None,
    pidfile_in_foreground: bool = True,
    check_before_fork: bool = True,
) -> int:
    """Run the daemon ``make()`` builds: in the foreground (systemd) or detached.

    The pidfile refuses a second instance (in the foreground only with
    ``pidfile_in_foreground``). Detached, with ``check_before_fork`` the pidfile is checked
    before the fork so that "another instance is running" reaches the terminal (exit 1);
    without it the refusal happens, and is logged, in the detached child. ``make`` is called
    after the fork, so that nothing the daemon opens is lost in it.
    """
    if foreground:
        if not pidfile_in_foreground:
            return make().run()
        with PidFile(pidfile):
            return make().run()
    if check_before_fork:
        PidFile(pidfile).check()
    with daemon_context(pidfile, log_file_descriptors(log_handler)):
        return make().run()
