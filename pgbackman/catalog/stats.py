"""Catalog access for the shell's statistics, jobs queue and version check.

Counters are computed with one statement each (bound parameters), from the tables, so that
numbers reach the JSON output as numbers.
"""

from __future__ import annotations

from psycopg2 import sql

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import read_view


def schema_version_row(cat: Catalog) -> Row | None:
    return cat.query_one(
        "SELECT version, tag, registered FROM pgbackman_version"
        " ORDER BY version DESC, registered DESC LIMIT 1"
    )


def jobs_queue(cat: Catalog) -> list[Row]:
    return read_view(cat, "show_jobs_queue", order_by=("Registered", "JobID"))


_DEF_COUNTS = sql.SQL("""
  count(*) FILTER (WHERE d.job_status = 'ACTIVE')  AS active_defs,
  count(*) FILTER (WHERE d.job_status = 'STOPPED') AS stopped_defs,
  count(*) FILTER (WHERE d.backup_code = 'CLUSTER') AS cluster_defs,
  count(*) FILTER (WHERE d.backup_code = 'DATA')    AS data_defs,
  count(*) FILTER (WHERE d.backup_code = 'FULL')    AS full_defs,
  count(*) FILTER (WHERE d.backup_code = 'SCHEMA')  AS schema_defs,
  count(*) FILTER (WHERE d.backup_code = 'RDS')     AS rds_defs,
  count(DISTINCT (d.pgsql_node_id, d.dbname))       AS different_databases
""")

_CATALOG_COUNTS = sql.SQL("""
  count(*) FILTER (WHERE c.execution_status = 'SUCCEEDED') AS succeeded,
  count(*) FILTER (WHERE c.execution_status = 'ERROR')     AS faulty,
  coalesce(sum(coalesce(c.pg_dump_file_size, 0) + coalesce(c.pg_dump_roles_file_size, 0)
               + coalesce(c.pg_dump_dbconfig_file_size, 0)), 0)::bigint AS total_size,
  pg_size_pretty(coalesce(sum(coalesce(c.pg_dump_file_size, 0)
               + coalesce(c.pg_dump_roles_file_size, 0)
               + coalesce(c.pg_dump_dbconfig_file_size, 0)), 0)::bigint) AS total_size_pretty,
  coalesce(sum(c.duration), interval '0') AS total_duration,
  min(c.finished) AS oldest,
  max(c.finished) AS newest
""")


def global_stats(cat: Catalog) -> Row:
    """Counters of ``show_pgbackman_stats``."""
    row: Row = {}
    row.update(
        cat.query_one(
            "SELECT count(*) FILTER (WHERE status = 'RUNNING') AS running_servers,"
            "       count(*) FILTER (WHERE status = 'STOPPED') AS stopped_servers FROM backup_server"
        )
        or {}
    )
    row.update(
        cat.query_one(
            "SELECT count(*) FILTER (WHERE status = 'RUNNING') AS running_nodes,"
            "       count(*) FILTER (WHERE status = 'STOPPED') AS stopped_nodes FROM pgsql_node"
        )
        or {}
    )
    row.update(
        cat.query_one(sql.SQL("SELECT {} FROM backup_definition d").format(_DEF_COUNTS))
        or {}
    )
    row.update(
        cat.query_one(
            sql.SQL("SELECT {} FROM backup_catalog c").format(_CATALOG_COUNTS)
        )
        or {}
    )
    row["jobs_waiting"] = cat.scalar(
        "SELECT count(*) FROM job_queue WHERE NOT is_assigned"
    )
    row["forced_deletions"] = cat.scalar(
        "SELECT count(*) FROM catalog_entries_to_delete"
    )
    return row


def server_stats(cat: Catalog, server_id: int) -> Row:
    """Counters of ``show_backup_server_stats`` for one backup server."""
    row: Row = {}
    row["nodes"] = cat.scalar(
        "SELECT count(DISTINCT pgsql_node_id) FROM backup_definition WHERE backup_server_id = %s",
        (server_id,),
    )
    row.update(
        cat.query_one(
            sql.SQL(
                "SELECT {} FROM backup_definition d WHERE d.backup_server_id = %s"
            ).format(_DEF_COUNTS),
            (server_id,),
        )
        or {}
    )
    row.update(
        cat.query_one(
            sql.SQL(
                "SELECT {} FROM backup_catalog c WHERE c.backup_server_id = %s"
            ).format(_CATALOG_COUNTS),
            (server_id,),
        )
        or {}
    )
    row["jobs_waiting"] = cat.scalar(
        "SELECT count(*) FROM job_queue WHERE NOT is_assigned AND backup_server_id = %s",
        (server_id,),
    )
    row["forced_deletions"] = cat.scalar(
        "SELECT count(*) FROM catalog_entries_to_delete WHERE backup_server_id = %s",
        (server_id,),
    )
    return row


def node_stats(cat: Catalog, node_id: int) -> Row:
    """Counters of ``show_pgsql_node_stats`` for one PgSQL node (upstream showed a server's)."""
    row: Row = {}
    row["servers"] = cat.scalar(
        "SELECT count(DISTINCT backup_server_id) FROM backup_definition WHERE pgsql_node_id = %s",
        (node_id,),
    )
    row.update(
        cat.query_one(
            sql.SQL(
                "SELECT {} FROM backup_definition d WHERE d.pgsql_node_id = %s"
            ).format(_DEF_COUNTS),
            (node_id,),
        )
        or {}
    )
    row.update(
        cat.query_one(
            sql.SQL(
                "SELECT {} FROM backup_catalog c WHERE c.pgsql_node_id = %s"
            ).format(_CATALOG_COUNTS),
            (node_id,),
        )
        or {}
    )
    row["jobs_waiting"] = cat.scalar(
        "SELECT count(*) FROM job_queue WHERE NOT is_assigned AND pgsql_node_id = %s",
        (node_id,),
    )
    return row
