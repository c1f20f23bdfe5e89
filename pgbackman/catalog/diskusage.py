"""Disk usage in the catalog: what pgbackman_maintenance records each pass
(``record_disk_usage()``) and what the shell's disk space reports read (the views
``disk_usage_latest``, ``disk_usage_history`` and ``backup_catalog_usage``), so any shell
shows what every backup server measured on its own disks.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

from psycopg2 import sql

from pgbackman.catalog import servers as srv
from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import IntFilter, int_array, read_view

_FILE_COLUMNS = (
    "pg_dump_file",
    "pg_dump_log_file",
    "pg_dump_roles_file",
    "pg_dump_roles_log_file",
    "pg_dump_dbconfig_file",
    "pg_dump_dbconfig_log_file",
    "pg_dump_manifest_file",
)


# -- pgbackman_maintenance --------------------------------------------------------------------
def last_measured(cat: Catalog, server_id: int) -> _dt.datetime | None:
    value: _dt.datetime | None = cat.scalar(
        "SELECT max(measured) FROM disk_usage WHERE backup_server_id = %s", (server_id,)
    )
    return value


def measured_nodes(cat: Catalog, server_id: int) -> set[int]:
    rows = cat.query(
        "SELECT DISTINCT pgsql_node_id FROM disk_usage WHERE backup_server_id = %s",
        (server_id,),
    )
    return {int(r["pgsql_node_id"]) for r in rows}


def file_owners(cat: Catalog, server_id: int, node_id: int) -> dict[str, str]:
    """Path -> ``def:<DefID>`` / ``snapshot:<SnapshotID>`` for every file the catalog says a
    backup of this node on this server has (dump, roles, database configuration, manifest
    and their logs)."""
    q = sql.SQL(
        "SELECT def_id, snapshot_id, {} FROM backup_catalog"
        " WHERE backup_server_id = %s AND pgsql_node_id = %s"
    ).format(sql.SQL(", ").join(sql.Identifier(c) for c in _FILE_COLUMNS))
    rows = cat.query(q, (server_id, node_id))
    owners: dict[str, str] = {}
    for r in rows:
        key = (
            f"def:{r['def_id']}"
            if r["def_id"] is not None
            else f"snapshot:{r['snapshot_id']}"
        )
        for c in _FILE_COLUMNS:
            path = r[c]
            if path and path != "None":
                owners[str(path).rstrip("/")] = key
    return owners


def record(
    cat: Catalog,
    server_id: int,
    node_id: int,
    partition: str,
    fs_id: str,
    fs_path: str,
    fs_size: int,
    fs_free: int,
    disk_bytes: int,
    other_bytes: int,
    job_bytes: Mapping[str, int],
) -> None:
    cat.scalar(
        "SELECT record_disk_usage(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
        (
            server_id,
            node_id,
            partition,
            fs_id,
            fs_path,
            fs_size,
            fs_free,
            disk_bytes,
            other_bytes,
            json.dumps(dict(job_bytes)),
        ),
    )


def forget(cat: Catalog, server_id: int, node_id: int) -> None:
    cat.call("forget_disk_usage", server_id, node_id)


# -- shell reports ----------------------------------------------------------------------------
def latest(cat: Catalog, server_ids: IntFilter, node_ids: IntFilter) -> list[Row]:
    """The newest measurement of each (server, node partition)."""
    return read_view(
        cat,
        "disk_usage_latest",
        where={
            "backup_server_id": int_array(server_ids),
            "pgsql_node_id": int_array(node_ids),
        },
        order_by=("backup_server_id", "pgsql_node_id"),
    )


def history(cat: Catalog, server_ids: IntFilter) -> list[Row]:
    """Measurements of the last 30 days, for growth."""
    return read_view(
        cat,
        "disk_usage_history",
        where={"backup_server_id": int_array(server_ids)},
        order_by=("backup_server_id", "pgsql_node_id", "measured"),
    )


def catalog_usage(
    cat: Catalog, server_ids: IntFilter, node_ids: IntFilter
) -> list[Row]:
    """Backups and their bytes per (server, node, definition or snapshot), per the catalog."""
    return read_view(
        cat,
        "backup_catalog_usage",
        where={
            "backup_server_id": int_array(server_ids),
            "pgsql_node_id": int_array(node_ids),
        },
        order_by=(
            "backup_server_id",
            "pgsql_node_id",
            "dbname",
            "def_id",
            "snapshot_id",
        ),
    )


def servers(cat: Catalog, server_ids: IntFilter) -> list[dict[str, Any]]:
    """Backup servers (server_id, fqdn) with their min_free_disk_space."""
    out = []
    rows = read_view(
        cat,
        "show_backup_servers",
        where={"SrvID": int_array(server_ids)},
        order_by=("SrvID",),
    )
    for r in rows:
        sid = int(r["SrvID"])
        value = srv.server_config_dict(cat, sid).get("min_free_disk_space")
        out.append(
            {
                "server_id": sid,
                "fqdn": r["FQDN"],
                "min_free_disk_space": value
                or srv.default_parameter(cat, "min_free_disk_space"),
            }
        )
    return out
