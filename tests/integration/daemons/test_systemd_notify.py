"""pgbackman_control, pgbackman_maintenance and pgbackman_alerts under systemd's
``Type=notify``.

Each program is started with ``--foreground`` and NOTIFY_SOCKET pointing at a datagram
socket the test binds, as systemd does: it must say READY=1 once running, RELOADING=1 and
then READY=1 around a SIGHUP (with the configuration really re-read), and STOPPING=1 before
it exits 0 on SIGTERM. The units in etc/ must ask systemd for exactly that.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from support.pgbenv import PgbEnv
from support.systemd import NotifySocket

ETC = Path(__file__).resolve().parents[3] / "etc"


@pytest.mark.parametrize(
    "program", ["pgbackman_control", "pgbackman_maintenance", "pgbackman_alerts"]
)
def test_daemon_tells_systemd_ready_reloading_stopping(
    pgb_env: PgbEnv, program: str
) -> None:
    log = pgb_env.tmp / "pgbackman.log"
    with (
        NotifySocket() as notify,
        open(pgb_env.tmp / "stderr", "wb") as err,
    ):
        proc = subprocess.Popen(
            [program, "--foreground", "--config", str(pgb_env.config_path)],
            env={**pgb_env.env, "NOTIFY_SOCKET": notify.address},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            notify.expect("READY=1")
            proc.send_signal(signal.SIGHUP)
            notify.expect("RELOADING=1", timeout=15)
            notify.expect("READY=1", timeout=15)
            assert "Configuration reloaded from" in log.read_text()
            proc.send_signal(signal.SIGTERM)
            notify.expect("STOPPING=1", timeout=15)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        states = [
            line
            for msg in notify.messages
            for line in msg
            if line in ("READY=1", "RELOADING=1", "STOPPING=1")
        ]
    assert states == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"]
    assert "Traceback" not in (pgb_env.tmp / "stderr").read_text()


@pytest.mark.parametrize(
    "unit", ["pgbackman-control", "pgbackman-maintenance", "pgbackman-alerts"]
)
def test_units_use_type_notify(unit: str) -> None:
    text = (ETC / f"{unit}.service").read_text()
    assert "\nType=notify\n" in text
    assert "--foreground" in text and "ExecReload=/bin/kill -HUP $MAINPID" in text
