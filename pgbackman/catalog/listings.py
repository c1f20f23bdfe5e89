"""Listings: what a ``show_*`` shell command prints is a ``show_*`` view of the catalog.

One owner per listing: the view in ``sql/schema/30_views.sql`` defines its columns (named as
the shell prints them, ids as numbers) and the raw lower-case columns that filters and the
order use; ``pgbackman_role_ro`` may read the same view. This module only reads a view,
with the filters as WHERE clauses and an ORDER BY; the catalog modules say which view,
which filters and which order (see ``catalog/definitions.py`` for the pattern)::

    read_view(cat, "show_backup_definitions",
              where={"backup_server_id": servers, "dbname": dbnames},
              order_by=("backup_server_id", "pgsql_node_id", "dbname", "def_id"))

A filter value of None means "no filter"; a list means "one of these" (an empty list
matches nothing); any other value means "equal to". A column in ``order_by`` written
``-name`` sorts descending, with NULLs last. Names are identifiers, values bound parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg2 import sql

from pgbackman.catalog.connection import Catalog, Row

IntFilter = Sequence[int] | None
TextFilter = Sequence[str] | None


def read_view(
    cat: Catalog,
    view: str,
    *,
    where: Mapping[str, Any] | None = None,
    order_by: Sequence[str] = (),
    limit: int | None = None,
) -> list[Row]:
    """Rows of ``view`` matching every filter in ``where``, in ``order_by`` order (at most
    ``limit`` of them)."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    for column, value in (where or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            conditions.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)))
            params.append(list(value))
        else:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(view))
    if conditions:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)
    if order_by:
        query += sql.SQL(" ORDER BY ") + sql.SQL(", ").join(
            sql.SQL("{} DESC NULLS LAST").format(sql.Identifier(c[1:]))
            if c.startswith("-")
            else sql.Identifier(c)
            for c in order_by
        )
    if limit is not None:
        query += sql.SQL(" LIMIT %s")
        params.append(int(limit))
    return cat.query(query, params)


def int_array(values: IntFilter) -> list[int] | None:
    """A filter of ids (None = no filter)."""
    return None if values is None else [int(v) for v in values]


def text_array(values: TextFilter) -> list[str] | None:
    """A filter of names (None = no filter)."""
    return None if values is None else [str(v) for v in values]


def server_node_db(
    servers: IntFilter,
    nodes: IntFilter,
    dbnames: TextFilter,
    *,
    node: str = "pgsql_node_id",
    dbname: str = "dbname",
) -> dict[str, Any]:
    """The ``[SrvID] [NodeID] [DBname]`` filters of the shell's listings as ``where``."""
    return {
        "backup_server_id": int_array(servers),
        node: int_array(nodes),
        dbname: text_array(dbnames),
    }


def read_one(cat: Catalog, view: str, **where: Any) -> Row | None:
    """The one row of a ``*_details`` view matching ``where`` (None when there is none)."""
    rows = read_view(cat, view, where=where)
    return rows[0] if rows else None


def ids_starting_with(
    cat: Catalog, view: str, column: str, prefix: str, limit: int = 200
) -> list[int]:
    """The newest ids of ``column`` in ``view`` whose digits start with ``prefix`` (tab
    completion of DefID, BckID, RestoreID...; at most ``limit`` of them)."""
    if prefix and not prefix.isdigit():
        return []
    query = sql.SQL(
        "SELECT DISTINCT {col} FROM {view} WHERE {col}::text LIKE %s"
        " ORDER BY {col} DESC LIMIT %s"
    ).format(col=sql.Identifier(column), view=sql.Identifier(view))
    rows = cat.query(query, (prefix + "%", int(limit)))
    return [int(r[column]) for r in rows]
