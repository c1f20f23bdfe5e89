"""The Daemon base (infra/daemon.py): signal flags, the paced loop, reload, systemd notify.

A tiny subclass runs in a child process (signals are process-wide) with NOTIFY_SOCKET
pointing at a datagram socket this test binds, as systemd would. No PostgreSQL needed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.systemd import NotifySocket

from pgbackman.infra.daemon import SignalFlags, SystemdNotifier

# The daemon under test: writes one line per event to EVENTS, one cycle every 0.2 s.
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pgbackman.config import Config
    from pgbackman.infra.daemon import Daemon

    events = Path(sys.argv[1])
    def note(text):
        with events.open("a") as fh:
            fh.write(text + "\\n")

    class Probe(Daemon):
        program = "probe"
        def startup(self):
            note("startup")
        def cycle_interval(self):
            return 0.2
        def run_cycle(self):
            note("cycle")
            return None
        def reconfigure(self, old):
            note("reconfigure")
        def shutdown(self):
            note("shutdown")

    sys.exit(Probe(Config.load(sys.argv[2])).run())
    """
)


@pytest.fixture
def notify() -> Iterator[NotifySocket]:
    with NotifySocket() as sock:
        yield sock


def _start(
    tmp_path: Path, env_extra: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    events = tmp_path / "events"
    cfg = tmp_path / "pgbackman.conf"
    cfg.write_text(f"[logging]\nlog_file = {tmp_path / 'probe.log'}\n")
    env = {**os.environ, **env_extra}
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(events), str(cfg)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    return proc, events


def _events(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_ready_reload_and_stop_reach_systemd(
    tmp_path: Path, notify: NotifySocket
) -> None:
    proc, events = _start(tmp_path, {"NOTIFY_SOCKET": notify.address})
    try:
        ready = notify.expect("READY=1")
        assert any(line.startswith("STATUS=") for line in ready)
        assert _events(events)[0] == "startup"  # startup() runs before READY=1

        proc.send_signal(signal.SIGHUP)
        reloading = notify.expect("RELOADING=1", timeout=10)
        assert any(line.startswith("MONOTONIC_USEC=") for line in reloading)
        notify.expect("READY=1", timeout=10)  # ...and ready again after the reload
        assert "reconfigure" in _events(events)

        proc.send_signal(signal.SIGTERM)
        notify.expect("STOPPING=1", timeout=10)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seen = _events(events)
    assert seen[-1] == "shutdown" and seen.count("shutdown") == 1
    assert "Traceback" not in (tmp_path / "stderr").read_text()
    states = [line for msg in notify.messages for line in msg if "=" in line]
    order = [s for s in states if s in ("READY=1", "RELOADING=1", "STOPPING=1")]
    assert order == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"]


def test_cycles_keep_their_pace_and_stop_promptly(tmp_path: Path) -> None:
    proc, events = _start(tmp_path, {})
    try:
        deadline = time.monotonic() + 20
        while _events(events).count("cycle") < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        count = _events(events).count("cycle")
        time.sleep(1.0)
        # 0.2 s apart: about 5 more in a second, never back to back.
        assert 3 <= _events(events).count("cycle") - count <= 7
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - t0 < 2
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_notifier_without_socket_does_nothing() -> None:
    assert SystemdNotifier(None).notify("READY=1") is False


def test_notifier_takes_the_variable_out_of_the_environment(
    monkeypatch: pytest.MonkeyPatch, notify: NotifySocket
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify.address)
    notifier = SystemdNotifier.from_environment()
    assert "NOTIFY_SOCKET" not in os.environ  # children never talk to systemd for us
    assert notifier.ready("up") is True
    assert notify.receive(5) == ["READY=1", "STATUS=up"]


def test_job_flags_forward_every_stop_to_the_attached_run() -> None:
    received: list[int] = []

    class Run:
        def request_stop(self, signum: int) -> None:
            received.append(signum)

    flags = SignalFlags(hup_reloads=False)
    with flags.installed():
        os.kill(os.getpid(), signal.SIGHUP)  # before the run exists: remembered
        assert flags.stop_requested and not flags.reload_requested
        flags.attach(Run())
        os.kill(os.getpid(), signal.SIGTERM)
        flags.detach()
    assert received == [signal.SIGHUP, signal.SIGTERM]
    assert flags.stop_signal == signal.SIGHUP
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or callable(
        signal.getsignal(signal.SIGTERM)
    )
