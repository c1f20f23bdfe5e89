"""Catalog access for snapshot definitions (one-off ``at`` backups) as the shell needs it.

Owns: registering the snapshots of several databases atomically, listing them with filters,
and the "snapshots in progress" view (definitions without a catalog row yet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.definitions import IntFilter, TextFilter, int_array, text_array
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
                    )
                )
            )
    return ids


def show_snapshot_definitions(
    cat: Catalog, servers: IntFilter, nodes: IntFilter, dbnames: TextFilter
) -> list[Row]:
    q = """
SELECT s.snapshot_id AS "SnapshotID",
       date_trunc('second', s.registered) AS "Registered",
       s.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       s.pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "PgSQL node",
       s.dbname AS "DBname",
       to_char(s.at_time, 'YYYYMMDDHH24MI') AS "AT time",
       s.backup_code || coalesce(' [' || nullif(s.pg_dump_release, '') || ']', '') AS "Code",
       s.retention_period::text AS "Retention",
       s.extra_backup_parameters AS "Parameters",
       s.remarks AS "Tag",
       s.status AS "Status"
  FROM snapshot_definition s
  JOIN backup_server bs ON bs.server_id = s.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = s.pgsql_node_id
 WHERE (%(srv)s::bigint[] IS NULL OR s.backup_server_id = ANY(%(srv)s::bigint[]))
   AND (%(node)s::bigint[] IS NULL OR s.pgsql_node_id = ANY(%(node)s::bigint[]))
   AND (%(db)s::text[] IS NULL OR s.dbname = ANY(%(db)s::text[]))
 ORDER BY s.snapshot_id
"""
    return cat.query(
        q,
        {
            "srv": int_array(servers),
            "node": int_array(nodes),
            "db": text_array(dbnames),
        },
    )


def show_snapshots_in_progress(cat: Catalog) -> list[Row]:
    """Snapshot definitions that have no catalog row yet (waiting or running)."""
    return cat.query(
        """
SELECT s.snapshot_id AS "SnapshotID",
       date_trunc('second', s.registered) AS "Registered",
       s.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       s.pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "PgSQL node",
       s.dbname AS "DBname",
       to_char(s.at_time, 'YYYY-MM-DD HH24:MI:SS') AS "AT time",
       s.backup_code AS "Code",
       CASE WHEN s.at_time > now() THEN 'not started'
            ELSE date_trunc('second', now() - s.at_time)::text END AS "Elapsed time"
  FROM snapshot_definition s
  JOIN backup_server bs ON bs.server_id = s.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = s.pgsql_node_id
 WHERE NOT EXISTS (SELECT 1 FROM backup_catalog c WHERE c.snapshot_id = s.snapshot_id)
 ORDER BY s.at_time, s.snapshot_id
"""
    )
