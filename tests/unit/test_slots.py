"""Run slots (infra/slots.py) with real processes, without PostgreSQL: at most N holders,
waiting in order of start, nothing left behind by a holder or a waiter killed with
SIGKILL; and the max_parallel_backups values (core/concurrency.py, core/validate.py)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pgbackman.core import concurrency, validate
from pgbackman.errors import UserInputError
from pgbackman.infra.slots import SlotQueue

# A process that takes a slot (printing "got <index>") and keeps it until its stdin closes.
HOLDER = """
import sys, time
from pathlib import Path
from pgbackman.infra.slots import SlotQueue
q = SlotQueue(Path(sys.argv[1]), int(sys.argv[2]))
slot = q.acquire(int(sys.argv[3]), lambda: None, poll=0.02)
print("got", slot.index, flush=True)
sys.stdin.read()
"""


def _holder(d: Path, capacity: int, started_ns: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(d), str(capacity), str(started_ns)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _got(p: subprocess.Popen[str], timeout: float = 20) -> int:
    """The slot ``p`` took (it must take one within ``timeout`` s)."""
    assert p.stdout is not None
    os.set_blocking(p.stdout.fileno(), True)
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    assert ready, "no slot in time"
    line = p.stdout.readline()
    assert line.startswith("got "), line
    return int(line.split()[1])


def _waiting(p: subprocess.Popen[str], seconds: float = 0.5) -> bool:
    """True when ``p`` still has no slot after ``seconds``."""
    assert p.stdout is not None
    os.set_blocking(p.stdout.fileno(), False)
    time.sleep(seconds)
    return not p.stdout.readline() and p.poll() is None


def _done(*procs: subprocess.Popen[str]) -> None:
    for p in procs:
        for pipe in (p.stdin, p.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()
        p.wait(20)


def _queued(d: Path, n: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len([x for x in os.listdir(d / "queue") if not x.startswith(".")]) < n:
        assert time.monotonic() < deadline, "waiters did not queue"
        time.sleep(0.02)


def test_at_most_n_holders_and_the_next_one_waits(tmp_path: Path) -> None:
    d = tmp_path / "server"
    a, b = _holder(d, 2, 1), _holder(d, 2, 2)
    assert sorted([_got(a), _got(b)]) == [0, 1]
    c = _holder(d, 2, 3)
    try:
        assert _waiting(c)
        _done(a)
        assert _got(c) in (0, 1)
        assert os.listdir(d / "queue") == []  # its ticket went with the wait
    finally:
        _done(a, b, c)


def test_waiters_get_slots_in_order_of_start(tmp_path: Path) -> None:
    d = tmp_path / "node_1"
    holder = _holder(d, 1, 10)
    assert _got(holder) == 0
    # Started in the order 3, 1, 2 (ns) but queued in the order 1, 2, 3.
    waiters = {}
    for started in (300, 100, 200):
        waiters[started] = _holder(d, 1, started)
        _queued(d, len(waiters))
    order = []
    try:
        current = holder
        for _ in range(3):
            _done(current)
            got = [
                s for s, p in waiters.items() if s not in order and not _waiting(p, 0.3)
            ]
            assert len(got) == 1, got
            order.append(got[0])
            current = waiters[got[0]]
        assert order == [100, 200, 300]
    finally:
        _done(holder, *waiters.values())


def test_killed_holder_and_killed_waiter_leave_nothing_behind(tmp_path: Path) -> None:
    d = tmp_path / "server"
    holder = _holder(d, 1, 1)
    assert _got(holder) == 0
    dead_waiter = _holder(d, 1, 2)
    _queued(d, 1)
    live = _holder(d, 1, 3)
    _queued(d, 2)
    try:
        dead_waiter.send_signal(signal.SIGKILL)
        dead_waiter.wait(10)
        holder.send_signal(signal.SIGKILL)  # its flock goes with it: no stale counter
        holder.wait(10)
        assert _got(live) == 0  # the dead waiter's ticket did not keep it waiting
        assert [x for x in os.listdir(d / "queue") if not x.startswith(".")] == []
    finally:
        _done(holder, dead_waiter, live)


def test_checkpoint_ends_the_wait_and_leaves_no_ticket(tmp_path: Path) -> None:
    d = tmp_path / "server"
    holder = _holder(d, 1, 1)
    assert _got(holder) == 0
    calls = []

    def checkpoint() -> None:
        calls.append(1)
        if len(calls) > 3:
            raise TimeoutError("backup_timeout")

    try:
        with pytest.raises(TimeoutError):
            SlotQueue(d, 1).acquire(5, checkpoint, poll=0.01)
        assert os.listdir(d / "queue") == []
    finally:
        _done(holder)


def test_max_parallel_backups_values() -> None:
    assert validate.max_parallel_backups(" 8 ") == "8"
    assert validate.max_parallel_backups("UNLIMITED") == "unlimited"
    assert validate.server_max_parallel_backups("Auto") == "auto"
    for bad in ("0", "-1", "10001", "auto", "two", "", "4.5"):
        with pytest.raises(UserInputError, match="Max parallel backups"):
            validate.max_parallel_backups(bad)
    with pytest.raises(UserInputError, match=", auto, or unlimited"):
        validate.server_max_parallel_backups("0")
    assert concurrency.slots("3", cpus=2, default="4") == 3
    assert concurrency.slots("auto", cpus=2, default="4") == 4
    assert concurrency.slots("unlimited", cpus=8, default="4") is None
    # Missing or unreadable (an old cache, a hand edit): the default.
    assert concurrency.slots(None, cpus=2, default="auto") == 4
    assert concurrency.slots("garbage", cpus=2, default="4") == 4
