"""The shell's listings are the catalog's show_* views (docs/upstream-differences.rst D36).

What ``pgbackman -o json -C "show_..."`` prints must be exactly what pgbackman_role_ro reads
from the view of the same name, filters included: one definition serves both.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from support.pgbenv import PgbEnv
from pgbackman.shell.render import json_value, normalise_key


def _shell_json(pgb_env: PgbEnv, command: str) -> list[dict[str, Any]]:
    res = subprocess.run(
        ["pgbackman", "-o", "json", "-C", command],
        env=pgb_env.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    (rows,) = json.loads(res.stdout).values()
    assert isinstance(rows, list)
    return rows


def _as_ro(pgb_env: PgbEnv, query: str, params: Any = None) -> list[dict[str, Any]]:
    conn = pgb_env.catalog_cluster.connect(pgb_env.dbname, user="pgbackman_role_ro")
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            names = [d.name for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        conn.close()


def _same(shell_rows: list[dict[str, Any]], view_rows: list[dict[str, Any]]) -> None:
    """Every column the shell printed holds the view's value, as the shell writes JSON."""
    assert len(shell_rows) == len(view_rows)
    for printed, row in zip(shell_rows, view_rows, strict=True):
        for key, value in printed.items():
            # The printed column, not the raw lower-case one that may share its JSON key.
            (column,) = [c for c in row if normalise_key(c) == key and not c.islower()]
            assert value == json_value(row[column]), (key, printed, row)


@pytest.fixture
def two_nodes(pgb_env: PgbEnv, node1: Any, node2: Any) -> tuple[int, int]:
    n1, n2 = pgb_env.register_node(node1), pgb_env.register_node(node2)
    for node, db in ((n1, "app1"), (n1, "app2"), (n2, "app1")):
        pgb_env.su_query(
            "SELECT register_backup_definition(%s, %s, %s, '5', '1', '*', '*', '*',"
            " 'FULL', false, '7 days', 1, '', 'ACTIVE', '')",
            (pgb_env.server_id, node, db),
        )
    return n1, n2


def test_show_backup_servers_is_its_view(pgb_env: PgbEnv) -> None:
    _same(
        _shell_json(pgb_env, "show_backup_servers"),
        _as_ro(pgb_env, 'SELECT * FROM show_backup_servers ORDER BY "SrvID"'),
    )


def test_show_backup_definitions_filters_are_where_clauses(
    pgb_env: PgbEnv, two_nodes: tuple[int, int]
) -> None:
    n1, _n2 = two_nodes
    printed = _shell_json(
        pgb_env, f"show_backup_definitions {pgb_env.server_id} {n1} all"
    )
    assert [r["dbname"] for r in printed] == ["app1", "app2"]
    _same(
        printed,
        _as_ro(
            pgb_env,
            "SELECT * FROM show_backup_definitions WHERE pgsql_node_id = %s"
            " ORDER BY dbname",
            (n1,),
        ),
    )
    everything = _shell_json(pgb_env, "show_backup_definitions all all app1")
    assert {r["pgsql_node_id"] for r in everything} == set(two_nodes)


def test_show_jobs_queue_and_configs_are_their_views(
    pgb_env: PgbEnv, two_nodes: tuple[int, int]
) -> None:
    n1, _ = two_nodes
    _same(
        _shell_json(pgb_env, "show_jobs_queue"),
        _as_ro(pgb_env, 'SELECT * FROM show_jobs_queue ORDER BY "Registered", "JobID"'),
    )
    _same(
        _shell_json(pgb_env, f"show_pgsql_node_config {n1}"),
        _as_ro(
            pgb_env,
            'SELECT * FROM show_pgsql_node_config WHERE node_id = %s ORDER BY "Parameter"',
            (n1,),
        ),
    )
