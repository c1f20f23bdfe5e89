"""One backup server through a DBA's week: a running control daemon follows node status,
several real dumps age out, a dump taken while the catalog is unreachable is ingested later,
and --verify checks what is kept."""

from __future__ import annotations

import pytest

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from ops_helpers import backups, cron_def_ids, register_def, row_files, server1, shell

from support.pgbenv import PgbEnv


def _wait(pred: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_running_control_follows_node_stop_and_start(
    pgb_env: PgbEnv, node1: Any
) -> None:
    n1 = pgb_env.register_node(node1)
    d1 = register_def(pgb_env, pgb_env.server_id, n1, "app1", "41")
    d2 = register_def(pgb_env, pgb_env.server_id, n1, "app2", "42")
    crontab = pgb_env.cron_dir / f"pgsql_node_{n1}"
    err = (pgb_env.tmp / "control.stderr").open("wb")
    proc = subprocess.Popen(
        ["pgbackman_control", "--foreground", "--config", str(pgb_env.config_path)],
        env=pgb_env.env,
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    try:
        _wait(lambda: cron_def_ids(crontab) == [d1, d2])
        assert (
            shell(pgb_env, f"update_pgsql_node {n1} '' '' STOPPED ''").returncode == 0
        )
        _wait(lambda: crontab.exists() and cron_def_ids(crontab) == [])
        assert (
            shell(pgb_env, f"update_pgsql_node {n1} '' '' RUNNING ''").returncode == 0
        )
        _wait(lambda: cron_def_ids(crontab) == [d1, d2])
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
        err.close()
    assert rc == 0
    assert "Traceback" not in (pgb_env.tmp / "control.stderr").read_text()


@pytest.mark.slow
def test_retention_over_real_dumps_keeps_newest_good(
    pgb_env: PgbEnv, node1: Any
) -> None:
    s1 = server1(pgb_env)
    n1 = pgb_env.register_node(node1)
    d1 = register_def(pgb_env, pgb_env.server_id, n1, "app1", "51")
    assert (
        shell(
            pgb_env, f"update_backup_definition {d1} '' '' '' '' '' '1 days' 2 '' '' ''"
        ).returncode
        == 0
    )
    s1.control_once()
    for _ in range(4):
        assert s1.dump(d1).returncode == 0
    rows = backups(pgb_env, d1)
    assert len(rows) == 4 and all(r["status"] == "SUCCEEDED" for r in rows)
    # Age them: 10, 9, 8, 7 days old (the newest stays the newest).
    for age, r in zip((10, 9, 8, 7), rows, strict=True):
        pgb_env.su(
            f"UPDATE backup_catalog SET finished = now() - interval '{age} days',"
            f" started = now() - interval '{age} days 1 minute' WHERE bck_id = {r['bck_id']}"
        )
    res = s1.maintenance_once()
    assert res.returncode == 0, res.stdout + res.stderr
    left = backups(pgb_env, d1)
    assert [r["bck_id"] for r in left] == [rows[2]["bck_id"], rows[3]["bck_id"]]
    assert all(p.exists() for r in left for p in row_files(r))
    assert not any(p.exists() for r in rows[:2] for p in row_files(r))
    ver = s1.run("pgbackman_maintenance", "--verify")
    assert ver.returncode == 0, ver.stdout + ver.stderr
    assert all(str(r["bck_id"]) in ver.stdout for r in left), ver.stdout


def test_dump_with_dead_catalog_is_ingested_by_maintenance(
    pgb_env: PgbEnv, node1: Any
) -> None:
    s1 = server1(pgb_env)
    n1 = pgb_env.register_node(node1)
    d1 = register_def(pgb_env, pgb_env.server_id, n1, "app1", "52")
    s1.control_once()  # builds the caches the dump needs when the catalog is gone
    good = pgb_env.config_path.read_text()
    port = str(pgb_env.catalog_cluster.port)
    dead_cfg = pgb_env.tmp / "dead.conf"
    dead_cfg.write_text(good.replace(f"port = {port}", "port = 1"))
    res = subprocess.run(
        ["pgbackman_dump", "--config", str(dead_cfg), "--def-id", str(d1)],
        env=pgb_env.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in res.stderr, res.stderr
    pending = list((pgb_env.root / "pending_updates").glob("*.json"))
    assert len(pending) == 1, (res.returncode, res.stderr)
    assert backups(pgb_env, d1) == []
    res = s1.maintenance_once()
    assert res.returncode == 0, res.stdout + res.stderr
    assert not list((pgb_env.root / "pending_updates").glob("*.json"))
    rows = backups(pgb_env, d1)
    assert len(rows) == 1 and rows[0]["status"] == "SUCCEEDED", rows
    assert all(Path(p).exists() for p in row_files(rows[0]))
    ver = s1.run(
        "pgbackman_maintenance", "--verify", "--bck-id", str(rows[0]["bck_id"])
    )
    assert ver.returncode == 0, ver.stdout + ver.stderr


def test_partition_outside_root_is_refused_and_gone_files_are_cleared(
    pgb_env: PgbEnv, node1: Any
) -> None:
    """A node whose partition is set outside root_backup_partition (another disk) is refused
    by control and by the dump: nothing is created or deleted there. And a node deleted right
    after its definition was force-deleted, before maintenance ran, whose directory the DBA
    removed by hand: the forced-deletion rows (their files are gone) are cleared, not
    reported forever."""
    s1 = server1(pgb_env)
    n1 = pgb_env.register_node(node1)
    outside = pgb_env.tmp / "disk2" / f"pgsql_node_{n1}"
    pgb_env.su_query(
        "UPDATE pgsql_node_config SET value = %s WHERE node_id = %s"
        " AND parameter = 'pgnode_backup_partition'",
        (str(outside), n1),
    )
    d1 = register_def(pgb_env, pgb_env.server_id, n1, "app1", "53")
    res = s1.run("pgbackman_control", "--once")
    assert res.returncode == 1 and not outside.exists()
    res = s1.dump(d1)
    assert res.returncode != 0 and "refused" in res.stderr and not outside.exists()

    # Back inside the root: backups work; then definition and node go before maintenance.
    inside = pgb_env.root / f"pgsql_node_{n1}"
    pgb_env.su_query(
        "UPDATE pgsql_node_config SET value = %s WHERE node_id = %s"
        " AND parameter = 'pgnode_backup_partition'",
        (str(inside), n1),
    )
    s1.control_once()
    assert s1.dump(d1).returncode == 0
    (row,) = backups(pgb_env, d1)
    assert all(Path(p).exists() for p in row_files(row))
    assert (
        shell(pgb_env, f"delete_backup_definition_id {d1} force-deletion").returncode
        == 0
    )
    assert shell(pgb_env, f"delete_pgsql_node {n1}").returncode == 0
    # The node is gone from the catalog: maintenance cannot tell its files are its own.
    res = s1.maintenance_once()
    assert res.returncode == 1 and all(Path(p).exists() for p in row_files(row))
    subprocess.run(["rm", "-rf", "--", str(inside)], check=True)
    dry = s1.run("pgbackman_maintenance", "--dry-run")
    assert dry.returncode == 0 and "WOULD REFUSE" not in dry.stdout, dry.stdout
    res = s1.maintenance_once()
    assert res.returncode == 0, res.stdout + res.stderr
    assert pgb_env.su_query("SELECT count(*) FROM catalog_entries_to_delete")[0][0] == 0


@pytest.mark.slow
def test_failed_runs_never_push_out_the_last_good_dump(
    pgb_env: PgbEnv, node1: Any
) -> None:
    s1 = server1(pgb_env)
    n1 = pgb_env.register_node(node1)
    d1 = register_def(pgb_env, pgb_env.server_id, n1, "app2", "54")
    s1.control_once()

    def age(bck_id: int, days: int) -> None:
        pgb_env.su(
            f"UPDATE backup_catalog SET finished = now() - interval '{days} days',"
            f" started = now() - interval '{days} days 1 minute' WHERE bck_id = {bck_id}"
        )

    for _ in range(2):
        assert s1.dump(d1).returncode == 0
    # The node refuses us for a while: failed runs (bad admin user).
    assert (
        shell(pgb_env, f"update_pgsql_node {n1} '' no_such_user '' ''").returncode == 0
    )
    s1.control_once()
    for _ in range(2):
        assert s1.dump(d1).returncode != 0
    rows = backups(pgb_env, d1)
    assert [r["status"] for r in rows] == ["SUCCEEDED", "SUCCEEDED", "ERROR", "ERROR"]
    for days, r in zip((20, 15, 10, 9), rows, strict=True):
        age(r["bck_id"], days)
    # The node refusing us is a warning of the dropped-databases check, not a failure of
    # maintenance's own work: exit 0 (documented).
    res = s1.maintenance_once()
    assert res.returncode == 0, res.stderr
    assert "not reachable" in (pgb_env.tmp / "pgbackman.log").read_text()
    left = backups(pgb_env, d1)
    assert [r["bck_id"] for r in left] == [r["bck_id"] for r in rows[1:]]
    assert all(p.exists() for r in left for p in row_files(r))

    # Back to normal: a new good dump; now the old failures and old good one expire.
    assert shell(pgb_env, f"update_pgsql_node {n1} '' postgres '' ''").returncode == 0
    s1.control_once()
    assert s1.dump(d1).returncode == 0
    assert s1.maintenance_once().returncode == 0
    left = backups(pgb_env, d1)
    assert len(left) == 1 and left[0]["status"] == "SUCCEEDED"
    assert not any(p.exists() for r in rows for p in row_files(r))


def test_running_control_removes_deleted_node_files(
    pgb_env: PgbEnv, node1: Any, node2: Any
) -> None:
    s1 = server1(pgb_env)
    n1 = pgb_env.register_node(node1)
    n2 = pgb_env.register_node(node2)
    d1 = register_def(pgb_env, pgb_env.server_id, n1, "app1", "55")
    d3 = register_def(pgb_env, pgb_env.server_id, n2, "app3", "56")
    cron1 = pgb_env.cron_dir / f"pgsql_node_{n1}"
    cron2 = pgb_env.cron_dir / f"pgsql_node_{n2}"
    part1 = pgb_env.root / f"pgsql_node_{n1}"
    cache1 = pgb_env.root / "cache_dir" / f"pgsql_node_{n1}.json"
    err = (pgb_env.tmp / "control.stderr").open("wb")
    proc = subprocess.Popen(
        ["pgbackman_control", "--foreground", "--config", str(pgb_env.config_path)],
        env=pgb_env.env,
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    try:
        _wait(lambda: cron_def_ids(cron1) == [d1] and cron_def_ids(cron2) == [d3])
        assert s1.dump(d1).returncode == 0
        assert (
            shell(
                pgb_env, f"delete_backup_definition_id {d1} force-deletion"
            ).returncode
            == 0
        )
        _wait(lambda: cron_def_ids(cron1) == [])
        assert s1.maintenance_once().returncode == 0
        assert shell(pgb_env, f"delete_pgsql_node {n1}").returncode == 0
        _wait(lambda: not cron1.exists() and not part1.exists() and not cache1.exists())
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
        err.close()
    assert rc == 0
    assert cron_def_ids(cron2) == [d3]
    assert (pgb_env.root / f"pgsql_node_{n2}" / "dump").is_dir()
    assert pgb_env.su_query("SELECT count(*) FROM pgsql_node_to_delete")[0][0] == 0
