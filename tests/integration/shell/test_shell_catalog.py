"""Backup catalog commands through the real shell (catalog rows inserted as superuser)."""

from __future__ import annotations

from typing import Any

from shell_helpers import reg, add_backup, definitions
from support.pgbenv import PgbEnv
from support.shell import answer, quit_shell

SRV = "backup01.pgbackman.test"


def _setup(pgb_env: PgbEnv, node1: Any, shell: Any) -> tuple[int, int, int, list[int]]:
    nid = pgb_env.register_node(node1)
    assert shell.cmd(reg(nid, "app1,app2")).rc == 0
    d1, d2 = (row[0] for row in definitions(pgb_env))
    bcks = [
        add_backup(pgb_env, nid, "app1", def_id=d1, finished="2026-01-01 00:00:00+00"),
        add_backup(
            pgb_env,
            nid,
            "app1",
            def_id=d1,
            status="ERROR",
            finished="2026-01-02 00:00:00+00",
        ),
        add_backup(pgb_env, nid, "app2", def_id=d2, finished="2026-01-03 00:00:00+00"),
    ]
    return nid, d1, d2, bcks


def test_show_backup_catalog_filters(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid, d1, d2, bcks = _setup(pgb_env, node1, shell)
    r = shell.cmd("show_backup_catalog all all all all all", fmt="json")
    data = r.json()["backup_catalog"]
    assert [d["bckid"] for d in data] == list(reversed(bcks))  # newest first
    assert data[0]["defid"] == d2 and data[0]["snapshotid"] is None
    assert data[0]["code"] == "FULL" and data[0]["execution"] == "CRON"
    r = shell.cmd(f"show_backup_catalog '' {nid} app1 {d1} error", fmt="json")
    assert [d["bckid"] for d in r.json()["backup_catalog"]] == [bcks[1]]
    r = shell.cmd(f"show_backup_catalog {SRV} all all {d1},{d2} SUCCEEDED", fmt="json")
    assert [d["bckid"] for d in r.json()["backup_catalog"]] == [bcks[2], bcks[0]]
    r = shell.cmd("show_backup_catalog all all \"x' OR '1'='1\" all all", fmt="json")
    assert r.rc == 0 and r.json()["backup_catalog"] == []
    for bad, msg in (
        ("all all all '1 OR 1=1' all", "DefID must be a number"),
        ("all all all all BROKEN", "Status [BROKEN] is not valid"),
    ):
        r = shell.cmd("show_backup_catalog " + bad)
        assert r.rc == 1 and msg in r.out
    r = shell.cmd("show_backup_catalog all all all all all", fmt="csv")
    assert r.out.splitlines()[0] == (
        "bckid,defid,snapshotid,finished,backup_server_id,backup_server,pgsql_node_id,"
        "pgsql_node,dbname,duration,size,code,execution,status,offsite,integrity"
    )
    r = shell.cmd("show_backup_catalog all all all all all")
    assert "# Status: all" in r.out and "SUCCEEDED" in r.out and "00:01:05" in r.out


def test_show_backup_catalog_interactive(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    _nid, _d1, _, _bcks = _setup(pgb_env, node1, shell)
    child = shell.spawn()
    child.sendline("show_backup_catalog")
    answer(child, f"# SrvID / FQDN [{SRV}]", "")
    answer(child, "# NodeID / FQDN [all]", "")
    answer(child, "# DBname [all]", "app2")
    answer(child, "# DefID [all]", "")
    answer(child, "# Status [all]", "")
    child.expect_exact("BckID")
    child.expect_exact("app2")
    quit_shell(child)


def test_show_backup_details(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    _nid, d1, _, bcks = _setup(pgb_env, node1, shell)
    r = shell.cmd(f"show_backup_details {bcks[0]}", fmt="json")
    (d,) = r.json()["backup_details"]
    assert d["bckid"] == bcks[0] and d["defid"] == d1 and d["dbname"] == "app1"
    assert d["execution_status"] == "SUCCEEDED" and d["procpid"] == 4242
    assert d["schedule"].endswith("[min hour day_month month weekday]")
    assert d["retention"] == "7 days (1)" and d["backup_code"] == "FULL"
    assert d["db_dump_file"] == "/srv/dump/app1.dump (121 kB)"
    assert d["on_disk_until"].startswith("2026-01-08T00:00:00")
    assert d["role_list"] == "postgres"
    r = shell.cmd(f"show_backup_details {bcks[0]}")
    assert "BckID:" in r.out and "On disk until:" in r.out and "Role list:" in r.out
    for bad, msg in (("x", "BckID must be a number"), ("999999", "does not exist")):
        r = shell.cmd(f"show_backup_details {bad}")
        assert r.rc == 1 and msg in r.out


def test_show_empty_backup_catalogs(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid = pgb_env.register_node(node1)
    assert shell.cmd(reg(nid, "app1,app2")).rc == 0
    d1, d2 = (row[0] for row in definitions(pgb_env))
    add_backup(pgb_env, nid, "app1", def_id=d1)
    r = shell.cmd("show_empty_backup_catalogs", fmt="json")
    assert [d["defid"] for d in r.json()["empty_backup_catalogs"]] == [d2]
    assert shell.cmd("show_empty_backup_catalogs x").rc == 1


def test_show_databases_without_backup_definitions(
    pgb_env: PgbEnv, node1: Any, node2: Any, shell: Any
) -> None:
    n1 = pgb_env.register_node(node1)
    n2 = pgb_env.register_node(node2)
    # A RUNNING node nobody listens on: reported, not silently skipped.
    dead = pgb_env.su_query(
        "SELECT register_pgsql_node('127', '0.0.1', 1, 'postgres', 'RUNNING', '')"
    )[0][0]
    assert shell.cmd(reg(n1, "app1")).rc == 0
    r = shell.cmd("show_databases_without_backup_definitions all", fmt="json")
    assert r.rc == 0, r.out + r.err
    rows = r.json()["databases_without_backup_definitions"]
    got = {(d["nodeid"], d["dbname"]) for d in rows}
    assert (n1, "app2") in got and (n2, "app3") in got and (n1, "app1") not in got
    assert not any(d["dbname"] in ("postgres", "template1", "template0") for d in rows)
    assert f"[WARNING]: PgSQL node [{dead}]" in r.err
    r = shell.cmd(f"show_databases_without_backup_definitions {n2}")
    assert "app3" in r.out and "app2" not in r.out and "WARNING" not in r.out
    r = shell.cmd("show_databases_without_backup_definitions '*'")
    assert f"[WARNING]: PgSQL node [{dead}]" in r.out
