"""Disk usage in the catalog: what pgbackman_maintenance records each pass
(``record_disk_usage()``) and what the shell's disk space reports read (the views
``disk_usage_latest``, ``disk_usage_history`` and ``backup_catalog_usage``), so any shell
shows what every backup server measured on its own disks.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping

from psycopg2 import sql

from pgbackman.catalog.connection import Catalog, Row

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
def latest(
    cat: Catalog, server_ids: list[int] | None, node_ids: list[int] | None
) -> list[Row]:
    """The newest measurement of each (server, node partition)."""
    return cat.query(
        "SELECT * FROM disk_usage_latest"
        " WHERE (%(srv)s::int[] IS NULL OR backup_server_id = ANY (%(srv)s::int[]))"
        "   AND (%(node)s::bigint[] IS NULL OR pgsql_node_id = ANY (%(node)s::bigint[]))"
        " ORDER BY backup_server_id, pgsql_node_id",
        {"srv": server_ids, "node": node_ids},
    )


def history(cat: Catalog, server_ids: list[int] | None) -> list[Row]:
    """Measurements of the last 30 days, for growth."""
    return cat.query(
        "SELECT * FROM disk_usage_history"
        " WHERE %(srv)s::int[] IS NULL OR backup_server_id = ANY (%(srv)s::int[])"
        " ORDER BY backup_server_id, pgsql_node_id, measured",
        {"srv": server_ids},
    )


def catalog_usage(
    cat: Catalog, server_ids: list[int] | None, node_ids: list[int] | None
) -> list[Row]:
    """Backups and their bytes per (server, node, definition or snapshot), per the catalog."""
    return cat.query(
        "SELECT * FROM backup_catalog_usage"
        " WHERE (%(srv)s::int[] IS NULL OR backup_server_id = ANY (%(srv)s::int[]))"
        "   AND (%(node)s::bigint[] IS NULL OR pgsql_node_id = ANY (%(node)s::bigint[]))"
        " ORDER BY backup_server_id, pgsql_node_id, dbname, def_id, snapshot_id",
        {"srv": server_ids, "node": node_ids},
    )


def servers(cat: Catalog, server_ids: list[int] | None) -> list[Row]:
    """Backup servers (id, fqdn) and their min_free_disk_space."""
    return cat.query(
        "SELECT s.server_id, s.hostname || '.' || s.domain_name AS fqdn,"
        " coalesce((SELECT c.value FROM backup_server_config c WHERE c.server_id ="
        " s.server_id AND c.parameter = 'min_free_disk_space'),"
        " (SELECT d.value FROM backup_server_default_config d"
        "   WHERE d.parameter = 'min_free_disk_space')) AS min_free_disk_space"
        " FROM backup_server s"
        " WHERE %(srv)s::int[] IS NULL OR s.server_id = ANY (%(srv)s::int[])"
        " ORDER BY s.server_id",
        {"srv": server_ids},
    )
