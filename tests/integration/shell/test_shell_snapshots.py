"""Snapshot commands through the real shell, checked against snapshot_definition rows."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from shell_helpers import add_backup
from support.pgbenv import PgbEnv
from support.shell import answer, quit_shell

SRV = "backup01.pgbackman.test"


def snapshots(pgb: PgbEnv) -> list[tuple[Any, ...]]:
    return pgb.su_query(
        "SELECT snapshot_id, backup_server_id, pgsql_node_id, dbname, at_time, backup_code,"
        " retention_period::text, extra_backup_parameters, remarks, pg_dump_release, status"
        " FROM snapshot_definition ORDER BY snapshot_id"
    )


def snap(
    node: Any,
    db: str,
    exc: str = "",
    at: str = "",
    code: str = "FULL",
    ret: str = "",
    extra: str = "",
    tag: str = "",
    release: str = "",
) -> str:
    vals = ["", str(node), db, exc, at, code, ret, extra, tag, release]
    return "register_snapshot_definition " + " ".join(f"'{v}'" for v in vals)


def test_register_snapshot_list_one_transaction(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    r = shell.cmd(
        snap(
            nid,
            "app1,app2",
            at="2031-02-03 04:05:00+00",
            code="schema",
            ret="30 days",
            extra="-T Big",
            tag="Before-Upgrade",
            release="15",
        )
    )
    assert r.rc == 0, r.out + r.err
    assert (
        "[Done] Snapshot for dbname: [app1] and backup code [SCHEMA] defined." in r.out
    )
    assert (
        "[Done] Snapshot for dbname: [app2] and backup code [SCHEMA] defined." in r.out
    )
    rows = snapshots(pgb_env)
    assert [row[3] for row in rows] == ["app1", "app2"]
    for row in rows:
        assert row[4] == dt.datetime(2031, 2, 3, 4, 5, tzinfo=dt.UTC)
        assert row[5:11] == (
            "SCHEMA",
            "30 days",
            "-T Big",
            "Before-Upgrade",
            "15",
            "WAITING",
        )


def test_register_snapshot_defaults(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid = pgb_env.register_node(node1)
    r = shell.cmd(snap(nid, "#all_databases#", exc="app1", code=""))
    assert r.rc == 0, r.out
    rows = snapshots(pgb_env)
    assert "app1" not in [row[3] for row in rows] and "app2" in [row[3] for row in rows]
    now = pgb_env.su_query("SELECT now()")[0][0]
    for row in rows:
        assert dt.timedelta(seconds=0) < row[4] - now <= dt.timedelta(seconds=70)
        assert row[5] == "FULL" and row[6] == "7 days" and row[9] is None
        assert re.fullmatch(r"[0-9A-F]{9}", row[8])
    assert len({row[8] for row in rows}) == 1  # one tag for the whole command


def test_snapshot_errors_change_nothing(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    stopped = pgb_env.su_query(
        "SELECT register_pgsql_node('127', '0.0.1', 1, 'postgres', 'STOPPED', '')"
    )[0][0]
    for line, fragment in (
        (
            snap(nid, "app1", release="9.6"),
            "pg_dump/all release [9.6] is not supported",
        ),
        (snap(nid, "app1", release="abc"), "not supported"),
        (
            snap(nid, "app1", at="not a time"),
            "AT time [not a time] is not a valid timestamp",
        ),
        (snap(nid, "app1", code="CONFIG"), "Backup code"),
        (snap(nid, "app1", ret="forever"), "Retention period"),
        (snap(nid, "app1,nope"), "Database [nope] does not exist"),
        (snap(nid, "#databases_without_backups#"), "cannot be used here"),
        (snap(stopped, "app1"), "not RUNNING"),
        ("register_snapshot_definition 1 2 3", "Wrong number of parameters"),
    ):
        r = shell.cmd(line)
        assert r.rc == 1, line
        assert fragment in r.out, (line, r.out)
    assert snapshots(pgb_env) == []


def test_register_snapshot_interactive(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid = pgb_env.register_node(node1)
    child = shell.spawn()
    child.sendline("register_snapshot_definition")
    answer(child, f"# Backup server SrvID / FQDN [{SRV}]", "")
    answer(child, "# PgSQL node NodeID / FQDN []", str(nid))
    answer(child, "# DBname []", "app2")
    answer(child, "# DBname exceptions []", "")
    answer(child, "# AT timestamp [", "2032-01-01 00:00:00+00")
    answer(child, "# Backup code [FULL]", "DATA")
    answer(child, "# Retention period [7 days]", "")
    answer(child, "# Extra parameters []", "")
    answer(child, "# Tag [", "mytag")
    answer(child, "# pg_dump/all release [Same as pgSQL node running dbname]", "")
    answer(child, "# Backup compression [default]", "")
    answer(child, "# Encryption [false]", "")
    answer(child, "# Are all values correct (yes/no)", "yes")
    child.expect_exact(
        "[Done] Snapshot for dbname: [app2] and backup code [DATA] defined."
    )
    quit_shell(child)
    rows = snapshots(pgb_env)
    assert (
        len(rows) == 1
        and rows[0][3] == "app2"
        and rows[0][5] == "DATA"
        and rows[0][8] == "mytag"
    )


def test_show_snapshots(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid = pgb_env.register_node(node1)
    assert (
        shell.cmd(snap(nid, "app1,app2", at="2031-02-03 04:05:00+00", release="16")).rc
        == 0
    )
    r = shell.cmd("show_snapshot_definitions all all app2", fmt="json")
    data = r.json()["snapshot_definitions"]
    assert (
        len(data) == 1
        and data[0]["dbname"] == "app2"
        and isinstance(data[0]["snapshotid"], int)
    )
    assert data[0]["code"] == "FULL [16]" and data[0]["status"] == "WAITING"
    r = shell.cmd("show_snapshots_in_progress", fmt="json")
    assert sorted(d["dbname"] for d in r.json()["snapshots_in_progress"]) == [
        "app1",
        "app2",
    ]
    # Once a snapshot has a catalog row it is no longer in progress.
    snap_id = snapshots(pgb_env)[0][0]
    add_backup(pgb_env, nid, "app1", snapshot_id=snap_id)
    r = shell.cmd("show_snapshots_in_progress", fmt="json")
    assert [d["dbname"] for d in r.json()["snapshots_in_progress"]] == ["app2"]
    r = shell.cmd(f"show_snapshot_definitions {SRV} {nid} all")
    assert r.rc == 0 and "app1" in r.out and "app2" in r.out
