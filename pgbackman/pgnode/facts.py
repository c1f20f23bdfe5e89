"""SQL against a PgSQL node for the facts of a database (:mod:`pgbackman.core.facts`): its
ordinary tables with their size estimates, exact row counts, and the exported snapshot that
lets pg_dump dump exactly what was counted. Used on the source at dump time and on the drill
node against the restored scratch database.

On the source, facts never wait for a lock: the listing reads pg_class only (sizes from
``relpages``), and the exact size and count of a table (which take its ACCESS SHARE lock)
run under a short ``lock_timeout`` inside a savepoint (:func:`unless_locked`), so a table
locked by someone else is left to the estimates and the snapshot's transaction survives.

Table names are data: composed with :class:`psycopg2.sql.Identifier`. Failures become
:class:`NodeUnavailableError` with the server's one-line message.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from pgbackman.errors import NodeUnavailableError

Conn = psycopg2.extensions.connection

# Ordinary tables outside the system schemas; extension members are left out (their data
# belongs to the extension's script, not to the dump), temporary tables too.
_TABLES = """
SELECT c.oid::bigint AS oid, n.nspname AS schema, c.relname AS name,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS qualified,
       c.reltuples::float8 AS reltuples, c.relpages::bigint AS relpages,
       c.relpages::bigint * pg_catalog.current_setting('block_size')::bigint AS bytes
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND c.relpersistence <> 't'
   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2
"""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _rows(conn: Conn, q: sql.Composable | str, params: Any = None) -> list[Any]:
    try:
        with conn.cursor() as cur:
            cur.execute(q, params)
            return list(cur.fetchall())
    except psycopg2.Error as exc:
        raise NodeUnavailableError(
            f"Reading the tables of the database failed: {_first_line(exc)}"
        ) from None


def tables(conn: Conn) -> list[dict[str, Any]]:
    """Every ordinary table: oid, schema, name, qualified, reltuples, relpages and bytes
    (``relpages`` blocks: read without a lock)."""
    keys = ("oid", "schema", "name", "qualified", "reltuples", "relpages", "bytes")
    return [dict(zip(keys, r, strict=True)) for r in _rows(conn, _TABLES)]


def export_snapshot(conn: Conn, lock_timeout_ms: int = 200) -> str:
    """Open a read-only REPEATABLE READ transaction on ``conn`` and export its snapshot
    (valid for ``pg_dump --snapshot`` while the transaction stays open)."""
    conn.autocommit = True
    for setting in (
        # A node's idle_in_transaction_session_timeout would end the transaction (and the
        # snapshot pg_dump imports) while pg_dump runs; older than 9.6: no such setting.
        "SET idle_in_transaction_session_timeout = 0",
        f"SET lock_timeout = {int(lock_timeout_ms)}",
    ):
        try:
            with conn.cursor() as cur:
                cur.execute(setting)
        except psycopg2.Error:
            pass
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True, autocommit=False)
    return str(_rows(conn, "SELECT pg_catalog.pg_export_snapshot()")[0][0])


def unless_locked(conn: Conn, query: sql.Composable | str, params: Any = None) -> Any:
    """The single value of ``query`` run in a savepoint of the open transaction; None when a
    lock held by another session made it give up (lock_timeout)."""
    with conn.cursor() as cur:
        try:
            cur.execute("SAVEPOINT pgbackman_fact")
            try:
                cur.execute(query, params)
                row = cur.fetchone()
            except psycopg2.errors.LockNotAvailable:
                cur.execute("ROLLBACK TO SAVEPOINT pgbackman_fact")
                return None
            cur.execute("RELEASE SAVEPOINT pgbackman_fact")
        except psycopg2.Error as exc:
            raise NodeUnavailableError(
                f"Reading the tables of the database failed: {_first_line(exc)}"
            ) from None
        return None if row is None else row[0]


SIZE_QUERY = "SELECT pg_catalog.pg_relation_size(%s::oid)"


def count_query(schema: str, name: str) -> sql.Composable:
    return sql.SQL("SELECT count(*) FROM ONLY {}").format(sql.Identifier(schema, name))


def count_rows(conn: Conn, schema: str, name: str) -> int:
    return int(_rows(conn, count_query(schema, name))[0][0])


def has_rows(conn: Conn, schema: str, name: str) -> bool:
    q = sql.SQL("SELECT EXISTS (SELECT 1 FROM ONLY {})").format(
        sql.Identifier(schema, name)
    )
    return bool(_rows(conn, q)[0][0])
