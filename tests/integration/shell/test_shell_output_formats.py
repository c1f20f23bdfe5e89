"""QA: every show_* command prints parseable CSV and real JSON, also for empty results."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from support.pgbenv import PgbEnv
from support.shell import Shell

SHOW_COMMANDS = [
    "show_backup_servers",
    "show_pgsql_nodes",
    "show_backup_definitions all all all",
    "show_snapshot_definitions all all all",
    "show_restore_definitions all all all",
    "show_backup_catalog all all all all all",
    "show_restore_catalog all all all",
    "show_empty_backup_catalogs",
    "show_jobs_queue",
    "show_pgbackman_config",
    "show_pgbackman_stats",
    "show_backup_server_stats {srv}",
    "show_pgsql_node_stats {node}",
    "show_backup_server_config {srv}",
    "show_pgsql_node_config {node}",
    "show_databases_without_backup_definitions all",
    "show_snapshots_in_progress",
    "show_restores_in_progress",
    "show_alerts all all",
    "show_backup_status all",
]


@pytest.mark.parametrize("template", SHOW_COMMANDS)
def test_show_commands_csv_and_json_parse(
    pgb_env: PgbEnv, node1: Any, template: str
) -> None:
    node_id = pgb_env.register_node(node1)
    command = template.format(srv=pgb_env.server_id, node=node_id)
    res = Shell(pgb_env).cmd(command, fmt="json")
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    (rows,) = doc.values()
    assert isinstance(rows, list)
    for row in rows:
        for key in (
            "srvid",
            "nodeid",
            "defid",
            "pgport",
            "backup_server_id",
            "pgsql_node_id",
        ):
            if key in row and row[key] is not None:
                assert isinstance(row[key], int), (key, row)

    res = Shell(pgb_env).cmd(command, fmt="csv")
    assert res.returncode == 0, res.stdout + res.stderr
    parsed = list(csv.reader(io.StringIO(res.stdout)))
    assert parsed, "CSV output must at least have a header"
    assert len(parsed) == len(rows) + 1
    assert all(len(r) == len(parsed[0]) for r in parsed)


def test_unbalanced_quote_is_a_clean_error(pgb_env: PgbEnv) -> None:
    res = Shell(pgb_env).cmd('show_backup_definitions all all "app1')
    assert res.returncode == 1
    assert "[ERROR]" in res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
