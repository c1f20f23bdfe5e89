"""SQL against a PgSQL NODE for the data check of a FULL/DATA/RDS backup: the database's
relations, and the relations or schemas pg_dump's patterns match there.

The patterns arrive as regular expressions built like pg_dump builds them
(:func:`pgbackman.core.tablefilter.pattern_regexes`) and are bound as parameters; they are
matched with the node's ``~`` under the database's default collation, and a pattern without
a schema part matches only tables visible through this session's search_path, as in pg_dump
(which resets its search_path to the user's default for that query).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from pgbackman.core.tablefilter import ANY_NAME, Relation, TablePattern
from pgbackman.errors import NodeUnavailableError

_RELATIONS = """
SELECT c.oid::bigint AS oid,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS name,
       n.oid::bigint AS schema_oid, c.relkind::text AS relkind,
       c.relpersistence::text AS persistence,
       EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND d.objid = c.oid AND d.deptype = 'e') AS extension_member,
       (n.nspname ~ '^pg_' OR n.nspname = 'information_schema') AS system_schema
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r'
"""

# pg_dump's table patterns match these relation kinds.
_MATCH_TABLES = """
SELECT DISTINCT c.oid::bigint AS oid
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN unnest(%s::text[], %s::text[]) AS p(s, r)
    ON (p.r = %s OR c.relname OPERATOR(pg_catalog.~) (p.r COLLATE pg_catalog."default"))
   AND CASE WHEN p.s IS NULL THEN pg_catalog.pg_table_is_visible(c.oid)
            WHEN p.s = %s THEN true
            ELSE n.nspname OPERATOR(pg_catalog.~) (p.s COLLATE pg_catalog."default") END
 WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p')
"""

_CHILDREN = """
WITH RECURSIVE kids(oid) AS (
    SELECT unnest(%s::oid[])
  UNION
    SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN kids ON i.inhparent = kids.oid
)
SELECT oid::bigint AS oid FROM kids
"""

_MATCH_SCHEMAS = """
SELECT DISTINCT n.oid::bigint AS oid
  FROM pg_catalog.pg_namespace n
  JOIN unnest(%s::text[]) AS p(r)
    ON p.r = %s OR n.nspname OPERATOR(pg_catalog.~) (p.r COLLATE pg_catalog."default")
"""

Conn = psycopg2.extensions.connection


def _rows(conn: Conn, q: str, params: Any = None) -> list[dict[str, Any]]:
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(q, params)
            return [dict(r) for r in cur.fetchall()]
    except psycopg2.Error as exc:
        text = str(exc).strip()
        msg = text.splitlines()[0] if text else type(exc).__name__
        raise NodeUnavailableError(
            f"Listing the tables of the database on the node failed: {msg}"
        ) from None


def relations(conn: Conn) -> list[Relation]:
    """Every ordinary table of the connected database (system schemas flagged)."""
    return [
        Relation(
            oid=int(r["oid"]),
            name=str(r["name"]),
            schema_oid=int(r["schema_oid"]),
            relkind=str(r["relkind"]),
            persistence=str(r["persistence"]),
            extension_member=bool(r["extension_member"]),
            system_schema=bool(r["system_schema"]),
        )
        for r in _rows(conn, _RELATIONS)
    ]


def matching_tables(conn: Conn, patterns: Sequence[TablePattern]) -> frozenset[int]:
    """Relations matched by any of ``patterns`` (plus their inheritance children, for the
    -and-children forms)."""
    if not patterns:
        return frozenset()
    found: set[int] = set()
    for children in (False, True):
        group = [p for p in patterns if p.children == children]
        if not group:
            continue
        rows = _rows(
            conn,
            _MATCH_TABLES,
            ([p.schema for p in group], [p.name for p in group], ANY_NAME, ANY_NAME),
        )
        oids = [int(r["oid"]) for r in rows]
        if children and oids:
            oids = [int(r["oid"]) for r in _rows(conn, _CHILDREN, (oids,))]
        found.update(oids)
    return frozenset(found)


def matching_schemas(conn: Conn, regexes: Sequence[str]) -> frozenset[int]:
    if not regexes:
        return frozenset()
    rows = _rows(conn, _MATCH_SCHEMAS, (list(regexes), ANY_NAME))
    return frozenset(int(r["oid"]) for r in rows)


def still_there(conn: Conn, oids: Iterable[int]) -> dict[int, str]:
    """Which of ``oids`` are still ordinary tables (oid -> schema.table)."""
    wanted = sorted(oids)
    if not wanted:
        return {}
    rows: list[dict[str, Any]] = _rows(
        conn,
        "SELECT c.oid::bigint AS oid, pg_catalog.format('%%I.%%I', n.nspname, c.relname)"
        " AS name FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.oid = ANY(%s::oid[]) AND c.relkind = 'r'",
        (wanted,),
    )
    return {int(r["oid"]): str(r["name"]) for r in rows}
