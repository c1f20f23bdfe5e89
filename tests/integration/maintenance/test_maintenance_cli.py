"""The pgbackman_maintenance program: --once idempotence, --dry-run, the loop and signals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from typing import Any

from maint_helpers import DAY, MaintEnv

from pgbackman.config import Config
from pgbackman.maintenance.daemon import MaintenanceDaemon


def _scenario(mnt: MaintEnv, node1: Any, quarantine: str = "14 days") -> dict[str, Any]:
    """Something for every task: expired dumps, a forced delete, a dropped database past its
    quarantine, an expired snapshot and a restore log."""
    now = mnt.now()
    d = mnt.definition(period="7 days", redundancy=1)
    expired = [mnt.dump(d, now - (20 + i) * DAY) for i in range(3)]
    kept = [mnt.dump(d, now - DAY), mnt.dump(d, now - 2 * DAY, "ERROR")]
    forced = mnt.definition(dbname="app2")
    forced_dump = mnt.dump(forced, now - DAY, dbname="app2")
    mnt.pgb.su(f"SELECT delete_force_backup_definition_id({forced})")
    gone = f"gone_{uuid.uuid4().hex[:8]}"
    node1.psql(f'CREATE DATABASE "{gone}"')
    d_gone = mnt.definition(dbname=gone)
    gone_dump = mnt.dump(d_gone, now - DAY, dbname=gone)
    node1.psql(f'DROP DATABASE "{gone}"')
    mnt.pgb.su_query(
        "UPDATE pgsql_node_config SET value = %s "
        "WHERE node_id = %s AND parameter = 'automatic_deletion_retention'",
        (quarantine, mnt.node_id),
    )
    snap = int(
        mnt.pgb.su_query(
            "INSERT INTO snapshot_definition (backup_server_id, pgsql_node_id, dbname, at_time,"
            " backup_code, retention_period, status) VALUES (%s, %s, 'app1', %s, 'FULL', '7 days',"
            " 'DEFINED') RETURNING snapshot_id",
            (mnt.pgb.server_id, mnt.node_id, now - 9 * DAY),
        )[0][0]
    )
    snap_dump = mnt.dump(None, now - 9 * DAY, snapshot_id=snap)
    rlog = mnt.restore_log(restore_def=7, target_dbname="app1")
    return {
        "expired": expired,
        "kept": kept,
        "forced": forced_dump,
        "gone": gone_dump,
        "d_gone": d_gone,
        "snap": snap,
        "snap_dump": snap_dump,
        "rlog": rlog,
    }


def _catalog_state(mnt: MaintEnv) -> tuple[Any, ...]:
    q = mnt.pgb.su_query
    return (
        q("SELECT bck_id FROM backup_catalog ORDER BY 1"),
        q("SELECT def_id, job_status, deleted_at FROM backup_definition ORDER BY 1"),
        q("SELECT snapshot_id, status FROM snapshot_definition ORDER BY 1"),
        q("SELECT del_id FROM catalog_entries_to_delete ORDER BY 1"),
        q("SELECT del_id FROM restore_logs_to_delete ORDER BY 1"),
    )


def test_once_twice_changes_nothing_the_second_time(mnt: MaintEnv, node1: Any) -> None:
    s = _scenario(mnt, node1)
    first = mnt.cli("--once")
    assert first.returncode == 0, first.stderr
    state, tree = _catalog_state(mnt), mnt.tree()

    assert all(dp.none_on_disk() for dp in s["expired"])
    assert all(dp.on_disk() for dp in s["kept"])
    assert s["forced"].none_on_disk() and s["gone"].on_disk()  # quarantined, 14 days
    assert s["snap_dump"].none_on_disk() and not s["rlog"].exists()
    assert (s["d_gone"], "DELETED") in [r[:2] for r in state[1]]
    assert not state[2] and not state[3] and not state[4]

    second = mnt.cli("--once")
    assert second.returncode == 0, second.stderr
    assert _catalog_state(mnt) == state
    assert mnt.tree() == tree


def test_quarantine_end_then_nothing_more(mnt: MaintEnv, node1: Any) -> None:
    s = _scenario(mnt, node1, quarantine="1 second")
    assert mnt.cli("--once").returncode == 0  # marks the definition DELETED
    time.sleep(1.1)
    assert mnt.cli("--once").returncode == 0  # quarantine over: definition and files go
    state, tree = _catalog_state(mnt), mnt.tree()
    assert s["gone"].none_on_disk()
    assert all(r[0] != s["d_gone"] for r in state[1])
    assert mnt.cli("--once").returncode == 0
    assert _catalog_state(mnt) == state and mnt.tree() == tree


def test_dry_run_lists_and_deletes_nothing(mnt: MaintEnv, node1: Any) -> None:
    s = _scenario(mnt, node1)
    state, tree = _catalog_state(mnt), mnt.tree()

    res = mnt.cli("--dry-run")

    assert res.returncode == 0, res.stderr
    assert _catalog_state(mnt) == state and mnt.tree() == tree
    lines = res.stdout.splitlines()
    assert lines and all(line.startswith("WOULD ") for line in lines)
    listed = {
        int(m) for m in re.findall(r"WOULD DELETE backup bck_id=(\d+)", res.stdout)
    }
    assert listed == {dp.bck_id for dp in s["expired"]}
    assert any(
        f"bck_id={s['forced'].bck_id}" in line and "force-deleted" in line
        for line in lines
    )
    assert any(f"snapshot_id={s['snap']}" in line for line in lines)
    assert any("restore log" in line and str(s["rlog"]) in line for line in lines)
    assert any(
        "WOULD MARK DELETED" in line and f"def_id={s['d_gone']}" in line
        for line in lines
    )
    assert all("older than" in line for line in lines if "WOULD DELETE backup " in line)

    # The real pass deletes exactly what the dry run listed for retention.
    before = mnt.catalog_ids()
    assert mnt.cli("--once").returncode == 0
    assert before - mnt.catalog_ids() >= listed


def test_loop_survives_catalog_connection_loss(mnt: MaintEnv) -> None:
    now = mnt.now()
    d = mnt.definition()
    mnt.dump(d, now - DAY)
    late = []
    passes = {"n": 0}

    def interval() -> int:
        passes["n"] += 1
        if passes["n"] == 1:
            # Kill our catalog session and add work for the next pass.
            late.append(mnt.dump(d, now - 30 * DAY))
            mnt.pgb.su(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'pgbackman_maintenance'"
            )
        return 0

    class TwoPasses(MaintenanceDaemon):
        def cycle_interval(self) -> float:
            wait = interval()
            self.flags.stop_requested = passes["n"] >= 2
            return wait

    TwoPasses(Config.load(str(mnt.pgb.config_path))).run()

    assert passes["n"] == 2
    assert late[0].bck_id not in mnt.catalog_ids(d) and late[0].none_on_disk()


def test_foreground_loop_stops_on_sigterm(mnt: MaintEnv) -> None:
    log = mnt.pgb.tmp / "pgbackman.log"
    proc = subprocess.Popen(
        ["pgbackman_maintenance", "--config", str(mnt.pgb.config_path), "--foreground"],
        env=mnt.pgb.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if log.exists() and "Maintenance pass done" in log.read_text():
                break
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.1)
        else:
            raise AssertionError("no pass within 20 s")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=5)
        assert proc.returncode == 0, err
        assert time.monotonic() - t0 < 3
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert "pgbackman_maintenance stopped" in log.read_text()


def test_unregistered_server_and_bad_usage(mnt: MaintEnv) -> None:
    cfg = mnt.pgb.config_path
    cfg.write_text(
        cfg.read_text().replace("backup01.pgbackman.test", "nobody.example.test")
    )
    res = mnt.cli("--once")
    assert res.returncode == 1
    assert "nobody.example.test is not registered" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    bad = mnt.cli("--bogus")
    assert bad.returncode == 2


def test_daemon_mode_pidfile_and_sigterm(mnt: MaintEnv) -> None:
    pidfile = mnt.pgb.tmp / "run" / "maint.pid"
    cfg = mnt.pgb.config_path
    cfg.write_text(
        cfg.read_text().replace(
            "[pgbackman_maintenance]\n",
            f"[pgbackman_maintenance]\npidfile = {pidfile}\n",
        )
    )
    old = mnt.dump(mnt.definition(), mnt.now() - 30 * DAY, "ERROR")
    mnt.dump(
        int(mnt.pgb.su_query("SELECT max(def_id) FROM backup_definition")[0][0]),
        mnt.now() - DAY,
    )
    res = mnt.cli(timeout=20)  # forks; the parent returns at once
    assert res.returncode == 0, res.stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and old.bck_id in mnt.catalog_ids():
        time.sleep(0.1)
    assert old.bck_id not in mnt.catalog_ids() and old.none_on_disk()
    pid = int(pidfile.read_text())
    assert oct(pidfile.stat().st_mode & 0o777) == "0o644"
    # A second instance is refused while the first runs.
    second = mnt.cli(timeout=20)
    assert second.returncode == 0  # the refusal happens in the detached child: logged
    log_path = mnt.pgb.tmp / "pgbackman.log"
    deadline = time.monotonic() + 10
    while (
        time.monotonic() < deadline
        and "Another instance is running" not in log_path.read_text()
    ):
        time.sleep(0.1)
    assert "Another instance is running" in log_path.read_text()
    assert int(pidfile.read_text()) == pid

    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and pidfile.exists():
        time.sleep(0.1)
    assert not pidfile.exists()
    log = (mnt.pgb.tmp / "pgbackman.log").read_text()
    assert "pgbackman_maintenance stopped" in log
