"""Catalog access for the backup catalog (executed dumps) as the shell shows it.

Owns: ``show_backup_catalog`` with its five filters, ``show_backup_details`` of one BckID, and
the facts about a backup that a restore definition needs. Read-only.
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.definitions import IntFilter, TextFilter, int_array, text_array


def show_backup_catalog(
    cat: Catalog,
    servers: IntFilter,
    nodes: IntFilter,
    dbnames: TextFilter,
    def_ids: IntFilter,
    statuses: TextFilter,
) -> list[Row]:
    """Catalog rows (cron and snapshot runs), newest first."""
    q = """
SELECT c.bck_id AS "BckID",
       c.def_id AS "DefID",
       c.snapshot_id AS "SnapshotID",
       date_trunc('second', c.finished) AS "Finished",
       c.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       c.pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "PgSQL node",
       c.dbname AS "DBname",
       date_trunc('second', c.duration)::text AS "Duration",
       pg_size_pretty((coalesce(c.pg_dump_file_size, 0) + coalesce(c.pg_dump_roles_file_size, 0)
                       + coalesce(c.pg_dump_dbconfig_file_size, 0))::bigint) AS "Size",
       coalesce(c.backup_code, d.backup_code, s.backup_code) AS "Code",
       c.execution_method AS "Execution",
       c.execution_status AS "Status"
  FROM backup_catalog c
  JOIN backup_server bs ON bs.server_id = c.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = c.pgsql_node_id
  LEFT JOIN backup_definition d ON d.def_id = c.def_id
  LEFT JOIN snapshot_definition s ON s.snapshot_id = c.snapshot_id
 WHERE (%(srv)s::bigint[] IS NULL OR c.backup_server_id = ANY(%(srv)s::bigint[]))
   AND (%(node)s::bigint[] IS NULL OR c.pgsql_node_id = ANY(%(node)s::bigint[]))
   AND (%(db)s::text[] IS NULL OR c.dbname = ANY(%(db)s::text[]))
   AND (%(ids)s::bigint[] IS NULL OR c.def_id = ANY(%(ids)s::bigint[]))
   AND (%(st)s::text[] IS NULL OR c.execution_status = ANY(%(st)s::text[]))
 ORDER BY c.finished DESC NULLS LAST, c.bck_id DESC
"""
    return cat.query(
        q,
        {
            "srv": int_array(servers),
            "node": int_array(nodes),
            "db": text_array(dbnames),
            "ids": int_array(def_ids),
            "st": text_array(statuses),
        },
    )


def backup_details(cat: Catalog, bck_id: int) -> Row | None:
    """Every column show_backup_details prints, raw (formatting is the shell's job)."""
    return cat.query_one(
        """
SELECT c.bck_id, c.procpid, date_trunc('second', c.registered) AS registered,
       date_trunc('second', c.started) AS started, date_trunc('second', c.finished) AS finished,
       date_trunc('second', c.duration)::text AS duration,
       pg_size_pretty((coalesce(c.pg_dump_file_size, 0) + coalesce(c.pg_dump_roles_file_size, 0)
                       + coalesce(c.pg_dump_dbconfig_file_size, 0))::bigint) AS total_size,
       c.execution_method, c.execution_status, c.def_id, c.snapshot_id, c.dbname,
       c.backup_server_id, bs.hostname || '.' || bs.domain_name AS backup_server,
       c.pgsql_node_id, pn.hostname || '.' || pn.domain_name AS pgsql_node,
       c.pgsql_node_release, c.pg_dump_release,
       CASE WHEN d.def_id IS NOT NULL THEN
         d.minutes_cron || ' ' || d.hours_cron || ' ' || d.day_month_cron || ' '
         || d.month_cron || ' ' || d.weekday_cron END AS schedule,
       to_char(s.at_time, 'YYYY-MM-DD HH24:MI:SS') AS at_time,
       coalesce(d.retention_period, s.retention_period)::text
         || coalesce(' (' || d.retention_redundancy::text || ')', '') AS retention,
       coalesce(c.backup_code, d.backup_code, s.backup_code) AS backup_code,
       coalesce(d.extra_backup_parameters, s.extra_backup_parameters) AS extra_parameters,
       c.excluded_tables,
       c.pg_dump_file, pg_size_pretty(coalesce(c.pg_dump_file_size, 0)) AS pg_dump_file_size,
       c.pg_dump_log_file, c.role_list,
       c.pg_dump_roles_file, pg_size_pretty(coalesce(c.pg_dump_roles_file_size, 0)) AS roles_size,
       c.pg_dump_roles_log_file,
       c.pg_dump_dbconfig_file,
       pg_size_pretty(coalesce(c.pg_dump_dbconfig_file_size, 0)) AS dbconfig_size,
       c.pg_dump_dbconfig_log_file, c.pg_dump_manifest_file, c.checksum,
       date_trunc('second', c.finished + coalesce(d.retention_period, s.retention_period))
         AS on_disk_until,
       c.error_message
  FROM backup_catalog c
  JOIN backup_server bs ON bs.server_id = c.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = c.pgsql_node_id
  LEFT JOIN backup_definition d ON d.def_id = c.def_id
  LEFT JOIN snapshot_definition s ON s.snapshot_id = c.snapshot_id
 WHERE c.bck_id = %s
""",
        (int(bck_id),),
    )


def backup_for_restore(cat: Catalog, bck_id: int) -> dict[str, Any] | None:
    """What register_restore_definition needs to know about a backup."""
    return cat.query_one(
        """
SELECT c.bck_id, c.dbname, c.backup_server_id, c.pgsql_node_id, c.execution_status,
       coalesce(c.role_list, ARRAY[]::text[]) AS role_list,
       coalesce(c.backup_code, d.backup_code, s.backup_code) AS backup_code,
       bs.hostname || '.' || bs.domain_name AS backup_server
  FROM backup_catalog c
  JOIN backup_server bs ON bs.server_id = c.backup_server_id
  LEFT JOIN backup_definition d ON d.def_id = c.def_id
  LEFT JOIN snapshot_definition s ON s.snapshot_id = c.snapshot_id
 WHERE c.bck_id = %s
""",
        (int(bck_id),),
    )
