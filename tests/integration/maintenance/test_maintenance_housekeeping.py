"""What maintenance keeps from growing: delivered alerts past ``alert_retention`` (never an
unsent one, one of an open episode or another server's), and the plaintext copies of
encrypted backups that killed restores left in a node partition (only that exact name,
directly in a node partition, when no live process owns it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from maint_helpers import MaintEnv
from support.alerting import set_config

from pgbackman.catalog import alerts
from pgbackman.core import naming

OLD = "2000-01-01T00:00:00+00:00"


def _alert(mnt: MaintEnv, text: str, server_id: int | None = None, **kw: str) -> int:
    alert_id = alerts.raise_alert(
        mnt.pgb.cat,
        alerts.Alert(alerts.MAINTENANCE, server_id or mnt.pgb.server_id, text, **kw),
    )
    assert alert_id is not None
    return alert_id


def _deliver(mnt: MaintEnv, *alert_ids: int, at: str = "registered") -> None:
    """pgbackman_alerts' record of a delivery; then the delivery moved to ``at`` (a column
    or an SQL time), as if it had happened then."""
    alerts.record_delivery(mnt.pgb.cat, list(alert_ids), None, [])
    mnt.pgb.su_query(
        f"UPDATE alerts SET sent_at = {at} WHERE alert_id = ANY (%s)",
        (list(alert_ids),),
    )


def _left(mnt: MaintEnv) -> set[int]:
    return {int(r[0]) for r in mnt.pgb.su_query("SELECT alert_id FROM alerts")}


def test_delivered_alerts_past_retention_go_and_nothing_else(mnt: MaintEnv) -> None:
    pgb = mnt.pgb
    set_config(pgb.config_path, "pgbackman_maintenance", alert_retention="30 days")
    old_sent = _alert(mnt, "old, delivered", registered=OLD)
    old_unsent = _alert(mnt, "old, never delivered", registered=OLD)
    recent = _alert(mnt, "delivered yesterday", registered=OLD)
    young = _alert(mnt, "new, delivered")
    open_episode = _alert(mnt, "stale", registered=OLD, episode_key="trouble:test:900")
    closed_episode = _alert(
        mnt, "was stale", registered=OLD, episode_key="trouble:test:901"
    )
    assert alerts.end_episode(pgb.cat, "trouble:test:901")
    other_server = int(
        pgb.su_query(
            "SELECT register_backup_server('backup02', 'pgbackman.test', 'RUNNING', '')"
        )[0][0]
    )
    elsewhere = _alert(mnt, "another server's", server_id=other_server, registered=OLD)
    _deliver(mnt, old_sent, young, open_episode, closed_episode, elsewhere)
    _deliver(mnt, recent, at="now() - interval '1 day'")
    everything = _left(mnt)

    dry = mnt.cli("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert (
        "WOULD DELETE 2 delivered alert(s) older than 30 days (alert_retention)"
        in dry.stdout
    )
    assert _left(mnt) == everything  # a dry run deletes nothing

    res = mnt.cli("--once")
    assert res.returncode == 0, res.stdout + res.stderr
    assert _left(mnt) == everything - {old_sent, closed_episode}
    assert "alert-retention: 2 done" in (pgb.tmp / "pgbackman.log").read_text()
    assert mnt.cli("--once").returncode == 0
    assert _left(mnt) == everything - {old_sent, closed_episode}

    # The open episode's alert goes once the trouble is over.
    assert alerts.end_episode(pgb.cat, "trouble:test:900")
    assert mnt.cli("--once").returncode == 0
    assert open_episode not in _left(mnt)
    assert {old_unsent, recent, young, elsewhere} <= _left(mnt)


def test_the_backup_server_role_deletes_only_through_the_function(
    mnt: MaintEnv,
) -> None:
    """Batches, and the function's own checks: a retention below the sane range refuses."""
    ids = [_alert(mnt, f"old {i}", registered=OLD) for i in range(5)]
    _deliver(mnt, *ids)
    cat = mnt.pgb.cat  # pgbackman_role_server
    assert alerts.count_sent_past_retention(cat, mnt.pgb.server_id, "1 day") == 5
    assert alerts.delete_sent_past_retention(cat, mnt.pgb.server_id, "1 day", 2) == 2
    assert len(_left(mnt)) == 3
    for bad in ("0 days", "-1 day", "101 years"):
        try:
            alerts.delete_sent_past_retention(cat, mnt.pgb.server_id, bad)
        except Exception as exc:  # noqa: BLE001 - CatalogError with the function's message
            assert "alert retention" in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")
    assert len(_left(mnt)) == 3
    try:
        cat.query("DELETE FROM alerts RETURNING alert_id")
    except Exception as exc:  # noqa: BLE001 - CatalogError: no login role writes a table
        assert "permission denied" in str(exc)
    else:
        raise AssertionError("pgbackman_role_server deleted alerts directly")
    assert len(_left(mnt)) == 3


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _decrypted_copy(parent: Path, job_id: int, pid: int) -> Path:
    """What restore/decrypt.py leaves: a 0700 directory holding a decrypted pg_dump
    directory (nested) and the roles file."""
    d = parent / naming.decrypted_dir_name(job_id, pid)
    (d / "app-DATABASE" / "sub").mkdir(parents=True, mode=0o700)
    (d / "app-DATABASE" / "toc.dat").write_bytes(b"PGDMP plaintext")
    (d / "app-DATABASE" / "sub" / "3001.dat").write_bytes(b"plaintext rows")
    (d / "app-USERS.sql").write_text("CREATE ROLE app;\n")
    return d


def test_decrypted_copies_of_killed_restores_are_removed(
    mnt: MaintEnv, tmp_path: Path
) -> None:
    part = mnt.partition
    (part / "dump").mkdir(parents=True, exist_ok=True, mode=0o700)
    dead = _decrypted_copy(part, 7, _dead_pid())
    live_run = subprocess.Popen(["sleep", "60"])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("not maintenance's")
    try:
        running = _decrypted_copy(part, 8, live_run.pid)  # its restore still runs
        in_use = _decrypted_copy(part, 9, _dead_pid())
        user = subprocess.Popen(["sleep", "60"], cwd=in_use)
        try:
            lookalike = _decrypted_copy(part, 10, _dead_pid()).rename(
                part / ".decrypted-restoredef10-x"
            )
            in_dump = _decrypted_copy(part / "dump", 11, _dead_pid())
            link = part / naming.decrypted_dir_name(12, _dead_pid())
            link.symlink_to(outside)

            dry = mnt.cli("--dry-run")
            assert dry.returncode == 0, dry.stderr
            assert f"WOULD DELETE stale decrypted copy {dead} " in dry.stdout
            assert str(running) not in dry.stdout and str(in_use) not in dry.stdout
            assert dead.is_dir()

            res = mnt.cli("--once")
            assert res.returncode == 0, res.stdout + res.stderr
            assert not dead.exists()
            for kept in (running, in_use, lookalike, in_dump):
                assert (kept / "app-USERS.sql").is_file(), kept
            assert link.is_symlink() and (outside / "keep").is_file()
            [alert] = mnt.pgb.cat.query(
                "SELECT * FROM alerts WHERE alert_type = 'Maintenance'"
            )
            assert str(dead) in alert["error_message"]
            assert "killed" in alert["error_message"]
            assert alert["pgsql_node_id"] == mnt.node_id
        finally:
            user.kill()
            user.wait()
        # Its user gone (and its run long dead): the next pass removes it.
        assert mnt.cli("--once").returncode == 0
        assert not in_use.exists() and running.is_dir()
    finally:
        live_run.kill()
        live_run.wait()
    assert mnt.cli("--once").returncode == 0
    assert not running.exists()
    assert os.path.isdir(part / "dump")
