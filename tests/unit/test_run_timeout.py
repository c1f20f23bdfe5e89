"""run/timeout.RunTimeout on a stand-in run (threads only, no PostgreSQL), and the interval
arithmetic backup_timeout relies on."""

from __future__ import annotations

import socket
import threading

import pytest

from pgbackman.core.validate import backup_timeout, interval_seconds
from pgbackman.errors import UserInputError
from pgbackman.run.timeout import RunTimeout


class FakeRun:
    def __init__(self, sock: socket.socket | None = None) -> None:
        self.timed_out: str | None = None
        self.sock = sock

    def node_socket(self) -> int | None:
        return self.sock.fileno() if self.sock else None


def test_deadline_marks_the_run_and_shuts_its_node_socket() -> None:
    a, b = socket.socketpair()
    run = FakeRun(a)
    abandoned = threading.Event()
    t = RunTimeout(run, 0.2, "job", on_abandon=abandoned.set, kill_after=0.1)
    t.abandon_after = 0.3
    t.start()
    a.settimeout(5)
    assert a.recv(10) == b""  # a blocked read returns at once: the socket was shut down
    assert run.timed_out is not None and "backup_timeout of 0.2 s exceeded" in (
        run.timed_out
    )
    assert abandoned.wait(5)  # nobody finished: the watchdog records it itself
    a.close()
    b.close()


def test_a_run_that_finishes_is_never_abandoned() -> None:
    run = FakeRun()
    abandoned = threading.Event()
    t = RunTimeout(run, 0.1, "job", on_abandon=abandoned.set, kill_after=0.05)
    t.abandon_after = 0.2
    t.start()
    with t.finishing():  # the run records its result: the watchdog must not
        assert not abandoned.wait(0.6)
    assert not abandoned.is_set()
    quiet = RunTimeout(FakeRun(), 0.1, "job", on_abandon=abandoned.set).start()
    quiet.stop()
    assert not abandoned.wait(0.3) and quiet.run.timed_out is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1 day", 86400),
        ("6 hours", 21600),
        ("02:30:00", 9000),
        ("1 day 02:00", 93600),
        ("P1DT2H", 93600),
        ("PT30M", 1800),
        ("1.5 hours", 5400),
        ("1 week 2 days", 777600),
        ("45 min", 2700),
        ("1 mon", 2592000),
    ],
)
def test_interval_seconds(text: str, seconds: int) -> None:
    assert interval_seconds(text) == seconds


def test_backup_timeout_bounds() -> None:
    assert backup_timeout(" 6  Hours ") == "6 hours"
    for bad in ("0 seconds", "400 days", "soon", "-1 hour"):
        with pytest.raises(UserInputError):
            backup_timeout(bad)
