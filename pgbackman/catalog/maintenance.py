"""What pgbackman_maintenance asks of the catalog (and the only SQL it runs).

Every read is one set-based statement per backup server (fleet scale: 10 000 definitions,
1 000 000 catalog rows); writes go through the schema's functions. Retention *decisions* are
not taken here: :func:`retention_candidates` returns, per definition, just the rows that can
matter (see :mod:`pgbackman.core.retention`) and Python decides.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg2 import sql

from pgbackman.catalog.connection import Catalog, Row

# Columns of backup_catalog / catalog_entries_to_delete that name files or directories a run
# produced. global_log_file is the shared program log and is never deleted.
FILE_COLUMNS = (
    "pg_dump_file",
    "pg_dump_log_file",
    "pg_dump_roles_file",
    "pg_dump_roles_log_file",
    "pg_dump_dbconfig_file",
    "pg_dump_dbconfig_log_file",
    "pg_dump_manifest_file",
)
_FILES_SQL = sql.SQL(", ").join(sql.Identifier("a", c) for c in FILE_COLUMNS)


def now(cat: Catalog) -> datetime:
    """The catalog's clock: every age is measured against it, never the local clock."""
    value: datetime = cat.scalar("SELECT now() AS now")
    return value


def server_root(cat: Catalog, srv_id: int) -> str:
    """The backup server's root_backup_partition (the catalog value wins over the config)."""
    return str(
        cat.call("get_backup_server_config_value", srv_id, "root_backup_partition")
    )


def node_partitions(cat: Catalog) -> dict[int, str]:
    """node_id -> pgnode_backup_partition for every node (where dumps and locks live)."""
    rows = cat.query(
        "SELECT node_id, value FROM pgsql_node_config WHERE parameter = 'pgnode_backup_partition'"
    )
    return {int(r["node_id"]): str(r["value"]) for r in rows}


# -- task 1: files of forced deletions ---------------------------------------------------
def forced_deletes(cat: Catalog, srv_id: int) -> list[Row]:
    return cat.query(
        "SELECT * FROM get_catalog_entries_to_delete WHERE backup_server_id = %s ORDER BY del_id",
        (srv_id,),
    )


def delete_forced_entry(cat: Catalog, del_id: int) -> None:
    cat.call("delete_catalog_entries_to_delete", del_id)


# -- task 2: backup retention ----------------------------------------------------------
def retention_candidates(cat: Catalog, srv_id: int) -> list[Row]:
    """Rows of this server's cron catalog that retention must look at, in ONE statement.

    Only definitions having at least one row older than their retention period are read, and
    of those only (a) the rows older than the period and (b) the max(redundancy, 1) newest
    SUCCEEDED rows: core.retention gives the same answer on that partial history as on the
    full one. Each row carries the definition's retention values and node, not the file
    paths (see :func:`backup_files`).

    The newest SUCCEEDED rows are counted on every backup server (as the schema's retention
    view does): after move_backup_definition the old server keeps expiring the dumps it
    holds once the new server has newer good ones. Only this server's rows are deleted.
    """
    # Index-driven (bench/RESULTS.md): one probe per definition finds those with an expired
    # row, then per definition only its expired rows (index on def_id, finished) and its
    # max(redundancy, 1) newest SUCCEEDED rows (partial index, LIMIT) are read; never a scan
    # of the whole catalog. The two UNION ALL branches keep "finished DESC NULLS LAST"
    # exact while each branch can use the DESC (NULLS FIRST) index order.
    q = sql.SQL(
        """
        WITH defs AS (
            SELECT b.def_id, b.retention_period, b.retention_redundancy,
                   greatest(b.retention_redundancy, 1) AS keep
              FROM backup_definition b
             CROSS JOIN LATERAL (SELECT 1 FROM backup_catalog a
                                  WHERE a.def_id = b.def_id
                                    AND a.backup_server_id = %(srv)s
                                    AND a.finished < now() - b.retention_period
                                    AND a.local_deleted_at IS NULL
                                  LIMIT 1) x   -- LIMIT: one index probe per definition
        ), top AS (
            SELECT t.*, d.retention_period, d.retention_redundancy,
                   row_number() OVER (PARTITION BY d.def_id
                                      ORDER BY t.finished DESC NULLS LAST, t.bck_id DESC) AS succeeded_rank
              FROM defs d
             CROSS JOIN LATERAL (
                SELECT u.*
                  FROM ((SELECT g.bck_id, g.def_id, g.pgsql_node_id, g.dbname, g.finished, g.execution_status
                           FROM backup_catalog g
                          WHERE g.def_id = d.def_id AND g.execution_status = 'SUCCEEDED'
                            AND g.finished IS NOT NULL
                          ORDER BY g.finished DESC, g.bck_id DESC LIMIT d.keep)
                        UNION ALL
                        (SELECT g.bck_id, g.def_id, g.pgsql_node_id, g.dbname, g.finished, g.execution_status
                           FROM backup_catalog g
                          WHERE g.def_id = d.def_id AND g.execution_status = 'SUCCEEDED'
                            AND g.finished IS NULL
                          ORDER BY g.bck_id DESC LIMIT d.keep)) u
                 ORDER BY u.finished DESC NULLS LAST, u.bck_id DESC
                 LIMIT d.keep) t
        ), old AS (
            SELECT o.*, d.retention_period, d.retention_redundancy
              FROM defs d
             CROSS JOIN LATERAL (
                SELECT a.bck_id, a.def_id, a.pgsql_node_id, a.dbname, a.finished, a.execution_status
                  FROM backup_catalog a
                 WHERE a.def_id = d.def_id
                   AND a.backup_server_id = %(srv)s
                   AND a.finished < now() - d.retention_period
                   -- local files gone, offsite copy kept: offsite retention's business
                   AND a.local_deleted_at IS NULL
                OFFSET 0) o   -- not flattened: one index range scan per definition
        )
        SELECT coalesce(old.bck_id, top.bck_id) AS bck_id,
               coalesce(old.def_id, top.def_id) AS def_id,
               coalesce(old.pgsql_node_id, top.pgsql_node_id) AS pgsql_node_id,
               coalesce(old.dbname, top.dbname) AS dbname,
               coalesce(old.finished, top.finished) AS finished,
               coalesce(old.execution_status, top.execution_status) AS execution_status,
               coalesce(old.retention_period, top.retention_period) AS retention_period,
               coalesce(old.retention_redundancy, top.retention_redundancy) AS retention_redundancy,
               top.succeeded_rank
          FROM old
          FULL JOIN top ON top.bck_id = old.bck_id
         ORDER BY 2, 5, 1
        """
    )
    with cat.transaction():
        # The row estimates of the LATERAL steps are far too high, which would make the
        # planner JIT-compile this ~50 ms query for ~400 ms.
        cat.execute("SET LOCAL jit = off")
        return cat.query(q, {"srv": srv_id})


def backup_files(cat: Catalog, bck_id: int) -> Row | None:
    """The file columns of one catalog row (read only for rows about to be deleted, so that
    a catch-up pass over a huge catalog does not hold every path in memory)."""
    q = sql.SQL("SELECT {files} FROM backup_catalog a WHERE a.bck_id = %s").format(
        files=_FILES_SQL
    )
    return cat.query_one(q, (bck_id,))


def retention_view_ids(cat: Catalog, srv_id: int) -> set[int]:
    """bck_ids the schema's retention view lists (cross-checked against core in tests)."""
    rows = cat.query(
        "SELECT bck_id FROM get_cron_catalog_entries_to_delete_by_retention "
        "WHERE backup_server_id = %s",
        (srv_id,),
    )
    return {int(r["bck_id"]) for r in rows}


def delete_backup_row(cat: Catalog, bck_id: int) -> None:
    """Delete one catalog row (cascades to its restore definitions/catalogs and alerts)."""
    cat.call("delete_backup_catalog", bck_id)


# -- task 3: snapshot retention -------------------------------------------------------
def expired_snapshot_rows(cat: Catalog, srv_id: int) -> list[Row]:
    q = sql.SQL(
        """
        SELECT a.bck_id, a.snapshot_id, a.pgsql_node_id, a.dbname, a.finished,
               a.retention_period, a.snapshot_fully_expired, {files}
          FROM get_at_catalog_entries_to_delete_by_retention a
         WHERE a.backup_server_id = %s
         ORDER BY a.snapshot_id, a.bck_id
        """
    ).format(files=_FILES_SQL)
    return cat.query(q, (srv_id,))


def finished_snapshot_definitions(cat: Catalog, srv_id: int) -> list[Row]:
    """Snapshot definitions of this server that are over: no catalog row left, handed to at
    (not WAITING) and their at_time is more than their retention period in the past."""
    return cat.query(
        """
        SELECT s.snapshot_id, s.status, s.at_time, s.retention_period, s.dbname
          FROM snapshot_definition s
         WHERE s.backup_server_id = %s
           AND s.status <> 'WAITING'
           AND s.at_time < now() - s.retention_period
           AND NOT EXISTS (SELECT 1 FROM backup_catalog c WHERE c.snapshot_id = s.snapshot_id)
         ORDER BY s.snapshot_id
        """,
        (srv_id,),
    )


def delete_snapshot_definition(cat: Catalog, snapshot_id: int) -> None:
    cat.call("delete_snapshot_definition", snapshot_id)


# -- task 4: restore logs -------------------------------------------------------------
def restore_logs_to_delete(cat: Catalog, srv_id: int) -> list[Row]:
    return cat.query(
        "SELECT del_id, restore_log_file FROM get_restore_logs_to_delete "
        "WHERE backup_server_id = %s ORDER BY del_id",
        (srv_id,),
    )


def delete_restore_log_entry(cat: Catalog, del_id: int) -> None:
    cat.call("delete_restore_logs_to_delete", del_id)


# -- task 6: definitions of dropped databases ------------------------------------------
def nodes_with_database_definitions(cat: Catalog, srv_id: int) -> list[Row]:
    """RUNNING nodes having live (not DELETED) per-database definitions on this server."""
    return cat.query(
        """
        SELECT n.node_id, n.hostname, n.domain_name, n.pgport, n.admin_user
          FROM pgsql_node n
         WHERE n.status = 'RUNNING'
           AND EXISTS (SELECT 1 FROM backup_definition d
                        WHERE d.pgsql_node_id = n.node_id
                          AND d.backup_server_id = %s
                          AND d.job_status <> 'DELETED'
                          AND d.dbname <> '')
         ORDER BY n.node_id
        """,
        (srv_id,),
    )


def database_definitions(cat: Catalog, srv_id: int, node_id: int) -> list[Row]:
    """Live per-database definitions of one node on this server (CLUSTER ones excluded)."""
    return cat.query(
        """
        SELECT def_id, dbname, backup_code, job_status
          FROM backup_definition
         WHERE backup_server_id = %s AND pgsql_node_id = %s
           AND job_status <> 'DELETED' AND dbname <> ''
         ORDER BY def_id
        """,
        (srv_id, node_id),
    )


def mark_definition_deleted(cat: Catalog, def_id: int) -> None:
    """Status DELETED (the schema stamps deleted_at: the start of the quarantine)."""
    cat.call("update_backup_definition_status_to_delete", def_id)


def deleted_definitions_past_quarantine(cat: Catalog, srv_id: int) -> list[Row]:
    """This server's DELETED definitions whose node's automatic_deletion_retention is over."""
    return cat.query(
        "SELECT def_id, pgsql_node_id, dbname, deleted_at, automatic_deletion_retention "
        "FROM get_deleted_backup_definitions_to_delete_by_retention "
        "WHERE backup_server_id = %s ORDER BY def_id",
        (srv_id,),
    )


def force_delete_definition(cat: Catalog, def_id: int) -> None:
    """Catalog rows -> catalog_entries_to_delete (files go in task 1), then the definition."""
    cat.call("delete_force_backup_definition_id", def_id)


def row_files(row: Row | dict[str, Any]) -> list[str]:
    """The non-empty file paths recorded in a catalog-like row, in column order."""
    out = []
    for c in FILE_COLUMNS:
        v = row.get(c)
        # Upstream recorded a missing file as the literal 'None'.
        if v and v != "None":
            out.append(str(v))
    return out
