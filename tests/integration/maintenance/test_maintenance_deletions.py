"""Forced deletions, dropped databases, restore logs and confinement to the backup root."""

from __future__ import annotations

import os
import uuid
from typing import Any

from maint_helpers import DAY, MaintEnv

from support.pgcluster import free_port


def test_forced_definition_delete_removes_files_on_next_pass(mnt: MaintEnv) -> None:
    now = mnt.now()
    d = mnt.definition()
    dumps = [mnt.dump(d, now - i * DAY) for i in range(3)]
    failed = mnt.dump(d, now - 4 * DAY, "ERROR")
    keep_def = mnt.definition(dbname="app2")
    kept = mnt.dump(keep_def, now - DAY, dbname="app2")
    mnt.pgb.su(f"SELECT delete_force_backup_definition_id({d})")
    assert len(mnt.pgb.su_query("SELECT 1 FROM catalog_entries_to_delete")) == 4

    report = mnt.run_pass()

    assert not report.failed
    assert all(dp.none_on_disk() for dp in dumps) and failed.none_on_disk()
    assert mnt.pgb.su_query("SELECT count(*) FROM catalog_entries_to_delete")[0][0] == 0
    assert report.tasks["forced-deletions"].deleted == 4
    assert kept.on_disk() and mnt.catalog_ids() == {kept.bck_id}


def _fresh_db(cluster: Any) -> str:
    name = f"drop_me_{uuid.uuid4().hex[:8]}"
    cluster.psql(f'CREATE DATABASE "{name}"')
    return name


def test_dropped_database_definition_is_deleted_after_quarantine(
    mnt: MaintEnv, node1: Any
) -> None:
    now = mnt.now()
    gone = _fresh_db(node1)
    d_gone = mnt.definition(dbname=gone)
    d_app1 = mnt.definition(dbname="app1")
    d_pg = mnt.definition(dbname="postgres")
    d_cluster = mnt.definition(dbname="", code="CLUSTER")
    dumps = [mnt.dump(d_gone, now - i * DAY, dbname=gone) for i in range(2)]
    app1_dump = mnt.dump(d_app1, now - DAY)
    node1.psql(f'DROP DATABASE "{gone}"')

    assert not mnt.run_pass().failed

    status = dict(mnt.pgb.su_query("SELECT def_id, job_status FROM backup_definition"))
    assert status == {
        d_gone: "DELETED",
        d_app1: "ACTIVE",
        d_pg: "ACTIVE",
        d_cluster: "ACTIVE",
    }
    deleted_at = mnt.pgb.su_query(
        "SELECT deleted_at FROM backup_definition WHERE def_id = %s", (d_gone,)
    )[0][0]
    assert deleted_at is not None
    # Quarantine (14 days by default): the dumps stay, and any update keeps the clock.
    assert all(dp.on_disk() for dp in dumps)
    mnt.pgb.su(f"UPDATE backup_definition SET remarks = 'x' WHERE def_id = {d_gone}")
    assert (
        mnt.pgb.su_query(
            "SELECT deleted_at FROM backup_definition WHERE def_id = %s", (d_gone,)
        )[0][0]
        == deleted_at
    )
    assert not mnt.run_pass().failed
    assert all(dp.on_disk() for dp in dumps)

    # The quarantine ends: the definition is force-deleted and its files go in the same pass.
    mnt.pgb.su(
        "UPDATE backup_definition SET deleted_at = now() - interval '15 days' "
        f"WHERE def_id = {d_gone}"
    )
    assert not mnt.run_pass().failed
    ids = {r[0] for r in mnt.pgb.su_query("SELECT def_id FROM backup_definition")}
    assert ids == {d_app1, d_pg, d_cluster}
    assert all(dp.none_on_disk() for dp in dumps)
    assert mnt.pgb.su_query("SELECT count(*) FROM catalog_entries_to_delete")[0][0] == 0
    assert app1_dump.on_disk()


def test_node_automatic_deletion_retention_is_honoured(
    mnt: MaintEnv, node1: Any
) -> None:
    gone = _fresh_db(node1)
    d = mnt.definition(dbname=gone)
    dump = mnt.dump(d, mnt.now() - DAY, dbname=gone)
    node1.psql(f'DROP DATABASE "{gone}"')
    mnt.pgb.su(
        "UPDATE pgsql_node_config SET value = '1 second' "
        f"WHERE node_id = {mnt.node_id} AND parameter = 'automatic_deletion_retention'"
    )
    assert not mnt.run_pass().failed
    assert (
        mnt.pgb.su_query("SELECT job_status FROM backup_definition")[0][0] == "DELETED"
    )
    mnt.pgb.su(  # instead of sleeping past the 1-second quarantine
        f"UPDATE backup_definition SET deleted_at = now() - interval '2 seconds' WHERE def_id = {d}"
    )
    assert not mnt.run_pass().failed
    assert mnt.pgb.su_query("SELECT count(*) FROM backup_definition")[0][0] == 0
    assert dump.none_on_disk()


def test_unreachable_node_is_a_warning_and_the_others_are_still_done(
    mnt: MaintEnv, node1: Any, node2: Any
) -> None:
    """Issue item 6: a RUNNING node that is down made --once exit 1. In a fleet one node is
    always down: the pass does everything else, reports the node as a warning, exits 0."""
    # A RUNNING node nobody listens on (registered first, so it is checked first).
    dead_port = free_port()
    dead = int(
        mnt.pgb.su_query(
            "SELECT register_pgsql_node('127', '0.0.1', %s, 'postgres', 'RUNNING', 'dead')",
            (dead_port,),
        )[0][0]
    )
    mnt.definition(dbname="whatever", node_id=dead)
    node2_id = mnt.pgb.register_node(node2, "RUNNING")
    gone1, gone2 = _fresh_db(node1), _fresh_db(node2)
    d1 = mnt.definition(dbname=gone1)
    d2 = mnt.definition(dbname=gone2, node_id=node2_id)
    node1.psql(f'DROP DATABASE "{gone1}"')
    node2.psql(f'DROP DATABASE "{gone2}"')
    # Retention still cleans the reachable nodes' backups in the same pass.
    now = mnt.now()
    keep = mnt.definition(dbname="app1")
    old = mnt.dump(keep, now - 30 * DAY)
    new = mnt.dump(keep, now - DAY)

    res = mnt.cli("--once")

    assert res.returncode == 0, res.stderr
    log = (mnt.pgb.tmp / "pgbackman.log").read_text()
    assert f"node {dead} " in log and "not reachable" in log
    status = dict(mnt.pgb.su_query("SELECT def_id, job_status FROM backup_definition"))
    assert status[d1] == "DELETED" and status[d2] == "DELETED"
    assert mnt.catalog_ids(keep) == {new.bck_id} and old.none_on_disk()

    report = mnt.run_pass()
    assert not report.failed
    warnings = report.tasks["dropped-databases"].warnings
    assert len(warnings) == 1 and f"node {dead}" in warnings[0]


def test_restore_logs_of_deleted_restore_rows_are_removed(mnt: MaintEnv) -> None:
    logs = [mnt.restore_log(restore_def=i, target_dbname="app1") for i in (1, 2)]
    gone = mnt.restore_log(restore_def=3, target_dbname="app1")
    gone.unlink()  # removed by hand: its queue row goes all the same
    # A queue row naming a file pgbackman_restore did not write for it is refused.
    other = mnt.partition / "log" / "precious.log"
    other.write_text("not a restore log\n")
    mnt.pgb.su_query(
        "INSERT INTO restore_logs_to_delete (backup_server_id, restore_log_file,"
        " restore_def, target_pgsql_node_id, target_dbname) VALUES (%s, %s, 4, %s, 'app1')",
        (mnt.pgb.server_id, str(other), mnt.node_id),
    )
    report = mnt.run_pass()
    assert report.failed and len(report.tasks["restore-logs"].errors) == 1
    assert not any(p.exists() for p in logs) and other.exists()
    assert mnt.pgb.su_query("SELECT restore_log_file FROM restore_logs_to_delete") == [
        (str(other),)
    ]


def test_paths_outside_the_root_are_refused_and_reported(mnt: MaintEnv) -> None:
    """B.10 case 14: '../' escapes and symlinks leading out are refused; nothing outside
    the root is touched; the rows stay; the pass reports errors and --once exits 1."""
    now = mnt.now()
    outside = mnt.pgb.tmp / "outside"
    outside.mkdir()
    victim = outside / "precious.txt"
    victim.write_text("do not delete\n")
    victim_dir = outside / "precious_dir"
    victim_dir.mkdir()
    (victim_dir / "f").write_text("x")
    d = mnt.definition()
    dump_dir = mnt.partition / "dump"
    dump_dir.mkdir(parents=True)
    dotdot = mnt.dump(
        d,
        now - 40 * DAY,
        files={
            "pg_dump_file": dump_dir / ".." / ".." / ".." / "outside" / "precious.txt"
        },
    )
    link = dump_dir / "evil-DATABASE.sql"
    os.symlink(victim_dir, link)
    linked = mnt.dump(d, now - 35 * DAY, files={"pg_dump_file": link})
    absolute = mnt.dump(d, now - 33 * DAY, files={"pg_dump_log_file": victim})
    mnt.dump(d, now - DAY)
    # Forced deletions go through the same check.
    d2 = mnt.definition(dbname="app2")
    mnt.dump(d2, now - DAY, dbname="app2", files={"pg_dump_file": victim_dir})
    mnt.pgb.su(f"SELECT delete_force_backup_definition_id({d2})")

    dry = mnt.cli("--dry-run")
    assert dry.returncode == 0, dry.stderr
    refused = [
        line for line in dry.stdout.splitlines() if line.startswith("WOULD REFUSE")
    ]
    assert len(refused) == 4 and all("Refusing to delete" in r for r in refused)

    report = mnt.run_pass()

    assert report.failed
    assert len(report.tasks["backup-retention"].errors) == 3
    assert len(report.tasks["forced-deletions"].errors) == 1
    assert all("Refusing" in e for t in report.tasks.values() for e in t.errors)
    assert victim.read_text() == "do not delete\n"
    assert (victim_dir / "f").exists() and link.is_symlink()
    remaining = mnt.catalog_ids(d)
    assert {dotdot.bck_id, linked.bck_id, absolute.bck_id} <= remaining
    assert mnt.pgb.su_query("SELECT count(*) FROM catalog_entries_to_delete")[0][0] == 1

    res = mnt.cli("--once")
    assert res.returncode == 1, res.stderr
    assert "error" in res.stderr
    assert victim.exists() and (victim_dir / "f").exists()
