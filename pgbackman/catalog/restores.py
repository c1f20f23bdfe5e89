"""Catalog access for restore definitions and the restore catalog as the shell needs it.

Owns: registering one restore definition, listing definitions and executed restores with
filters, the details of one restore, and the "restores in progress" view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.definitions import IntFilter, TextFilter, int_array, text_array


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


def show_restore_definitions(
    cat: Catalog, servers: IntFilter, nodes: IntFilter, dbnames: TextFilter
) -> list[Row]:
    q = """
SELECT r.restore_def AS "RestoreDef",
       date_trunc('second', r.registered) AS "Registered",
       r.bck_id AS "BckID",
       r.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       r.target_pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "Target PgSQL node",
       r.target_dbname AS "Target DBname",
       r.renamed_dbname AS "Renamed database",
       to_char(r.at_time, 'YYYY-MM-DD HH24:MI:SS') AS "AT time",
       r.extra_restore_parameters AS "Extra parameters",
       r.status AS "Status"
  FROM restore_definition r
  JOIN backup_server bs ON bs.server_id = r.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = r.target_pgsql_node_id
 WHERE (%(srv)s::bigint[] IS NULL OR r.backup_server_id = ANY(%(srv)s::bigint[]))
   AND (%(node)s::bigint[] IS NULL OR r.target_pgsql_node_id = ANY(%(node)s::bigint[]))
   AND (%(db)s::text[] IS NULL OR r.target_dbname = ANY(%(db)s::text[]))
 ORDER BY r.restore_def
"""
    return cat.query(
        q,
        {
            "srv": int_array(servers),
            "node": int_array(nodes),
            "db": text_array(dbnames),
        },
    )


def show_restore_catalog(
    cat: Catalog, servers: IntFilter, nodes: IntFilter, dbnames: TextFilter
) -> list[Row]:
    q = """
SELECT rc.restore_id AS "RestoreID",
       rc.restore_def AS "RestoreDef",
       rd.bck_id AS "BckID",
       date_trunc('second', rc.finished) AS "Finished",
       rc.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       rc.target_pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "Target PgSQL node",
       rc.target_dbname AS "Target DBname",
       rc.renamed_dbname AS "Renamed DBname",
       date_trunc('second', rc.duration)::text AS "Duration",
       rc.execution_status AS "Status"
  FROM restore_catalog rc
  LEFT JOIN restore_definition rd ON rd.restore_def = rc.restore_def
  JOIN backup_server bs ON bs.server_id = rc.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = rc.target_pgsql_node_id
 WHERE (%(srv)s::bigint[] IS NULL OR rc.backup_server_id = ANY(%(srv)s::bigint[]))
   AND (%(node)s::bigint[] IS NULL OR rc.target_pgsql_node_id = ANY(%(node)s::bigint[]))
   AND (%(db)s::text[] IS NULL OR rc.target_dbname = ANY(%(db)s::text[]))
 ORDER BY rc.finished DESC NULLS LAST, rc.restore_id DESC
"""
    return cat.query(
        q,
        {
            "srv": int_array(servers),
            "node": int_array(nodes),
            "db": text_array(dbnames),
        },
    )


def restore_details(cat: Catalog, restore_id: int) -> Row | None:
    return cat.query_one(
        """
SELECT rc.restore_id, rc.procpid, date_trunc('second', rc.registered) AS registered,
       date_trunc('second', rc.started) AS started, date_trunc('second', rc.finished) AS finished,
       date_trunc('second', rc.duration)::text AS duration, rc.execution_status,
       rd.bck_id, rc.source_dbname, rc.target_dbname, rc.renamed_dbname, rc.role_list,
       rc.backup_server_id, bs.hostname || '.' || bs.domain_name AS backup_server,
       rc.target_pgsql_node_id, pn.hostname || '.' || pn.domain_name AS target_pgsql_node,
       rc.backup_pg_release, rc.target_pgsql_node_release,
       to_char(rd.at_time, 'YYYY-MM-DD HH24:MI:SS') AS at_time,
       rd.extra_restore_parameters, rc.restore_log_file, rc.global_log_file, rc.error_message
  FROM restore_catalog rc
  LEFT JOIN restore_definition rd ON rd.restore_def = rc.restore_def
  JOIN backup_server bs ON bs.server_id = rc.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = rc.target_pgsql_node_id
 WHERE rc.restore_id = %s
""",
        (int(restore_id),),
    )


def show_restores_in_progress(cat: Catalog) -> list[Row]:
    """Restore definitions without a restore catalog row yet."""
    return cat.query(
        """
SELECT r.restore_def AS "RestoreDef",
       date_trunc('second', r.registered) AS "Registered",
       r.bck_id AS "BckID",
       r.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       r.target_pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "Target PgSQL node",
       r.target_dbname AS "Target DBname",
       to_char(r.at_time, 'YYYY-MM-DD HH24:MI:SS') AS "AT time",
       CASE WHEN r.at_time > now() THEN 'not started'
            ELSE date_trunc('second', now() - r.at_time)::text END AS "Elapsed time"
  FROM restore_definition r
  JOIN backup_server bs ON bs.server_id = r.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = r.target_pgsql_node_id
 WHERE NOT EXISTS (SELECT 1 FROM restore_catalog rc WHERE rc.restore_def = r.restore_def)
 ORDER BY r.at_time, r.restore_def
"""
    )
