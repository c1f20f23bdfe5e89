"""Small input faults get one clear line and change nothing: bytes that are not UTF-8, numbers
larger than the catalog can hold, and databases whose names hold a newline on the node
(``#all_databases#`` skips them with a warning instead of failing the whole node)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg2 import sql
from support.pgbenv import PgbEnv
from support.shell import Shell

NEWLINE_DB = "two\nlines"


def _count(pgb_env: PgbEnv, table: str) -> int:
    return int(pgb_env.su_query(f"SELECT count(*) FROM {table}")[0][0])


def test_non_utf8_bytes_are_refused_in_one_line(shell: Shell, pgb_env: PgbEnv) -> None:
    res = subprocess.run(
        [b"pgbackman", b"-C", b"show_backup_definitions all all app\xff"],
        env=pgb_env.env,
        capture_output=True,
        check=False,
    )
    assert res.returncode == 1
    assert res.stdout.decode().splitlines() == [
        "[ERROR]: The command line is not valid UTF-8 (byte 0xFF); nothing was done"
    ]
    assert b"Traceback" not in res.stderr and b"Unexpected" not in res.stdout
    # In a script, the bad line fails alone and the next line still runs.
    res = subprocess.run(
        ["pgbackman"],
        input=b"show_backup_definitions all all \xfe\xff\nshow_backup_servers\n",
        env=dict(pgb_env.env, LC_ALL="C.UTF-8"),
        capture_output=True,
        check=False,
    )
    out = res.stdout.decode()
    assert res.returncode == 1 and "not valid UTF-8 (byte 0xFE)" in out
    assert "backup01.pgbackman.test" in out


@pytest.mark.parametrize(
    "line",
    [
        "register_backup_definition '' {node} app1 '' 10 01 '*' '*' '*' FULL false '7 days'"
        " 99999999999999 '' ACTIVE ''",
        "delete_backup_definition_id 99999999999999999999",
        "show_backup_definitions 99999999999 all all",
        "update_pgsql_node_config {node} '' '' '' '' '' '' '' 99999999999999 '' '' '' '' ''"
        " '' '' '' '' '' ''",
    ],
)
def test_huge_numbers_are_one_line_errors(
    shell: Shell, pgb_env: PgbEnv, node1: Any, line: str
) -> None:
    node = pgb_env.register_node(node1)
    res = shell.cmd(line.format(node=node))
    assert res.rc == 1
    [msg] = res.out.splitlines()
    assert msg.startswith("[ERROR]: ")
    assert "function" not in msg and "Unexpected" not in msg
    assert _count(pgb_env, "backup_definition") == 0


@pytest.fixture
def newline_db(node1: Any) -> Iterator[str]:
    conn = node1.connect("postgres")
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(NEWLINE_DB)))
    conn.close()
    yield NEWLINE_DB
    conn = node1.connect("postgres")
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(NEWLINE_DB))
        )
    conn.close()


def test_all_databases_skips_a_newline_name_and_registers_the_rest(
    shell: Shell, pgb_env: PgbEnv, node1: Any, newline_db: str
) -> None:
    node = pgb_env.register_node(node1)
    res = shell.cmd(f"show_databases_without_backup_definitions {node}")
    assert res.rc == 0, res.out
    rows = [ln for ln in res.out.splitlines() if "two" in ln]
    assert len(rows) == 1 and "| two\\nlines " in rows[0]  # one escaped cell, one line
    assert all(ln[:1] in "+|" for ln in res.out.splitlines())
    res = shell.cmd(f"show_databases_without_backup_definitions {node}", fmt="json")
    assert NEWLINE_DB in [
        r["dbname"] for r in res.json()["databases_without_backup_definitions"]
    ]  # machine output keeps the exact name
    res = shell.cmd(
        f"register_backup_definition '' {node} '#all_databases#' '' '' '' '*' '*' '*'"
        " FULL false '7 days' 1 '' ACTIVE ''"
    )
    assert res.rc == 0, res.out + res.err
    assert "[WARNING]: Database [two\\nlines] skipped" in res.out
    got = {r[0] for r in pgb_env.su_query("SELECT dbname FROM backup_definition")}
    others = {
        r[0]
        for r in node1.query(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn"
            " AND datname <> 'postgres'"
        )
    }
    assert NEWLINE_DB in others and {"app1", "app2"} <= got
    assert got == others - {NEWLINE_DB}
    # Naming it explicitly is refused, in one line, and registers nothing.
    res = shell.cmd(
        f"register_snapshot_definition '' {node} 'two\nlines' '' '' FULL '1 day' '' '' ''"
    )
    assert res.rc == 1 and len(res.out.splitlines()) == 1 and "control" in res.out
    assert _count(pgb_env, "snapshot_definition") == 0
