"""Names are data in the program log too: a database called ``50%off %s %(x)s`` is dumped and
restored with every log line of both runs written, and no ``--- Logging error ---`` on stderr
for cron to mail. (Names with control characters cannot be registered at all.)"""

from __future__ import annotations

from pathlib import Path

from psycopg2 import sql


def _create(cluster, name: str) -> None:  # type: ignore[no-untyped-def]
    conn = cluster.connect("postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
    cluster.query("CREATE TABLE t (v int); INSERT INTO t VALUES (1)", dbname=name)


def _drop(cluster, name: str) -> None:  # type: ignore[no-untyped-def]
    conn = cluster.connect("postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )
    finally:
        conn.close()


def test_dump_and_restore_log_every_line(rst) -> None:  # type: ignore[no-untyped-def]
    name = "50%off %s %(x)s"
    _create(rst.node1, name)
    try:
        bck = rst.backup(name, "FULL")
        rdef = rst.define(bck["bck_id"], name, extra="-n public")
        res = rst.restore(rdef)
        assert res.returncode == 0, res.stderr
        assert "Logging error" not in res.stderr
        assert rst.node2.query("SELECT v FROM t", dbname=name) == [(1,)]
    finally:
        _drop(rst.node1, name)
        _drop(rst.node2, name)
    lines = Path(rst.pgb.tmp / "pgbackman.log").read_text().splitlines()
    dump_lines = [ln for ln in lines if f"[pgbackman_dump][127.0.0.1][{name}]" in ln]
    restore_lines = [
        ln for ln in lines if f"[pgbackman_restore][127.0.0.1][{name}]" in ln
    ]
    assert any("Backup completed" in ln for ln in dump_lines), lines[-20:]
    assert any("Restore completed" in ln for ln in restore_lines), lines[-20:]
    assert not [ln for ln in lines if "Logging error" in ln]
