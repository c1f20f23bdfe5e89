"""Case 17 — target node down or wrong password; case 21 — no secrets in argv or env.

* a node whose port refuses connections, and a "black hole" that accepts TCP but never
  answers: ERROR row with the libpq message within a bound, no partial output, other nodes'
  jobs unaffected;
* a node that requires a SCRAM password: no .pgpass -> ERROR fast (never a prompt: pg_dump
  runs with --no-password and no terminal is needed); a 0644 pgpass -> warning in the log;
  a 0600 PGPASSFILE -> SUCCEEDED, and the password is nowhere: catalog row, program log,
  run log, /proc/<pid>/cmdline|environ of pgbackman_dump and of pg_dump.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rel_helpers import (
    RelEnv,
    descendants,
    gated_bindir,
    proc_exe_name,
    proc_secrets,
    tree,
)
from support.pgcluster import PgCluster, free_port

PASSWORD = "Rel-S3cret-pw_4242"
PW_USER = "pwadmin"


@pytest.fixture(scope="module")
def pwnode(pg_base_dir: Path) -> Iterator[PgCluster]:
    """A cluster where PW_USER must authenticate with SCRAM over TCP."""
    c = PgCluster(pg_base_dir, "pwnode").init("password_encryption = 'scram-sha-256'\n")
    hba = c.datadir / "pg_hba.conf"
    hba.write_text(f"host all {PW_USER} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    c.start()
    c.psql(f"CREATE ROLE {PW_USER} LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
    c.psql("CREATE DATABASE pwdb")
    c.psql(
        "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g",
        dbname="pwdb",
    )
    yield c
    c.destroy()


def _register(rel: RelEnv, port: int, admin: str = "postgres") -> int:
    rows = rel.pgb.su_query(
        "SELECT register_pgsql_node(%s, %s, %s, %s, %s, %s)",
        ("127", "0.0.1", port, admin, "RUNNING", "reliability node"),
    )
    return int(rows[0][0])


def _all_text(rel: RelEnv, row: dict[str, Any]) -> str:
    return " ".join(str(v) for v in row.values())


@pytest.mark.slow
def test_node_down_or_black_hole_gives_error_rows_fast(rel: RelEnv) -> None:
    refused = _register(rel, free_port())
    d1 = rel.define("app1", node_id=refused)
    t0 = time.monotonic()
    res = rel.dump(d1, timeout=60)
    assert res.returncode == 1 and time.monotonic() - t0 < 30
    [row] = rel.rows(d1)
    assert row["execution_status"] == "ERROR"
    assert "Connection refused" in row["error_message"], row["error_message"]
    assert tree(rel.pgb.root / f"pgsql_node_{refused}" / "dump") == []

    # A listener that completes the TCP handshake and then says nothing.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)
        silent = _register(rel, hole.getsockname()[1])
        d2 = rel.define("app1", node_id=silent)
        t0 = time.monotonic()
        res = rel.dump(d2, timeout=90)
        elapsed = time.monotonic() - t0
    assert res.returncode == 1 and elapsed < 30, elapsed
    [row] = rel.rows(d2)
    assert (
        row["execution_status"] == "ERROR" and "timeout" in row["error_message"].lower()
    ), row
    assert tree(rel.pgb.root / f"pgsql_node_{silent}" / "dump") == []

    # Other nodes' jobs are unaffected.
    ok = rel.define("app1")
    assert rel.dump(ok).returncode == 0
    assert rel.rows(ok)[0]["execution_status"] == "SUCCEEDED"


def test_password_node(rel: RelEnv, pwnode: PgCluster, tmp_path: Path) -> None:
    node_id = _register(rel, pwnode.port, PW_USER)
    def_id = rel.define("pwdb", node_id=node_id)
    env = dict(rel.pgb.env)
    env["HOME"] = str(tmp_path)  # no ~/.pgpass of the machine
    env.pop("PGPASSFILE", None)
    # No password anywhere: ERROR fast, stdin closed, no prompt.
    t0 = time.monotonic()
    res = rel.dump(def_id, env=env, timeout=60)
    assert res.returncode == 1 and time.monotonic() - t0 < 30
    [row] = rel.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "password" in row["error_message"], row["error_message"]

    # PGPASSWORD is not a way in either (pg_dump would never get it): ignored, and said so.
    res = rel.dump(def_id, env=dict(env, PGPASSWORD=PASSWORD), timeout=60)
    assert res.returncode == 1
    assert (
        "PGPASSWORD is set and ignored" in (rel.pgb.tmp / "pgbackman.log").read_text()
    )

    # A pgpass readable by others: libpq ignores it, and the program log says why.
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pwnode.port}:*:{PW_USER}:{PASSWORD}\n")
    os.chmod(pgpass, 0o644)
    env["PGPASSFILE"] = str(pgpass)
    res = rel.dump(def_id, env=env, timeout=60)
    assert res.returncode == 1
    program_log = (rel.pgb.tmp / "pgbackman.log").read_text()
    assert f"Password file {pgpass} has mode 644" in program_log

    # 0600: the dump works; sample the processes while pg_dump waits at its gate.
    os.chmod(pgpass, 0o600)
    gate = gated_bindir(rel, tmp_path)
    proc = rel.popen("pgbackman_dump", "--def-id", str(def_id), env=env)
    try:
        pg_dump_pid = gate.pid()
        samples = {
            "pgbackman_dump": proc_secrets(proc.pid),
            "pg_dump": proc_secrets(pg_dump_pid),
        }
        gate.open()
        # Once exec'ed, the real pg_dump (same pid) keeps running for a moment: sample it too.
        if proc_exe_name(pg_dump_pid) == "pg_dump":
            samples["pg_dump (exec)"] = proc_secrets(pg_dump_pid)
        for kid in descendants(proc.pid):
            samples[f"child {kid}"] = proc_secrets(kid)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert samples["pgbackman_dump"][0] and samples["pg_dump"][0]
    assert b"--no-password" in samples["pg_dump"][0]
    for name, (cmdline, environ) in samples.items():
        assert PASSWORD.encode() not in cmdline + environ, name
        assert b"PGPASSWORD=" not in environ, name
    assert f"PGPASSFILE={pgpass}".encode() in samples["pg_dump"][1]

    rows = rel.rows(def_id)
    assert [r["execution_status"] for r in rows] == [
        "ERROR",
        "ERROR",
        "ERROR",
        "SUCCEEDED",
    ]
    for r in rows:
        assert PASSWORD not in _all_text(rel, r)
    assert PASSWORD not in (rel.pgb.tmp / "pgbackman.log").read_text()
    for r in rows:
        if r["pg_dump_log_file"]:
            assert PASSWORD not in Path(r["pg_dump_log_file"]).read_text()
    # The roles file holds the SCRAM verifier (needed to restore the role), never the password.
    assert PASSWORD not in Path(rows[-1]["pg_dump_roles_file"]).read_text()


def test_restore_on_a_password_node_leaks_no_secret(
    rel: RelEnv, pwnode: PgCluster, tmp_path: Path
) -> None:
    node_id = _register(rel, pwnode.port, PW_USER)
    def_id = rel.define("pwdb", node_id=node_id)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pwnode.port}:*:{PW_USER}:{PASSWORD}\n")
    os.chmod(pgpass, 0o600)
    env = dict(rel.pgb.env, HOME=str(tmp_path), PGPASSFILE=str(pgpass))
    assert rel.dump(def_id, env=env).returncode == 0
    [bck] = rel.rows(def_id)
    pwnode.psql("DROP DATABASE IF EXISTS pwdb_copy")
    restore_def = int(
        rel.pgb.su_query(
            "SELECT register_restore_definition(now(), %s, %s, %s, %s, %s, %s, %s)",
            (rel.pgb.server_id, node_id, bck["bck_id"], "pwdb_copy", None, "", []),
        )[0][0]
    )
    gate = gated_bindir(rel, tmp_path, gated="pg_restore")
    proc = rel.popen("pgbackman_restore", "--restore-def", str(restore_def), env=env)
    try:
        pid = gate.pid()
        samples = {
            "pgbackman_restore": proc_secrets(proc.pid),
            "pg_restore": proc_secrets(pid),
        }
        gate.open()
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    for name, (cmdline, environ) in samples.items():
        assert cmdline, name
        assert PASSWORD.encode() not in cmdline + environ, name
        assert b"PGPASSWORD=" not in environ, name
    assert pwnode.query("SELECT count(*) FROM t", dbname="pwdb_copy") == [(1000,)]
    [row] = rel.pgb.cat.query(
        "SELECT * FROM restore_catalog WHERE restore_def = %s", (restore_def,)
    )
    assert row["execution_status"] == "SUCCEEDED" and PASSWORD not in _all_text(
        rel, row
    )
    assert PASSWORD not in (rel.pgb.tmp / "pgbackman.log").read_text()
    pwnode.psql("DROP DATABASE IF EXISTS pwdb_copy")
