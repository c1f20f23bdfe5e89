"""QA: the shell against the 1.0 manual (real shell, real catalog, real PgSQL nodes)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from support.pgbenv import PgbEnv
from support.shell import Shell


def _definitions(pgb_env: PgbEnv) -> list[dict[str, Any]]:
    res = Shell(pgb_env).cmd("show_backup_definitions all all all", fmt="json")
    assert res.returncode == 0, res.stderr
    rows: list[dict[str, Any]] = json.loads(res.stdout)["backup_definitions"]
    return rows


def test_register_backup_definition_accepts_the_1_0_manual_example(
    pgb_env: PgbEnv, node1: Any
) -> None:
    """The 1.0 manual's 15-argument form (no [DBname exceptions]) must work as shown."""
    node_id = pgb_env.register_node(node1)
    res = Shell(pgb_env).cmd(
        f"register_backup_definition {pgb_env.server_id} {node_id} app1 41 01 * * * "
        'schema false "7 days" 1 "" active "Testing reg"',
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "[Done] Backup definition for dbname: [app1] registered." in res.stdout
    (row,) = _definitions(pgb_env)
    assert row["dbname"] == "app1"
    assert row["schedule"] == "41 01 * * *"
    assert row["code"] == "SCHEMA"
    assert row["retention"] == "7 days (1)"
    assert row["status"] == "ACTIVE"
    remarks = pgb_env.su_query("SELECT remarks FROM backup_definition")
    assert remarks == [("Testing reg",)]


def test_register_backup_definition_16_argument_form_still_works(
    pgb_env: PgbEnv, node1: Any
) -> None:
    node_id = pgb_env.register_node(node1)
    res = Shell(pgb_env).cmd(
        f'register_backup_definition "" {node_id} "#all_databases#" app2 41 01 * * * '
        'full false "7 days" 1 "" active ""',
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert [r["dbname"] for r in _definitions(pgb_env)] == ["app1"]


def test_wrong_argument_count_is_still_an_error(pgb_env: PgbEnv, node1: Any) -> None:
    node_id = pgb_env.register_node(node1)
    res = Shell(pgb_env).cmd(f"register_backup_definition 1 {node_id} app1 41 01 * * *")
    assert res.returncode == 1
    assert "[ERROR] - Wrong number of parameters used." in res.stdout
    assert _definitions(pgb_env) == []


def test_fqdn_lookups_are_case_insensitive(pgb_env: PgbEnv, node1: Any) -> None:
    """Host names are case-insensitive: BACKUP01.PgBackMan.Test is the registered server."""
    pgb_env.register_node(node1)
    node_id = int(
        pgb_env.su_query(
            "SELECT register_pgsql_node(%s, %s, %s, %s, %s, %s)",
            ("pg-node01", "example.org", node1.port, "postgres", "STOPPED", "r"),
        )[0][0]
    )
    res = Shell(pgb_env).cmd(
        "show_backup_server_stats BACKUP01.PgBackMan.Test", fmt="json"
    )
    assert res.returncode == 0, res.stdout + res.stderr
    stats = json.loads(res.stdout)["backup_server_stats"][0]
    assert stats["backup_server"] == f"[{pgb_env.server_id}] backup01.pgbackman.test"

    res = Shell(pgb_env).cmd("show_pgsql_node_stats PG-Node01.Example.ORG", fmt="json")
    assert res.returncode == 0, res.stdout + res.stderr
    stats = json.loads(res.stdout)["pgsql_node_stats"][0]
    assert stats["pgsql_node"] == f"[{node_id}] pg-node01.example.org"

    res = Shell(pgb_env).cmd(
        f"show_pgsql_node_stats PG-NODE01.example.org:{node1.port}"
    )
    assert res.returncode == 0, res.stdout + res.stderr

    res = Shell(pgb_env).cmd(
        "show_backup_definitions Backup01.pgbackman.test PG-NODE01.EXAMPLE.ORG all",
    )
    assert res.returncode == 0, res.stdout + res.stderr

    res = Shell(pgb_env).cmd("show_pgsql_node_stats other.example.org")
    assert res.returncode == 1
    assert "[ERROR]: PgSQL node [other.example.org] does not exist" in res.stdout


def test_snapshot_definition_accepts_the_1_0_and_1_1_argument_lists(
    pgb_env: PgbEnv, node1: Any
) -> None:
    """Scripts written for 1.0 (8 arguments) and 1.1 (9, + release) keep working."""
    node = pgb_env.register_node(node1)
    for line in (
        f"register_snapshot_definition '' {node} app1 '2030-01-01 03:00' FULL '2 days' '' tag10",
        f"register_snapshot_definition '' {node} app2 '2030-01-01 04:00' SCHEMA '3 days' '' tag11 ''",
    ):
        res = subprocess.run(
            ["pgbackman", "-C", line],
            env=pgb_env.shell_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 0, res.stdout + res.stderr
    rows = pgb_env.su_query(
        "SELECT dbname, backup_code, retention_period::text, remarks, pg_dump_release"
        " FROM snapshot_definition ORDER BY dbname"
    )
    assert rows == [
        ("app1", "FULL", "2 days", "tag10", None),
        ("app2", "SCHEMA", "3 days", "tag11", None),
    ]
    res = subprocess.run(
        ["pgbackman", "-C", f"register_snapshot_definition '' {node} app1 x y z"],
        env=pgb_env.shell_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        res.returncode == 1 and "Wrong number of parameters" in res.stdout + res.stderr
    )
