"""Unit tests of the reliability primitives: the catalog call watchdog (a hung peer is cut
off after its deadline, or at once on a stop signal) and the sweep of temp files left by
killed atomic writes."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

from pgbackman.catalog.deadline import Watchdog, client_deadline
from pgbackman.infra.daemon import SignalFlags
from pgbackman.infra.fsutil import atomic_write, sweep_stale_temps


def test_watchdog_cuts_a_silent_peer_after_the_deadline() -> None:
    ours, peer = socket.socketpair()
    with ours, peer:
        wd = Watchdog(ours.fileno(), 0.3)
        try:
            t0 = time.monotonic()
            wd.arm()
            data = ours.recv(
                10
            )  # the peer never answers: only the watchdog can end this
            elapsed = time.monotonic() - t0
            wd.disarm()
        finally:
            wd.close()
        assert data == b"" and wd.fired
        assert 0.25 < elapsed < 3


def test_watchdog_disarmed_in_time_does_nothing() -> None:
    ours, peer = socket.socketpair()
    with ours, peer:
        wd = Watchdog(ours.fileno(), 0.2)
        for _ in range(3):
            wd.arm()
            peer.send(b"x")
            assert ours.recv(1) == b"x"
            wd.disarm()
        time.sleep(0.4)
        wd.close()
        assert not wd.fired
        peer.send(b"y")
        assert ours.recv(1) == b"y"  # the connection is intact


def test_stop_signal_cuts_a_blocked_call_at_once() -> None:
    ours, peer = socket.socketpair()
    flags = SignalFlags()
    with ours, peer, flags.installed():
        wd = Watchdog(ours.fileno(), 0)  # no deadline: only the stop can end this call
        flags.on_stop(wd.abort)
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        t0 = time.monotonic()
        wd.arm()
        data = ours.recv(10)
        elapsed = time.monotonic() - t0
        wd.disarm()
        assert data == b"" and wd.aborted and flags.stop_requested
        assert 0.25 < elapsed < 3
        wd.arm()  # every later call on this connection fails at once too
        assert ours.recv(10) == b""
        wd.close()


def test_client_deadline() -> None:
    assert client_deadline(0, 10) == 0
    assert client_deadline(60, 10) == 70
    assert client_deadline(2, 2) == 7


def test_sweep_removes_only_our_old_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "pgsql_node_1"
    atomic_write(target, "content\n", 0o644)
    ours_old = tmp_path / ".pgsql_node_1.ab_cd123.tmp"
    ours_young = tmp_path / ".pgsql_node_1.zz99yy88.tmp"
    other_target = tmp_path / ".pgsql_node_10.ab_cd123.tmp"
    not_pattern = tmp_path / ".pgsql_node_1.toolongname.tmp"
    link = tmp_path / ".pgsql_node_1.linklink.tmp"
    for p in (ours_old, ours_young, other_target, not_pattern):
        p.write_text("x")
    link.symlink_to(target)
    old = time.time() - 60
    for p in (ours_old, other_target, not_pattern):
        os.utime(p, (old, old))
    os.utime(link, (old, old), follow_symlinks=False)
    assert sweep_stale_temps(target) == [ours_old]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (target, ours_young, other_target, not_pattern, link)
    )
    assert target.read_text() == "content\n"
    assert sweep_stale_temps(tmp_path / "missing-dir" / "x") == []
