"""Catalog access for the backup catalog (executed dumps) as the shell shows it.

Owns: ``show_backup_catalog`` with its five filters, ``show_backup_details`` of one BckID, and
the facts about a backup that a restore definition needs. Read-only.
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import (
    IntFilter,
    TextFilter,
    ids_starting_with,
    int_array,
    read_one,
    read_view,
    server_node_db,
    text_array,
)


def show_backup_catalog(
    cat: Catalog,
    servers: IntFilter,
    nodes: IntFilter,
    dbnames: TextFilter,
    def_ids: IntFilter,
    statuses: TextFilter,
) -> list[Row]:
    """Catalog rows (cron and snapshot runs), newest first."""
    return read_view(
        cat,
        "show_backup_catalog",
        where={
            **server_node_db(servers, nodes, dbnames),
            "def_id": int_array(def_ids),
            "execution_status": text_array(statuses),
        },
        order_by=("-finished", "-bck_id"),
    )


def backup_details(cat: Catalog, bck_id: int) -> Row | None:
    """Every column show_backup_details prints, raw (formatting is the shell's job)."""
    return read_one(cat, "show_backup_details", bck_id=int(bck_id))


def backup_for_restore(cat: Catalog, bck_id: int) -> dict[str, Any] | None:
    """What register_restore_definition needs to know about a backup."""
    return cat.query_one(
        """
SELECT c.bck_id, c.dbname, c.backup_server_id, c.pgsql_node_id, c.execution_status,
       coalesce(c.role_list, ARRAY[]::text[]) AS role_list,
       coalesce(c.backup_code, d.backup_code, s.backup_code) AS backup_code,
       bs.hostname || '.' || bs.domain_name AS backup_server, c.offsite_status
  FROM backup_catalog c
  JOIN backup_server bs ON bs.server_id = c.backup_server_id
  LEFT JOIN backup_definition d ON d.def_id = c.def_id
  LEFT JOIN snapshot_definition s ON s.snapshot_id = c.snapshot_id
 WHERE c.bck_id = %s
""",
        (int(bck_id),),
    )


def bck_ids(cat: Catalog, prefix: str = "") -> list[int]:
    """BckIDs starting with ``prefix`` (tab completion), newest first."""
    return ids_starting_with(cat, "show_backup_catalog", "bck_id", prefix)
