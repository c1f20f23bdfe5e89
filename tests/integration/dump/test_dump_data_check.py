"""A FULL/DATA/RDS backup must hold table data: options that remove all of it are refused at
registration (shell and catalog) and at run time, every archive's table of contents is
checked against the tables it must hold, and the exclusions a user asked for are recorded
and shown by show_backup_details."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg2
import pytest

from pgbackman.core.argv import tokenize_extra
from pgbackman.core.tablefilter import dataless_reason
from support.richdb import RichDb

REAL_BIN = "/usr/lib/postgresql/15/bin"
DATALESS = [
    "--section=pre-data",
    "--section=pre-data --section=post-data",
    "--exclude-table-data=*",
    "-T '*'",
    "--exclude-schema='*'",
    "-N '*.*'",
    "--exclude-table-data '*.*'",
    "-j 2 --section post-data",
]
KEPT = [
    "",
    "--section=pre-data --section=data",
    "-T 'app.*'",
    "-T '\"*\"'",
    "--exclude-table-data=public.big_log",
    "-N audit -n app",
    "-j 2 --no-owner",
]


def _shell(dump_env, line: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        ["pgbackman", "-C", line],
        env=dump_env.pgb.shell_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("extra", DATALESS)
@pytest.mark.parametrize("code", ["FULL", "DATA", "RDS"])
def test_dataless_options_are_refused_at_registration(
    dump_env, code: str, extra: str
) -> None:  # type: ignore[no-untyped-def]
    quoted = "'" + extra.replace("'", "'\"'\"'") + "'"
    node = dump_env.node_id
    for line in (
        f"register_backup_definition '' {node} app1 '' 10 01 '*' '*' '*' {code} false"
        f" '7 days' 1 {quoted} ACTIVE ''",
        f"register_snapshot_definition '' {node} app1 '' '' {code} '1 day' {quoted} '' ''",
    ):
        res = _shell(dump_env, line)
        assert res.returncode == 1, (line, res.stdout)
        [msg] = res.stdout.splitlines()
        assert "must hold table data" in msg and "SCHEMA" in msg
    # The catalog refuses them on its own too (e.g. a script calling the functions).
    with pytest.raises(psycopg2.Error, match="must hold table data"):
        dump_env.define("app1", code, extra)
    with pytest.raises(psycopg2.Error, match="must hold table data"):
        dump_env.pgb.su_query(
            "SELECT register_snapshot_definition(%s, %s, 'app1', now(), %s, '1 day', %s,"
            " 'x', NULL)",
            (dump_env.pgb.server_id, node, code, extra),
        )
    def_id = dump_env.define("app1", code, "")
    with pytest.raises(psycopg2.Error, match="must hold table data"):
        dump_env.pgb.su_query(
            "SELECT update_backup_definition(%s, NULL, NULL, NULL, NULL, NULL, NULL,"
            " NULL, %s, NULL, NULL)",
            (def_id, extra),
        )
    assert dump_env.pgb.su_query("SELECT count(*) FROM snapshot_definition") == [(0,)]


def test_schema_code_keeps_its_sections_and_the_two_checks_agree(dump_env) -> None:  # type: ignore[no-untyped-def]
    dump_env.define("app1", "SCHEMA", "--section=pre-data")
    for extra in DATALESS + KEPT:
        for code in ("FULL", "SCHEMA"):
            [(sql_reason,)] = dump_env.pgb.su_query(
                "SELECT dataless_backup_options(%s, %s)", (code, extra)
            )
            py_reason = dataless_reason(code, tokenize_extra(extra))
            assert (sql_reason is None) == (py_reason is None), (code, extra)


def test_a_dataless_definition_from_before_is_refused_at_run_time(dump_env) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define("app1", "FULL")
    # Registered before the rule existed (or written behind the catalog's back).
    dump_env.pgb.su_query(
        "UPDATE backup_definition SET extra_backup_parameters = '--section=pre-data'"
        " WHERE def_id = %s",
        (def_id,),
    )
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    [row] = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "--section=pre-data leaves out the data section" in row["error_message"]
    assert row["pg_dump_file"] is None


def test_an_archive_without_any_data_is_an_error(dump_env) -> None:  # type: ignore[no-untyped-def]
    # Not a wildcard, but app1's only table: nothing would be left.
    def_id = dump_env.define("app1", "FULL", "--exclude-table-data=public.t")
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    [row] = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "holds no table data at all" in row["error_message"]
    assert not [n for n in dump_env.final_entries() if not n.startswith(".")]


SILENT_LOSS = """#!/bin/bash
# The real pg_dump, which (like a bug, a filter file or a wrapper) leaves one table's data
# out, and exits 0.
if [ "$1" = "--version" ]; then exec {real}/pg_dump --version; fi
exec {real}/pg_dump "$@" --exclude-table-data=app.customers
"""


def test_the_archive_is_checked_not_the_options(
    dump_env, rich: RichDb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    d = tmp_path / "bin"
    d.mkdir()
    (d / "pg_dump").write_text(SILENT_LOSS.replace("{real}", REAL_BIN))
    os.chmod(d / "pg_dump", 0o755)
    for prog in ("pg_restore", "pg_dumpall", "psql"):
        os.symlink(f"{REAL_BIN}/{prog}", d / prog)
    dump_env.pgb.su_query(
        "UPDATE backup_server_config SET value = %s WHERE server_id = %s"
        " AND parameter = 'pgsql_bin_15'",
        (str(d), dump_env.pgb.server_id),
    )
    def_id = dump_env.define(rich.dbname, "FULL")
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    [row] = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert row["error_message"] == (
        "The archive holds no data of 1 table(s) a FULL backup must hold: app.customers"
    )
    assert "app.customers" in res.stderr


def test_exclusions_are_recorded_and_shown(dump_env, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    extra = "-T app.customers --exclude-table-data='\"Weird Schema\".*'"
    def_id = dump_env.define(rich.dbname, "FULL", extra)
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    [row] = dump_env.rows(def_id)
    assert row["execution_status"] == "SUCCEEDED"
    assert row["excluded_tables"] == ['"Weird Schema"."Mixed Case"', "app.customers"]
    res = _shell(dump_env, f"show_backup_details {row['bck_id']}")
    assert res.returncode == 0, res.stdout
    line = next(ln for ln in res.stdout.splitlines() if "Tables without data" in ln)
    assert '2: "Weird Schema"."Mixed Case", app.customers' in line
    # Nothing excluded: "none"; a DATA backup is checked the same way.
    whole = dump_env.define(rich.dbname, "DATA")
    assert dump_env.run("--def-id", str(whole)).returncode == 0
    [row] = dump_env.rows(whole)
    assert row["excluded_tables"] == []
    res = _shell(dump_env, f"show_backup_details {row['bck_id']}")
    assert "| Tables without data: | none" in res.stdout.replace("  ", " ")
    # -n keeps one schema: the others are recorded as exclusions.
    only_app = dump_env.define(rich.dbname, "FULL", "-n app")
    assert dump_env.run("--def-id", str(only_app)).returncode == 0
    [row] = dump_env.rows(only_app)
    assert row["excluded_tables"] == ['"Weird Schema"."Mixed Case"', "public.docs"]
