"""The wall-clock limit of one run (node config ``backup_timeout``).

A node that stops answering (a frozen VM, SIGSTOP, a black-hole network) makes pg_dump and
our own node connection wait forever: ``statement_timeout`` is enforced by the node that is
not running, and TCP keepalives are answered by its kernel. A :class:`RunTimeout` thread
watches the run from outside:

1. at the deadline it marks the run as timed out (its next checkpoint fails with one
   error), sends SIGTERM to the run's children, and shuts down the socket of the run's own
   node connection, so a libpq call blocked on it returns at once;
2. ``kill_after`` seconds later the children still alive get SIGKILL (pg_dump's SIGTERM
   handler sends a cancel request to the node, which hangs too when the node is frozen);
3. ``abandon_after`` seconds after the deadline, if the run still has not finished (stuck
   somewhere nothing above reaches), ``on_abandon`` is called: it records the ERROR itself
   and ends the process. The run's normal end and ``on_abandon`` exclude each other through
   :meth:`RunTimeout.finishing`, so exactly one result is recorded.

Children are never started from this thread (a child's death signal follows the thread
that started it).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from pgbackman.infra import proc

log = logging.getLogger(__name__)


class Timeoutable(Protocol):
    """What the timeout acts on (a JobRun): a flag and the node connection's socket."""

    timed_out: str | None

    def node_socket(self) -> int | None: ...


class RunTimeout:
    """Watch ``run`` for ``seconds`` of wall clock (monotonic) from :meth:`start`."""

    def __init__(
        self,
        run: Timeoutable,
        seconds: float,
        label: str,
        on_abandon: Callable[[], None] | None = None,
        kill_after: float = 3.0,
        abandon_after: float = 30.0,
    ) -> None:
        self.run = run
        self.seconds = seconds
        self.label = label
        self.on_abandon = on_abandon
        self.kill_after = kill_after
        self.abandon_after = abandon_after
        self._done = threading.Event()
        self._finishing = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> RunTimeout:
        self._thread = threading.Thread(
            target=self._watch, name="backup-timeout", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """The run is over (whatever its result): nothing more to watch."""
        self._done.set()

    @contextmanager
    def finishing(self) -> Iterator[None]:
        """Held by the run while it records its result (the watchdog then never does)."""
        with self._finishing:
            self.stop()
            yield

    def _watch(self) -> None:
        if self._done.wait(self.seconds):
            return
        message = (
            f"backup_timeout of {_human(self.seconds)} exceeded: {self.label} stopped"
        )
        log.error("%s", message)
        self.run.timed_out = message
        proc.terminate_children(signal.SIGTERM)
        _shutdown(self.run.node_socket())
        if self._done.wait(self.kill_after):
            return
        log.error(
            "Children of the run still alive %.0f s later: SIGKILL", self.kill_after
        )
        proc.terminate_children(signal.SIGKILL)
        if self._done.wait(max(0.0, self.abandon_after - self.kill_after)):
            return
        if self.on_abandon is not None and self._finishing.acquire(blocking=False):
            log.error(
                "The run did not end %.0f s after its timeout: recording it as ERROR "
                "from the watchdog and exiting",
                self.abandon_after,
            )
            self.on_abandon()


def _shutdown(fd: int | None) -> None:
    """Shut down the connection behind ``fd`` (a duplicate: never another file's number)."""
    if fd is None:
        return
    try:
        dup = os.dup(fd)
    except OSError:
        return
    try:
        sock = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


def _human(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
