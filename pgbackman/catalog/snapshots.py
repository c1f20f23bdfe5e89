"""Catalog access for snapshot definitions (one-off ``at`` backups) as the shell needs it.

Owns: registering the snapshots of several databases atomically, listing them with filters,
and the "snapshots in progress" view (definitions without a catalog row yet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import IntFilter, TextFilter, read_view, server_node_db
from pgbackman.errors import CatalogError, UserInputError


def parse_timestamp(cat: Catalog, value: str, label: str = "AT time") -> dt.datetime:
    """Let PostgreSQL parse a timestamp (in the catalog session's time zone)."""
    try:
        result = cat.scalar("SELECT %s::timestamptz", (value,))
    except (UserInputError, CatalogError):
        raise UserInputError(f"{label} [{value}] is not a valid timestamp") from None
    if not isinstance(result, dt.datetime):
        raise UserInputError(f"{label} [{value}] is not a valid timestamp")
    return result


def now_plus_one_minute(cat: Catalog) -> str:
    """Default AT time, as text the user sees and may edit."""
    return str(
        cat.scalar("SELECT date_trunc('second', now() + interval '1 minute')::text")
    )


def register_snapshot_definitions(
    cat: Catalog,
    server_id: int,
    node_id: int,
    dbnames: Sequence[str],
    at_time: dt.datetime,
    backup_code: str,
    retention_period: str,
    extra_parameters: str,
    tag: str,
    pg_dump_release: str | None,
    backup_compression: str | None = None,
    encryption: bool | None = None,
) -> list[int]:
    """One snapshot per database, all in ONE transaction."""
    ids: list[int] = []
    with cat.transaction():
        for db in dbnames:
            ids.append(
                int(
                    cat.call(
                        "register_snapshot_definition",
                        int(server_id),
                        int(node_id),
                        db,
                        at_time,
                        backup_code,
                        retention_period,
                        extra_parameters,
                        tag,
                        pg_dump_release,
                        backup_compression,
                        encryption,
                    )
                )
            )
    return ids


def show_snapshot_definitions(
    cat: Catalog, servers: IntFilter, nodes: IntFilter, dbnames: TextFilter
) -> list[Row]:
    return read_view(
        cat,
        "show_snapshot_definitions",
        where=server_node_db(servers, nodes, dbnames),
        order_by=("snapshot_id",),
    )


def show_snapshots_in_progress(cat: Catalog) -> list[Row]:
    """Snapshot definitions that have no catalog row yet (waiting or running)."""
    return read_view(
        cat, "show_snapshots_in_progress", order_by=("at_time", "snapshot_id")
    )
