"""Client-side limits of catalog calls: a hung catalog fails a call instead of hanging it,
and a stop request ends a call that waits for a hung catalog.

This is the one mechanism for both, used by every program through the Catalog.

``statement_timeout`` is enforced by the server, and TCP keepalives are answered by the kernel:
neither helps when the catalog's backend is alive but not running (SIGSTOP, a frozen VM, a
black-hole proxy that accepted the connection). libpq then waits for an answer forever.

:class:`Watchdog` closes that gap without putting psycopg2 into "green" mode (a process-wide
wait callback would change how every other connection of the process behaves): while a call
is in flight the watchdog thread holds a deadline, and when it passes it shuts the
connection's socket down. libpq's pending read then returns end-of-file and the call fails
with an OperationalError, which the Catalog maps to CatalogUnavailableError ("no answer
within N s"); the connection is dropped and the next call reconnects. libpq's own
``connect_timeout`` already bounds the connection phase.

A daemon asked to stop cannot wait that long: its signal handler only runs once the main
thread is back in Python, and libpq retries its wait when a signal interrupts it. So
:meth:`Watchdog.abort` cuts the call at once; it is called from the thread of
:meth:`pgbackman.infra.daemon.SignalFlags.on_stop`, which sees the signal while the main
thread is still blocked.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time


class Watchdog:
    """One daemon thread per Catalog that shuts down a socket whose call overran."""

    def __init__(self, fd: int, seconds: float) -> None:
        self.seconds = seconds
        # A duplicate of the connection's socket: shutdown() on it affects the shared
        # connection, and it can never hit an unrelated file that reused the number.
        self._sock = socket.socket(fileno=os.dup(fd))
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._closed = False
        self._aborted = False
        self.fired = False
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None

    def _ensure_thread(self) -> None:
        # Threads do not survive fork(): a daemonized program gets a fresh one.
        if (
            self._thread is None
            or not self._thread.is_alive()
            or self._pid != os.getpid()
        ):
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._watch, name="catalog-watchdog", daemon=True
            )
            self._thread.start()

    def arm(self) -> None:
        """A call starts now (it fails at once after :meth:`abort`)."""
        with self._cond:
            if self._aborted:
                self._cut()
                return
            if not self.seconds:
                self._deadline = None  # no time limit: only abort() ends a call
                return
            self._ensure_thread()
            self._deadline = time.monotonic() + self.seconds
            self._cond.notify()

    def abort(self) -> None:
        """Cut the call in flight now, and every later one on this connection (any thread)."""
        with self._cond:
            if self._closed:
                return
            self._aborted = True
            self._deadline = None
            self._cut()

    @property
    def aborted(self) -> bool:
        return self._aborted

    def _cut(self) -> None:
        # Called with the lock held. The pending read of libpq returns end-of-file.
        self.fired = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def disarm(self) -> None:
        """The call returned (with or without an error)."""
        with self._cond:
            self._deadline = None

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._deadline = None
            self._cond.notify()
        self._sock.close()

    def _watch(self) -> None:
        # The kernel delivers a process signal to any thread that does not block it. If this
        # thread took SIGINT/SIGTERM, the main thread's blocking call (readline at the
        # shell prompt, a select() in a daemon) would not be interrupted and Python would run
        # the handler only later. Only the main thread may receive signals.
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        with self._cond:
            while not self._closed:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._deadline = None
                self._cut()


def client_deadline(statement_timeout: float, connect_timeout: float) -> float:
    """Seconds a call may take before the client gives up (0 = no limit).

    A margin over statement_timeout so that a merely slow query still gets the server's own,
    clearer "canceling statement due to statement timeout" error first.
    """
    if not statement_timeout:
        return 0.0
    return float(statement_timeout) + max(float(connect_timeout), 5.0)
