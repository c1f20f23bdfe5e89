"""Failure paths of pgbackman_dump: pg_dump killed, pgbackman_dump stopped by SIGTERM or
kill -9, a dump that is silently incomplete, concurrent runs, bad extra parameters, hostile
database names, a missing database. A fake pg_dump (configured as the server's pgsql_bin_15)
lets the tests stop a run at a known point."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from dump_helpers import (
    REAL_BIN,
    fake_bindir as _fake_bindir,
    real_bindir as _real_bindir,
)
from support.pgcluster import PgCluster


SLOW_PG_DUMP = f"""#!/bin/bash
# Fake pg_dump: --version like the real one; otherwise start an output directory and hang.
if [ "$1" = "--version" ]; then exec {REAL_BIN}/pg_dump --version; fi
for a in "$@"; do case "$a" in --file=*) out="${{a#--file=}}";; esac; done
mkdir -p "$out" && echo partial > "$out/toc.dat"
echo "$$" > "$(dirname "$out")/../../fake_pg_dump.pid"
echo "pg_dump: fake dump started" >&2
exec sleep 60
"""

LOSSY_PG_DUMP = f"""#!/bin/bash
# Fake pg_dump: the real one, then one data file disappears, and it still exits 0.
if [ "$1" = "--version" ]; then exec {REAL_BIN}/pg_dump --version; fi
{REAL_BIN}/pg_dump "$@" || exit $?
for a in "$@"; do case "$a" in --file=*) out="${{a#--file=}}";; esac; done
rm -f "$(ls "$out"/[0-9]*.dat* | head -1)"
exit 0
"""


def _wait_for(pred, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _partials(dump_env) -> list[Path]:  # type: ignore[no-untyped-def]
    d = dump_env.partition / "dump"
    return [p for p in d.glob(".partial-*")] if d.exists() else []


def _assert_nothing_final(dump_env) -> None:  # type: ignore[no-untyped-def]
    assert [n for n in dump_env.final_entries() if not n.startswith(".")] == []
    assert _partials(dump_env) == []


def _fake_pid(dump_env) -> int:  # type: ignore[no-untyped-def]
    p = dump_env.partition / "fake_pg_dump.pid"
    _wait_for(lambda: p.exists() and p.read_text().strip())
    return int(p.read_text())


def test_sigterm_records_one_error_and_leaves_nothing(dump_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _fake_bindir(dump_env, tmp_path, SLOW_PG_DUMP)
    def_id = dump_env.define("app1")
    p = dump_env.popen("--def-id", str(def_id))
    fake = _fake_pid(dump_env)
    assert _partials(dump_env)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert time.monotonic() - t0 < 15
    assert p.returncode == 1, err
    rows = dump_env.rows(def_id)
    assert len(rows) == 1 and rows[0]["execution_status"] == "ERROR"
    assert "SIGTERM" in rows[0]["error_message"]
    assert rows[0]["pg_dump_file"] is None and rows[0]["pg_dump_log_file"]
    _assert_nothing_final(dump_env)
    with pytest.raises(ProcessLookupError):
        os.kill(fake, 0)  # pg_dump got the signal too


def test_pg_dump_killed_gives_error_row_then_next_run_succeeds(
    dump_env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _fake_bindir(dump_env, tmp_path, SLOW_PG_DUMP)
    def_id = dump_env.define("app1")
    p = dump_env.popen("--def-id", str(def_id))
    os.kill(_fake_pid(dump_env), signal.SIGKILL)
    _out, err = p.communicate(timeout=30)
    assert p.returncode == 1, err
    [row] = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR" and "SIGKILL" in row["error_message"]
    _assert_nothing_final(dump_env)
    _real_bindir(dump_env)
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    assert [r["execution_status"] for r in dump_env.rows(def_id)] == [
        "ERROR",
        "SUCCEEDED",
    ]


def test_kill_9_of_pgbackman_dump_then_next_run_sweeps_and_succeeds(
    dump_env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _fake_bindir(dump_env, tmp_path, SLOW_PG_DUMP)
    def_id = dump_env.define("app1")
    p = dump_env.popen("--def-id", str(def_id))
    fake = _fake_pid(dump_env)
    p.kill()
    p.communicate(timeout=30)
    # pg_dump dies with its parent (PR_SET_PDEATHSIG), leaving the partial behind.
    _wait_for(lambda: not _alive(fake), timeout=5)
    assert _partials(dump_env) and dump_env.rows(def_id) == []
    _real_bindir(dump_env)
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    assert _partials(dump_env) == []
    assert [r["execution_status"] for r in dump_env.rows(def_id)] == ["SUCCEEDED"]


def test_concurrent_run_of_same_job_is_skipped(dump_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _fake_bindir(dump_env, tmp_path, SLOW_PG_DUMP)
    def_id = dump_env.define("app1")
    other = dump_env.define("app2")
    p = dump_env.popen("--def-id", str(def_id))
    try:
        _fake_pid(dump_env)
        second = dump_env.run("--def-id", str(def_id), timeout=30)
        assert second.returncode == 1 and "locked, skipped" in second.stderr
        assert dump_env.rows(def_id) == []  # the skipped run records nothing
        # Another job of the same node is not blocked by that lock.
        _real_bindir(dump_env)
        assert dump_env.run("--def-id", str(other)).returncode == 0
    finally:
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=30)
    assert [r["execution_status"] for r in dump_env.rows(def_id)] == ["ERROR"]


def test_pg_dump_exit_0_with_missing_file_fails_read_back(
    dump_env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _fake_bindir(dump_env, tmp_path, LOSSY_PG_DUMP)
    def_id = dump_env.define("app1")
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    [row] = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "Read-back check failed" in row["error_message"]
    _assert_nothing_final(dump_env)


@pytest.mark.parametrize(
    "extra",
    [
        "--exclude-table=x; touch {P}",
        "`touch {P}`",
        "$(touch {P})",
        "-f /etc/passwd",
        "--dbname=host=evil",
    ],
)
def test_hostile_extra_parameters_are_rejected(
    dump_env, tmp_path: Path, extra: str
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "P"
    def_id = dump_env.define("app1", "FULL", extra.format(P=marker))
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    [row] = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "Invalid extra backup parameters" in row["error_message"]
    assert not marker.exists()
    _assert_nothing_final(dump_env)


def test_allowed_extra_parameters_are_passed(dump_env) -> None:  # type: ignore[no-untyped-def]
    # (app1's only table is public.t: excluding its data would leave a FULL backup without
    # any data, which is refused; see test_dump_data_check.py)
    def_id = dump_env.define(
        "app1", "FULL", "-j 2 --exclude-table-data='public.audit_log' --no-owner"
    )
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    [row] = dump_env.rows(def_id)
    log = Path(row["pg_dump_log_file"]).read_text()
    assert "-j 2 --exclude-table-data=public.audit_log --no-owner" in log
    assert row["excluded_tables"] == []


def test_hostile_database_name(
    dump_env, node1: PgCluster, node2: PgCluster, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    marker = "/tmp/pgbP%d" % os.getpid()
    name = f"we'ird db; $(touch {marker}) %x `touch {marker}`"
    assert len(name.encode()) <= 63
    conn = node1.connect()
    with conn.cursor() as cur:
        from psycopg2 import sql

        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.close()
    try:
        node1.query("CREATE TABLE x (v text); INSERT INTO x VALUES ('ø')", dbname=name)
        def_id = dump_env.define(name, "FULL")
        res = dump_env.run("--def-id", str(def_id))
        assert res.returncode == 0, res.stderr
        [row] = dump_env.rows(def_id)
        assert row["execution_status"] == "SUCCEEDED", row["error_message"]
        assert row["dbname"] == name  # the catalog keeps the exact name
        fname = Path(row["pg_dump_file"]).name
        assert (
            "/" not in fname
            and "%" not in fname
            and " " not in fname
            and "'" not in fname
        )
        # DBCONFIG restores it under its own (hostile) name on another cluster, using the
        # default target name written into the file (psql \set quoting, no backquote run).
        from dump_helpers import pg_restore, psql_file

        psql_file(node2, row["pg_dump_roles_file"])
        psql_file(node2, row["pg_dump_dbconfig_file"])
        pg_restore(node2, row["pg_dump_file"], name)
        assert node2.query("SELECT v FROM x", dbname=name) == [("ø",)]
        assert not os.path.exists(marker)
    finally:
        for c in (node1, node2):
            conn = c.connect()
            with conn.cursor() as cur:
                from psycopg2 import sql

                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)
                    )
                )
            conn.close()
        assert not os.path.exists(marker)


def test_missing_database_gives_error_row(dump_env) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define("no_such_db")
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    [row] = dump_env.rows(def_id)
    assert (
        row["execution_status"] == "ERROR" and "not available" in row["error_message"]
    )
    _assert_nothing_final(dump_env)


def test_bad_usage_exits_2(dump_env) -> None:  # type: ignore[no-untyped-def]
    assert dump_env.run().returncode == 2
    assert dump_env.run("--def-id", "1", "--snapshot-id", "1").returncode == 2
    assert dump_env.run("--def-id", "x").returncode == 2
    assert dump_env.run("--def-id", "0").returncode == 2
    res = dump_env.run("--def-id", "999999")
    assert res.returncode == 1 and "does not exist" in res.stderr
