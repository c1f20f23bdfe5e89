"""What pgbackman_maintenance asks of the catalog (and the only SQL it runs).

Every read is one set-based statement per backup server (fleet scale: 10 000 definitions,
1 000 000 catalog rows); writes go through the schema's functions. Retention *decisions* are
not taken here: :func:`retention_candidates` returns, per definition, just the rows that can
matter (see :mod:`pgbackman.core.retention`) and Python decides. Ages are measured with the
schema's ``retention_cutoff()``, which cannot overflow: a definition, snapshot or node whose
period is out of range (forged, hand-edited) expires nothing and stops nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class NodeDirs:
    """What the catalog says about a node's files: its partition and its FQDN (file names)."""

    partition: str
    fqdn: str


def now(cat: Catalog) -> datetime:
    """The catalog's clock: every age is measured against it, never the local clock."""
    value: datetime = cat.scalar("SELECT now() AS now")
    return value


def server_root(cat: Catalog, srv_id: int) -> str:
    """The backup server's root_backup_partition in the catalog (pending_updates/ is there)."""
    return str(
        cat.call("get_backup_server_config_value", srv_id, "root_backup_partition")
    )


def node_dirs(cat: Catalog) -> dict[int, NodeDirs]:
    """node_id -> (pgnode_backup_partition, FQDN) of every node: where its dumps and locks
    live, and the FQDN its file names carry."""
    rows = cat.query(
        "SELECT n.node_id, n.hostname || '.' || n.domain_name AS fqdn, c.value AS partition"
        "  FROM pgsql_node n"
        "  JOIN pgsql_node_config c"
        "    ON c.node_id = n.node_id AND c.parameter = 'pgnode_backup_partition'"
    )
    return {
        int(r["node_id"]): NodeDirs(str(r["partition"]), str(r["fqdn"])) for r in rows
    }


# -- task 1: files of forced deletions ---------------------------------------------------
def forced_deletes(cat: Catalog, srv_id: int) -> list[Row]:
    """Rows of force-deleted definitions whose files are still to go, with their identity."""
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
    SUCCEEDED rows recorded INTACT (those retention may rely on, after checking them again):
    core.retention gives the same answer on that partial history as on the full one, or
    keeps more when one of them turns out not to be intact (that is recorded, and the next
    pass reads the next ones).

    The newest rows are read on every backup server (after move_backup_definition the old
    server keeps expiring the dumps it holds once the new server has newer intact ones);
    only this server's rows are deleted. ``backup_server_id`` and ``integrity`` say whether
    a row can be checked here or must be taken as recorded.
    """
    # Index-driven (bench/RESULTS.md): one probe per definition finds those with an expired
    # row, then per definition only its expired rows (index on def_id, finished) and its
    # max(redundancy, 1) newest intact rows (partial index, LIMIT); never a scan of the
    # whole catalog.
    q = sql.SQL(
        """
        WITH defs AS (
            SELECT b.def_id, b.retention_period, b.retention_redundancy,
                   greatest(b.retention_redundancy, 1) AS keep, c.cutoff
              FROM backup_definition b
             CROSS JOIN LATERAL (SELECT retention_cutoff(b.retention_period) AS cutoff) c
             CROSS JOIN LATERAL (SELECT 1 FROM backup_catalog a
                                  WHERE a.def_id = b.def_id
                                    AND a.backup_server_id = %(srv)s
                                    AND a.finished < c.cutoff
                                    AND a.local_deleted_at IS NULL
                                  LIMIT 1) x   -- LIMIT: one index probe per definition
        ), top AS (
            SELECT t.*, d.retention_period, d.retention_redundancy
              FROM defs d
             CROSS JOIN LATERAL (
                SELECT g.bck_id, g.def_id, g.pgsql_node_id, g.dbname, g.finished,
                       g.execution_status, g.integrity, g.backup_server_id
                  FROM backup_catalog g
                 WHERE g.def_id = d.def_id AND g.execution_status = 'SUCCEEDED'
                   AND g.finished IS NOT NULL AND g.integrity = 'INTACT'
                   AND g.local_deleted_at IS NULL
                 ORDER BY g.finished DESC, g.bck_id DESC
                 LIMIT d.keep) t
        ), old AS (
            SELECT o.*, d.retention_period, d.retention_redundancy
              FROM defs d
             CROSS JOIN LATERAL (
                SELECT a.bck_id, a.def_id, a.pgsql_node_id, a.dbname, a.finished,
                       a.execution_status, a.integrity, a.backup_server_id
                  FROM backup_catalog a
                 WHERE a.def_id = d.def_id
                   AND a.backup_server_id = %(srv)s
                   AND a.finished < d.cutoff
                   -- local files gone, offsite copy kept: offsite retention's business
                   AND a.local_deleted_at IS NULL
                OFFSET 0) o   -- not flattened: one index range scan per definition
        )
        SELECT * FROM old
        UNION
        SELECT * FROM top
        ORDER BY 2, 5, 1
        """
    )
    with cat.transaction():
        # The row estimates of the LATERAL steps are far too high, which would make the
        # planner JIT-compile this ~50 ms query for ~400 ms.
        cat.execute("SET LOCAL jit = off")
        return cat.query(q, {"srv": srv_id})


def refused_intervals(cat: Catalog, srv_id: int) -> list[Row]:
    """Retention intervals this server's retention cannot use (outside the sane range of
    retention_interval_ok(): forged, or from before the range existed): they expire
    nothing, and are reported."""
    return cat.query(
        """
        SELECT 'backup definition' AS what, def_id AS id, pgsql_node_id AS node_id,
               'retention_period' AS parameter, retention_period::text AS value
          FROM backup_definition
         WHERE backup_server_id = %(srv)s AND NOT retention_interval_ok(retention_period)
        UNION ALL
        SELECT 'snapshot definition', snapshot_id, pgsql_node_id, 'retention_period',
               retention_period::text
          FROM snapshot_definition
         WHERE backup_server_id = %(srv)s AND NOT retention_interval_ok(retention_period)
        UNION ALL
        SELECT 'PgSQL node', c.node_id, c.node_id, c.parameter, c.value
          FROM pgsql_node_config c
         WHERE c.parameter IN ('retention_period', 'automatic_deletion_retention')
           AND NOT retention_interval_ok(safe_interval(c.value))
           AND EXISTS (SELECT 1 FROM backup_definition d
                        WHERE d.pgsql_node_id = c.node_id AND d.backup_server_id = %(srv)s)
        ORDER BY 1, 2, 4
        """,
        {"srv": srv_id},
    )


_BACKUP_SQL = sql.SQL(
    "SELECT a.bck_id, a.def_id, a.snapshot_id, a.pgsql_node_id, a.dbname,"
    " coalesce(a.backup_code, d.backup_code, s.backup_code) AS backup_code,"
    " a.execution_status, a.backup_server_id, a.run_uuid, a.checksum, a.integrity,"
    " a.pg_dump_file_size, a.pg_dump_roles_file_size, a.pg_dump_dbconfig_file_size, {files}"
    "  FROM backup_catalog a"
    "  LEFT JOIN backup_definition d ON d.def_id = a.def_id"
    "  LEFT JOIN snapshot_definition s ON s.snapshot_id = a.snapshot_id"
    " WHERE a.bck_id = ANY(%s)"
).format(files=_FILES_SQL)


def backup_rows(cat: Catalog, bck_ids: Sequence[int]) -> dict[int, Row]:
    """Identity, files, sizes and checksum of catalog rows, in one statement (read only for
    rows about to be deleted or checked, a batch at a time, so a catch-up pass over a huge
    catalog never holds every path). Rows deleted meanwhile are absent."""
    if not bck_ids:
        return {}
    return {
        int(r["bck_id"]): r
        for r in cat.query(_BACKUP_SQL, ([int(b) for b in bck_ids],))
    }


def backup_row(cat: Catalog, bck_id: int) -> Row | None:
    """:func:`backup_rows` of one row."""
    return backup_rows(cat, [bck_id]).get(int(bck_id))


@dataclass(frozen=True)
class PathsOf:
    """The paths a row is about to lose, and who it is (only runs of the same job, a
    definition or a snapshot, have matching names). ``bck_id`` None: a row that is no
    longer in backup_catalog (a forced deletion's queue row)."""

    bck_id: int | None
    def_id: int | None
    snapshot_id: int | None
    paths: tuple[str, ...]


def claimed_elsewhere_many(cat: Catalog, rows: Sequence[PathsOf]) -> list[list[str]]:
    """For each of ``rows``, which of its paths another catalog row of the same job names
    too (sorted), in one statement: such a file is never deleted for that row. Two rows of
    ``rows`` naming the same file claim it from each other."""
    wanted = sorted({p for r in rows for p in r.paths})
    if not wanted:
        return [[] for _ in rows]
    q = sql.SQL(
        "SELECT DISTINCT a.bck_id, a.def_id, a.snapshot_id, p"
        "  FROM backup_catalog a, unnest(ARRAY[{files}]) AS p"
        " WHERE (a.def_id = ANY(%(defs)s) OR a.snapshot_id = ANY(%(snaps)s))"
        "   AND p = ANY(%(paths)s)"
    ).format(files=_FILES_SQL)
    hits = cat.query(
        q,
        {
            "defs": sorted({r.def_id for r in rows if r.def_id is not None}),
            "snaps": sorted({r.snapshot_id for r in rows if r.snapshot_id is not None}),
            "paths": wanted,
        },
    )
    by_path: dict[str, list[Row]] = {}
    for h in hits:
        by_path.setdefault(str(h["p"]), []).append(h)
    out: list[list[str]] = []
    for r in rows:
        claimed = {
            p
            for p in r.paths
            for h in by_path.get(p, ())
            # the same job (NULL matches nothing, as in SQL), another row
            if (
                (r.def_id is not None and h["def_id"] == r.def_id)
                or (r.snapshot_id is not None and h["snapshot_id"] == r.snapshot_id)
            )
            and (r.bck_id is None or int(h["bck_id"]) != r.bck_id)
        }
        out.append(sorted(claimed))
    return out


def record_integrity(cat: Catalog, bck_id: int, state: str, detail: str) -> None:
    """What a check found about one backup's files (backup_catalog.integrity)."""
    cat.call("record_backup_integrity", bck_id, state, detail)


def record_integrity_many(
    cat: Catalog, found: Sequence[tuple[int, str, str]]
) -> dict[int, str | None]:
    """What checks found about many backups' files, (bck_id, state, detail) each, in ONE
    call. Returns bck_id -> None (recorded) or why the catalog refused it (gone, not
    SUCCEEDED, INTACT without checksum...): a refused row stops none of the others."""
    if not found:
        return {}
    rows = cat.call_rows(
        "record_backup_integrity_many",
        [int(b) for b, _s, _d in found],
        [s for _b, s, _d in found],
        [d for _b, _s, d in found],
    )
    return {int(r["bck_id"]): r["refusal"] for r in rows}


def delete_backup_rows(cat: Catalog, bck_ids: Sequence[int]) -> dict[int, str | None]:
    """Delete expired catalog rows in one call (each cascades to its restore definitions
    and alerts; a row with an UPLOADED offsite copy is kept, marked local_deleted_at).
    Returns bck_id -> None (done) or why the catalog refused it (not expired, the newest
    intact one, gone): a refused row stops none of the others."""
    if not bck_ids:
        return {}
    rows = cat.call_rows("delete_backup_catalog_many", [int(b) for b in bck_ids])
    return {int(r["bck_id"]): r["refusal"] for r in rows}


# -- task 3: snapshot retention -------------------------------------------------------
def expired_snapshot_rows(cat: Catalog, srv_id: int) -> list[Row]:
    """This server's snapshot backups older than their snapshot's retention period;
    ``snapshot_fully_expired``: every backup of that snapshot is (for --dry-run)."""
    return cat.query(
        """
        SELECT a.bck_id, a.snapshot_id, a.pgsql_node_id, a.dbname, a.finished,
               b.retention_period,
               NOT EXISTS (SELECT 1 FROM backup_catalog o
                            WHERE o.snapshot_id = a.snapshot_id
                              AND o.local_deleted_at IS NULL
                              AND (o.finished IS NULL
                                   OR o.finished >= retention_cutoff(b.retention_period)))
                 AS snapshot_fully_expired
          FROM backup_catalog a
          JOIN snapshot_definition b ON b.snapshot_id = a.snapshot_id
         WHERE a.backup_server_id = %s
           AND a.finished < retention_cutoff(b.retention_period)
           AND a.local_deleted_at IS NULL  -- files gone, offsite copy kept: offsite retention's
         ORDER BY a.snapshot_id, a.bck_id
        """,
        (srv_id,),
    )


def finished_snapshot_definitions(cat: Catalog, srv_id: int) -> list[Row]:
    """Snapshot definitions of this server that are over: no catalog row left, handed to at
    (not WAITING) and their at_time is more than their retention period in the past."""
    return cat.query(
        """
        SELECT s.snapshot_id, s.status, s.at_time, s.retention_period, s.dbname
          FROM snapshot_definition s
         WHERE s.backup_server_id = %s
           AND s.status <> 'WAITING'
           AND s.at_time < retention_cutoff(s.retention_period)
           AND NOT EXISTS (SELECT 1 FROM backup_catalog c WHERE c.snapshot_id = s.snapshot_id)
         ORDER BY s.snapshot_id
        """,
        (srv_id,),
    )


def delete_snapshot_definition(cat: Catalog, snapshot_id: int) -> None:
    cat.call("delete_snapshot_definition", snapshot_id)


# -- task 4: restore logs -------------------------------------------------------------
def restore_logs_to_delete(cat: Catalog, srv_id: int) -> list[Row]:
    """Logs of deleted restore catalog rows, with the restore's identity; ``in_use`` when a
    restore catalog row still names the same file (PgBackMan 1.x gave every run of a restore
    definition the same log name)."""
    return cat.query(
        "SELECT l.del_id, l.restore_log_file, l.restore_def, l.target_pgsql_node_id,"
        "       l.target_dbname, l.restore_job, EXISTS (SELECT 1 FROM restore_catalog r"
        "                                 WHERE r.restore_log_file = l.restore_log_file) AS in_use"
        "  FROM get_restore_logs_to_delete l WHERE l.backup_server_id = %s ORDER BY l.del_id",
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
    """This server's DELETED definitions whose node's automatic_deletion_retention is over
    (a node whose value is not a sane interval purges nothing)."""
    return cat.query(
        """
        SELECT d.def_id, d.pgsql_node_id, d.dbname, d.deleted_at,
               r.automatic_deletion_retention
          FROM backup_definition d
         CROSS JOIN LATERAL (SELECT deleted_definition_retention(d.pgsql_node_id)
                                    AS automatic_deletion_retention) r
         WHERE d.backup_server_id = %s
           AND d.job_status = 'DELETED'
           AND d.deleted_at < retention_cutoff(r.automatic_deletion_retention)
         ORDER BY d.def_id
        """,
        (srv_id,),
    )


def purge_deleted_definition(cat: Catalog, def_id: int) -> None:
    """End of a dropped database's quarantine: catalog rows -> catalog_entries_to_delete
    (files go in task 1), then the definition. The catalog checks the quarantine again."""
    cat.call("purge_deleted_backup_definition", def_id)


def row_files(row: Row | dict[str, Any]) -> dict[str, str]:
    """column -> path of the files recorded in a catalog-like row, in column order."""
    out: dict[str, str] = {}
    for c in FILE_COLUMNS:
        v = row.get(c)
        # Upstream recorded a missing file as the literal 'None'.
        if v and v != "None":
            out[c] = str(v)
    return out
