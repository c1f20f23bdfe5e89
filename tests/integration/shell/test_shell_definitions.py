"""Backup definition commands through the real shell, checked against the catalog rows."""

from __future__ import annotations

from typing import Any

import pytest
from shell_helpers import reg, add_backup, definitions
from support.pgbenv import PgbEnv
from support.shell import answer, quit_shell

SRV = "backup01.pgbackman.test"


def test_register_one_line_keeps_case_and_values(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    r = shell.cmd(
        reg(
            nid,
            "app1",
            mins="5",
            hours="3",
            dow="mon-fri",
            code="schema",
            ret="2 weeks",
            red="3",
            extra="-T Big_Table --no-comments",
            remarks="Testing Reg",
        )
    )
    assert r.rc == 0, r.out + r.err
    assert "[Done] Backup definition for dbname: [app1] registered." in r.out
    rows = definitions(pgb_env)
    assert len(rows) == 1
    (
        _,
        srv,
        node,
        db,
        m,
        h,
        dom,
        mon,
        dow,
        code,
        enc,
        ret,
        red,
        extra,
        status,
        remarks,
    ) = rows[0]
    assert (srv, node, db, m, h, dom, mon, dow) == (
        pgb_env.server_id,
        nid,
        "app1",
        "5",
        "3",
        "*",
        "*",
        "1-5",
    )
    assert (code, enc, ret, red, status) == ("SCHEMA", False, "14 days", 3, "ACTIVE")
    # Upstream lower-cased these (turning -T into -t): kept exactly as typed.
    assert extra == "-T Big_Table --no-comments"
    assert remarks == "Testing Reg"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"mins": "61"}, "Minutes cron"),
        ({"hours": "24"}, "Hours cron"),
        ({"dom": "0"}, "Day-month cron"),
        ({"mon": "13"}, "Month cron"),
        ({"dow": "8"}, "Weekday cron"),
        ({"mins": "5/10"}, "Minutes cron"),
        ({"code": "CONFIG"}, "Backup code"),
        ({"status": "RUNNING"}, "Job status"),
        ({"ret": "7 fortnights"}, "Retention period"),
        ({"red": "0"}, "Retention redundancy"),
        ({"enc": "maybe"}, "Encryption"),
        (
            {"db": "nosuchdb"},
            "Database [nosuchdb] does not exist in the PgSQL node [127.0.0.1]",
        ),
        ({"db": "app1,nosuchdb"}, "Database [nosuchdb] does not exist"),
        ({"db": ""}, "DBname is required"),
        ({"extra": "-T x\n* * * * * root touch /tmp/P"}, "control characters"),
        ({"remarks": "a\rb"}, "control characters"),
        ({"db": "app1\nx"}, "control characters"),
    ],
)
def test_bad_values_leave_catalog_unchanged(
    pgb_env: PgbEnv, node1: Any, shell: Any, kwargs: dict[str, str], fragment: str
) -> None:
    nid = pgb_env.register_node(node1)
    db = kwargs.pop("db", "app1")
    r = shell.cmd(reg(nid, db, **kwargs))
    assert r.rc == 1
    lines = [ln for ln in r.out.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("[ERROR]: "), r.out
    assert fragment in lines[0]
    assert definitions(pgb_env) == []


def test_wrong_argument_counts(pgb_env: PgbEnv, shell: Any) -> None:
    for line in (
        "register_backup_definition",
        "register_backup_definition 1 2 3",
        "show_backup_definitions all all",
        "delete_backup_definition_id 1 2 3",
        "update_backup_definition 1",
        "move_backup_definition 1 2",
    ):
        r = shell.cmd(line)
        assert r.rc == 1, line
        assert "[ERROR] - Wrong number of parameters used." in r.out, line
    assert definitions(pgb_env) == []


def test_all_databases_with_exceptions_spreads_schedule(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    if not node1.query("SELECT 1 FROM pg_database WHERE datname = 'Mixed Case db'"):
        node1.psql('CREATE DATABASE "Mixed Case db"')
    pgb_env.su(
        f"UPDATE pgsql_node_config SET value = '10-12' WHERE node_id = {nid}"
        " AND parameter = 'backup_minutes_interval';"
        f"UPDATE pgsql_node_config SET value = '02-03' WHERE node_id = {nid}"
        " AND parameter = 'backup_hours_interval';"
    )
    r = shell.cmd(reg(nid, "#all_databases#", exc="app2", mins="41", hours="01"))
    assert r.rc == 0, r.out + r.err
    rows = definitions(pgb_env)
    dbs = sorted(row[3] for row in rows)
    assert "app2" not in dbs and "postgres" not in dbs and "template1" not in dbs
    assert {"app1", "Mixed Case db"} <= set(dbs)
    for row in rows:
        assert (
            10 <= int(row[4]) <= 12 and 2 <= int(row[5]) <= 3
        )  # node intervals, not 41/01
    # The second spelling selects databases without definitions: none left now except app2.
    r = shell.cmd(reg(nid, "#databases_without_backups#"))
    assert r.rc == 0, r.out
    assert "[app2] registered" in r.out
    r = shell.cmd(reg(nid, "#databases_without_backup_definitions#"))
    assert r.rc == 1 and "No databases left" in r.out


def test_cluster_definition(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid = pgb_env.register_node(node1)
    r = shell.cmd(reg(nid, "", code="CLUSTER"))
    assert r.rc == 0, r.out
    assert [(row[3], row[9]) for row in definitions(pgb_env)] == [("", "CLUSTER")]


def test_register_interactive_uses_node_defaults(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    pgb_env.su(
        f"UPDATE pgsql_node_config SET value = '3 days' WHERE node_id = {nid}"
        " AND parameter = 'retention_period'"
    )
    child = shell.spawn()
    child.sendline("register_backup_definition")
    answer(child, f"# Backup server SrvID / FQDN [{SRV}]", "")
    answer(child, "# PgSQL node NodeID / FQDN []", str(nid))
    answer(child, "# DBname []", "app2")
    answer(child, "# DBname exceptions []", "")
    answer(child, "# Minutes cron [", "15")
    answer(child, "# Hours cron [", "")
    answer(child, "# Day-month cron [*]", "")
    answer(child, "# Month cron [*]", "")
    answer(child, "# Weekday cron [*]", "0")
    answer(child, "# Backup code [FULL]", "")
    answer(child, "# Encryption [false]", "")
    answer(child, "# Retention period [3 days]", "")
    answer(child, "# Retention redundancy [1]", "2")
    answer(child, "# Extra parameters []", "")
    answer(child, "# Job status [ACTIVE]", "")
    answer(child, "# Remarks []", "Testing reg.")
    answer(child, "# Backup compression [default]", "")
    answer(child, "# Are all values correct (yes/no)", "yes")
    child.expect_exact("[Done] Backup definition for dbname: [app2] registered.")
    quit_shell(child)
    rows = definitions(pgb_env)
    assert len(rows) == 1
    row = rows[0]
    assert row[3:5] == ("app2", "15") and 1 <= int(row[5]) <= 6
    assert (
        row[8] == "0"
        and row[11] == "3 days"
        and row[12] == 2
        and row[15] == "Testing reg."
    )


def test_show_backup_definitions_filters_and_json(
    pgb_env: PgbEnv, node1: Any, node2: Any, shell: Any
) -> None:
    n1 = pgb_env.register_node(node1)
    n2 = pgb_env.register_node(node2)
    assert shell.cmd(reg(n1, "app1,app2")).rc == 0
    assert shell.cmd(reg(n2, "app3")).rc == 0
    r = shell.cmd("show_backup_definitions all all all", fmt="json")
    assert r.rc == 0
    data = r.json()["backup_definitions"]
    assert len(data) == 3
    assert all(
        isinstance(d["defid"], int) and d["backup_server_id"] == pgb_env.server_id
        for d in data
    )
    r = shell.cmd(f"show_backup_definitions '' {n2} all", fmt="json")
    assert [d["dbname"] for d in r.json()["backup_definitions"]] == ["app3"]
    r = shell.cmd(f"show_backup_definitions {SRV} {n1},{n2} app2,app3", fmt="json")
    assert sorted(d["dbname"] for d in r.json()["backup_definitions"]) == [
        "app2",
        "app3",
    ]
    # A hostile filter value is just a name that matches nothing.
    r = shell.cmd("show_backup_definitions all all \"x' OR '1'='1\"", fmt="json")
    assert r.rc == 0 and r.json() == {"backup_definitions": []}
    r = shell.cmd("show_backup_definitions all '1) OR (TRUE' all")
    assert r.rc == 1 and r.out.startswith("[ERROR]")
    r = shell.cmd("show_backup_definitions all all all", fmt="csv")
    assert r.out.splitlines()[0].startswith(
        "defid,backup_server_id,backup_server,pgsql_node_id"
    )
    r = shell.cmd("show_backup_definitions all all app1")
    assert (
        "# DBname: app1" in r.out
        and "| app1" in r.out
        and "app2" not in r.out.split("---\n")[-1]
    )


def test_delete_by_id_manual_examples(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid = pgb_env.register_node(node1)
    assert shell.cmd(reg(nid, "app1,app2")).rc == 0
    d1, d2 = (row[0] for row in definitions(pgb_env))
    add_backup(pgb_env, nid, "app1", def_id=d1)
    # FK case: backups in the catalog and no force -> clear error, nothing deleted.
    child = shell.spawn()
    child.sendline("delete_backup_definition_id")
    answer(child, "# DefID", str(d1))
    answer(child, "# Force deletion (y/n)", "n")
    answer(
        child,
        "# Are you sure you want to delete this backup definition? (yes/no)",
        "yes",
    )
    child.expect_exact("[ERROR]: Could not delete this backup job definition")
    child.expect_exact("force-deletion")
    quit_shell(child)
    assert len(definitions(pgb_env)) == 2
    r = shell.cmd(f"delete_backup_definition_id {d1} force")
    assert r.rc == 1 and "[ERROR]: [force] is not a valid parameter" in r.out
    r = shell.cmd(f"delete_backup_definition_id {d1} force-deletion")
    assert (
        r.rc == 0
        and f"[Done] Backup definition for DefID: {d1} deleted with force." in r.out
    )
    assert pgb_env.su_query("SELECT count(*) FROM backup_catalog")[0][0] == 0
    assert pgb_env.su_query("SELECT count(*) FROM catalog_entries_to_delete")[0][0] == 1
    r = shell.cmd(f"delete_backup_definition_id {d2}")
    assert r.rc == 0 and f"[Done] Backup definition for DefID: {d2} deleted." in r.out
    assert definitions(pgb_env) == []
    r = shell.cmd("delete_backup_definition_id 999")
    assert r.rc == 1 and "does not exist" in r.out


def test_delete_by_dbname_manual_examples(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    assert shell.cmd(reg(nid, "app1")).rc == 0
    assert shell.cmd(reg(nid, "app1", mins="7", code="SCHEMA")).rc == 0
    def_id = definitions(pgb_env)[0][0]
    add_backup(pgb_env, nid, "app1", def_id=def_id)
    r = shell.cmd(f"delete_backup_definition_dbname {nid} app1 yes")
    assert r.rc == 1 and "[ERROR]: [yes] is not a valid parameter" in r.out
    r = shell.cmd(f"delete_backup_definition_dbname {nid} app1")
    assert r.rc == 1 and "Could not delete this backup job definition" in r.out
    assert len(definitions(pgb_env)) == 2
    child = shell.spawn()
    child.sendline("delete_backup_definition_dbname")
    answer(child, "# NodeID / FQDN", str(nid))
    answer(child, "# DBname", "app1")
    answer(child, "# Force deletion (y/n)", "y")
    answer(
        child,
        "# Are you sure you want to delete this backup definition? (yes/no)",
        "yes",
    )
    child.expect_exact("[Done] Backup definition for DBname: app1 deleted with force.")
    quit_shell(child)
    assert definitions(pgb_env) == []


def test_update_backup_definition_no_swap(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    assert shell.cmd(reg(nid, "app1", dom="*", dow="*")).rc == 0
    def_id = definitions(pgb_env)[0][0]
    r = shell.cmd(
        f"update_backup_definition {def_id} 30 02 15 '*' 6 '14 days' 2 '-N Keep' STOPPED 'Upd'"
    )
    assert r.rc == 0, r.out
    row = definitions(pgb_env)[0]
    assert row[4:9] == (
        "30",
        "02",
        "15",
        "*",
        "6",
    )  # day-of-month 15, weekday 6: not swapped
    assert (row[11], row[12], row[13], row[14], row[15]) == (
        "14 days",
        2,
        "-N Keep",
        "STOPPED",
        "Upd",
    )
    # Empty values keep the current ones; bad values change nothing.
    assert (
        shell.cmd(
            f"update_backup_definition {def_id} '' '' '' '' '' '' '' '' ACTIVE ''"
        ).rc
        == 0
    )
    assert definitions(pgb_env)[0][4:9] == ("30", "02", "15", "*", "6")
    assert definitions(pgb_env)[0][14] == "ACTIVE"
    r = shell.cmd(f"update_backup_definition {def_id} '' '' 32 '' '' '' '' '' '' ''")
    assert r.rc == 1 and "Day-month cron" in r.out
    # Interactive: prompts show the current values.
    child = shell.spawn()
    child.sendline("update_backup_definition")
    answer(child, "# DefID []", str(def_id))
    answer(child, "# Minutes cron [30]", "")
    answer(child, "# Hours cron [02]", "")
    answer(child, "# Day-month cron [15]", "")
    answer(child, "# Month cron [*]", "")
    answer(child, "# Weekday cron [6]", "")
    answer(child, "# Retention period [14 days]", "")
    answer(child, "# Retention redundancy [2]", "")
    answer(child, "# Extra parameters [-N Keep]", "")
    answer(child, "# Job status [ACTIVE]", "STOPPED")
    answer(child, "# Remarks [Upd]", "")
    answer(child, "# Backup compression [default]", "")
    answer(child, "# Encryption [false]", "")
    answer(child, "# Are all values to update correct (yes/no)", "yes")
    child.expect_exact(f"[Done] Backup definition DefID: {def_id} updated.")
    quit_shell(child)
    assert definitions(pgb_env)[0][14] == "STOPPED"


def test_move_backup_definition(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid = pgb_env.register_node(node1)
    srv2 = int(
        pgb_env.su_query(
            "SELECT register_backup_server('backup02', 'pgbackman.test', 'RUNNING', '')"
        )[0][0]
    )
    assert shell.cmd(reg(nid, "app1,app2")).rc == 0
    r = shell.cmd(f"move_backup_definition '' backup02.pgbackman.test {nid} app2 all")
    assert r.rc == 0, r.out
    by_db = {row[3]: row[1] for row in definitions(pgb_env)}
    assert by_db == {"app1": pgb_env.server_id, "app2": srv2}
    r = shell.cmd(f"move_backup_definition {srv2} {srv2} all all all")
    assert r.rc == 1 and "the same" in r.out
    r = shell.cmd(
        f"move_backup_definition {pgb_env.server_id} {srv2} all \"app1' OR '1'='1\" all"
    )
    assert (
        r.rc == 0
        and {row[3]: row[1] for row in definitions(pgb_env)}["app1"]
        == pgb_env.server_id
    )


def test_multi_database_registration_is_all_or_nothing(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    pgb_env.su(
        f"UPDATE pgsql_node_config SET value = '05-05' WHERE node_id = {nid}"
        " AND parameter = 'backup_minutes_interval';"
        f"UPDATE pgsql_node_config SET value = '01-01' WHERE node_id = {nid}"
        " AND parameter = 'backup_hours_interval';"
    )
    assert shell.cmd(reg(nid, "app2", mins="05", hours="01")).rc == 0
    # app1 and app2 both get 05 01: app2 duplicates the existing definition -> nothing at all.
    r = shell.cmd(reg(nid, "app1,app2"))
    assert r.rc == 1 and "already exists" in r.out
    assert [row[3] for row in definitions(pgb_env)] == ["app2"]


def test_hostile_database_name(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    from pathlib import Path

    from psycopg2 import sql

    marker = Path("/tmp/pgbP")  # short: the name must fit in 63 bytes
    marker.unlink(missing_ok=True)
    name = f"we'ird db; $(touch {marker}) host=evil %x\\z"
    conn = node1.connect("postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if not cur.fetchone():
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()
    nid = pgb_env.register_node(node1)
    r = shell.script(
        [
            f"register_backup_definition '' {nid} \"{name}\" '' 1 2 '*' '*' '*' FULL false '' '' '' '' ''"
        ]
    )
    assert r.rc == 0, r.out + r.err
    assert [row[3] for row in definitions(pgb_env)] == [name]
    r = shell.cmd(f'show_backup_definitions all all "{name}"', fmt="json")
    assert [d["dbname"] for d in r.json()["backup_definitions"]] == [name]
    assert not marker.exists()


def test_interactive_show_commands(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid = pgb_env.register_node(node1)
    srv2 = int(
        pgb_env.su_query(
            "SELECT register_backup_server('backup02', 'pgbackman.test', 'RUNNING', '')"
        )[0][0]
    )
    assert shell.cmd(reg(nid, "app1,app2")).rc == 0
    d1 = definitions(pgb_env)[0][0]
    child = shell.spawn()
    child.sendline("show_backup_definitions")
    answer(child, f"# SrvID / FQDN [{SRV}]", "")
    answer(child, "# NodeID / FQDN [all]", "")
    answer(child, "# DBname [all]", "app2")
    child.expect_exact("| app2")
    child.expect_exact("[pgbackman]$ ")
    child.sendline("move_backup_definition")
    answer(child, f"# From backup server SrvID / FQDN [{SRV}]", "")
    answer(child, f"# To Backup server SrvID / FQDN [{SRV}]", str(srv2))
    answer(child, "# PgSQL node NodeID / FQDN [all]", "")
    answer(child, "# DBname [all]", "")
    answer(child, "# DefID [all]", str(d1))
    answer(child, "# Are all values correct (yes/no)", "yes")
    child.expect_exact("1 backup definition(s) moved")
    child.expect_exact("[pgbackman]$ ")
    child.sendline("show_databases_without_backup_definitions")
    answer(child, "# NodeID / FQDN [all]", str(nid))
    child.expect_exact("DBname")
    quit_shell(child)
    assert {row[3]: row[1] for row in definitions(pgb_env)} == {
        "app1": srv2,
        "app2": pgb_env.server_id,
    }


def test_script_mode(pgb_env: PgbEnv, node1: Any, shell: Any) -> None:
    nid = pgb_env.register_node(node1)
    r = shell.script(
        [
            reg(nid, "app1"),
            "register_backup_definition",  # no prompts from a script: an error, the rest runs
            "show_backup_definitions all all all",
        ]
    )
    assert r.rc == 1
    assert "[Done] Backup definition for dbname: [app1] registered." in r.out
    assert "Wrong number of parameters" in r.out and "| app1" in r.out
