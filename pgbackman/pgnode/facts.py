"""SQL against a PgSQL node for the facts of a database (:mod:`pgbackman.core.facts`): its
ordinary tables with their size estimates, exact row counts, and the exported snapshot that
lets pg_dump dump exactly what was counted. Used on the source at dump time and on the drill
node against the restored scratch database.

Table names are data: composed with :class:`psycopg2.sql.Identifier`. Failures become
:class:`NodeUnavailableError` with the server's one-line message.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbackman.errors import NodeUnavailableError

Conn = psycopg2.extensions.connection

# Ordinary tables outside the system schemas; extension members are left out (their data
# belongs to the extension's script, not to the dump), temporary tables too.
_TABLES = """
SELECT n.nspname AS schema, c.relname AS name,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS qualified,
       c.reltuples::float8 AS reltuples, c.relpages::bigint AS relpages,
       pg_catalog.pg_relation_size(c.oid) AS bytes
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
    """Every ordinary table: schema, name, qualified, reltuples, relpages, bytes."""
    keys = ("schema", "name", "qualified", "reltuples", "relpages", "bytes")
    return [dict(zip(keys, r, strict=True)) for r in _rows(conn, _TABLES)]


def export_snapshot(conn: Conn) -> str:
    """Open a read-only REPEATABLE READ transaction on ``conn`` and export its snapshot
    (valid for ``pg_dump --snapshot`` while the transaction stays open)."""
    try:
        # A node's idle_in_transaction_session_timeout would end the transaction (and the
        # snapshot pg_dump imports) while pg_dump runs.
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET idle_in_transaction_session_timeout = 0")
    except psycopg2.Error:
        pass  # older than 9.6: the setting does not exist
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True, autocommit=False)
    return str(_rows(conn, "SELECT pg_catalog.pg_export_snapshot()")[0][0])


def count_rows(conn: Conn, schema: str, name: str) -> int:
    q = sql.SQL("SELECT count(*) FROM ONLY {}").format(sql.Identifier(schema, name))
    return int(_rows(conn, q)[0][0])


def has_rows(conn: Conn, schema: str, name: str) -> bool:
    q = sql.SQL("SELECT EXISTS (SELECT 1 FROM ONLY {})").format(
        sql.Identifier(schema, name)
    )
    return bool(_rows(conn, q)[0][0])
