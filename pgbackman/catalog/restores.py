"""Catalog access for restore definitions and the restore catalog as the shell needs it.

Owns: registering one restore definition, listing definitions and executed restores with
filters, the details of one restore, and the "restores in progress" view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import (
    IntFilter,
    TextFilter,
    ids_starting_with,
    read_one,
    read_view,
    server_node_db,
)


def register_restore_definition(
    cat: Catalog,
    at_time: dt.datetime,
    server_id: int,
    target_node_id: int,
    bck_id: int,
    target_dbname: str,
    renamed_dbname: str | None,
    extra_parameters: str,
    roles_to_restore: Sequence[str],
) -> int:
    return int(
        cat.call(
            "register_restore_definition",
            at_time,
            int(server_id),
            int(target_node_id),
            int(bck_id),
            target_dbname,
            renamed_dbname,
            extra_parameters,
            list(roles_to_restore),
        )
    )


def _where(servers: IntFilter, nodes: IntFilter, dbnames: TextFilter) -> dict[str, Any]:
    return server_node_db(
        servers, nodes, dbnames, node="target_pgsql_node_id", dbname="target_dbname"
    )


def show_restore_definitions(
    cat: Catalog, servers: IntFilter, nodes: IntFilter, dbnames: TextFilter
) -> list[Row]:
    return read_view(
        cat,
        "show_restore_definitions",
        where=_where(servers, nodes, dbnames),
        order_by=("restore_def",),
    )


def show_restore_catalog(
    cat: Catalog, servers: IntFilter, nodes: IntFilter, dbnames: TextFilter
) -> list[Row]:
    return read_view(
        cat,
        "show_restore_catalog",
        where=_where(servers, nodes, dbnames),
        order_by=("-finished", "-restore_id"),
    )


def restore_details(cat: Catalog, restore_id: int) -> Row | None:
    return read_one(cat, "show_restore_details", restore_id=int(restore_id))


def show_restores_in_progress(cat: Catalog) -> list[Row]:
    """Restore definitions without a restore catalog row yet."""
    return read_view(
        cat, "show_restores_in_progress", order_by=("at_time", "restore_def")
    )


def restore_ids(cat: Catalog, prefix: str = "") -> list[int]:
    """RestoreIDs starting with ``prefix`` (tab completion), newest first."""
    return ids_starting_with(cat, "show_restore_catalog", "restore_id", prefix)
