"""The tasks of a maintenance pass, in the order they run.

Each task handles its items one by one: a bad file, row or node is reported in the pass report
and the task goes on with the next item. Only a lost catalog (CatalogUnavailableError) leaves
a task early, because nothing else can work either; the runner reconnects. Files are always
deleted before their catalog row, so a crash in between leaves a row whose files are gone,
which the next pass deletes (missing files are not an error).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import groupby

from pgbackman.catalog import jobs
from pgbackman.catalog import maintenance as mcat
from pgbackman.pgnode import connection as pgnode
from pgbackman.catalog.connection import Catalog, Row
from pgbackman.core.retention import RunRow, expired_backups, snapshot_row_expired
from pgbackman.errors import (
    CatalogUnavailableError,
    LockBusyError,
    NodeUnavailableError,
    PgBackManError,
    UnsafePathError,
)
from pgbackman.infra import spool
from pgbackman.maintenance.files import Deleter, already_gone, job_lock, lock_path
from pgbackman.maintenance.report import PassReport, Printer
from pgbackman.maintenance.stale import STALE, stale_definitions

log = logging.getLogger("pgbackman_maintenance")

FORCED = "forced-deletions"
RETENTION = "backup-retention"
SNAPSHOTS = "snapshot-retention"
RESTORE_LOGS = "restore-logs"
PENDING = "pending-results"
DROPPED = "dropped-databases"


@dataclass
class PassContext:
    """Everything the tasks of one pass share."""

    cat: Catalog
    server_id: int
    root: str  # root_backup_partition (pending_updates/ lives here)
    partitions: dict[int, str]  # node_id -> pgnode_backup_partition
    deleter: Deleter
    now: datetime  # catalog clock
    dry_run: bool
    out: Printer
    should_stop: Callable[[], bool] = lambda: False
    force_deleted: list[int] = field(default_factory=list)

    def would(self, report: PassReport, line: str) -> None:
        report.would.append(line)
        self.out(line)

    def would_delete(
        self, report: PassReport, what: str, reason: str, files: list[str]
    ) -> None:
        """Dry-run line for one row; paths the real pass would refuse are said so."""
        refused = []
        for f in files:
            if already_gone(f):
                continue  # the real pass skips it too (nothing to delete)
            try:
                self.deleter.check(f)
            except UnsafePathError as exc:
                refused.append(str(exc))
        if refused:
            self.would(report, f"WOULD REFUSE {what}: {'; '.join(refused)}")
        else:
            self.would(report, f"WOULD DELETE {what}: {reason}: {_files_text(files)}")


def _files_text(files: list[str]) -> str:
    return ", ".join(files) if files else "no files"


def _partition_holding_lock(ctx: PassContext, def_id: int | None) -> str | None:
    """For rows whose node is unknown (forced deletions): the partition whose lock file for
    this definition exists, i.e. where a dump of it may still be running."""
    if def_id is None:
        return None
    for part in ctx.partitions.values():
        if lock_path(part, def_id=def_id).exists():
            return part
    return None


def _delete_row_files(
    ctx: PassContext,
    report: PassReport,
    task: str,
    what: str,
    files: list[str],
    drop_row: Callable[[], None],
    *,
    partition: str | None,
    def_id: int | None = None,
    snapshot_id: int | None = None,
) -> str:
    """Files first (under the job lock), then the catalog row.

    Returns "deleted", "busy" (job lock held: retried next pass) or "error" (reported)."""
    stats = report.task(task)
    try:
        with job_lock(
            partition, def_id=def_id, snapshot_id=snapshot_id, dry_run=ctx.dry_run
        ):
            removed, errors = ctx.deleter.remove_all(files)
            if errors:
                for e in errors:
                    report.error(task, f"{what}: {e}")
                return "error"
            stats.files += removed
            drop_row()
    except LockBusyError:
        stats.skipped += 1
        log.warning(
            "[%s] %s: job is running (lock held); skipped until the next pass",
            task,
            what,
        )
        return "busy"
    except CatalogUnavailableError:
        raise
    except PgBackManError as exc:
        report.error(task, f"{what}: {exc}")
        return "error"
    stats.deleted += 1
    log.info("[%s] deleted %s (%s)", task, what, _files_text(files))
    return "deleted"


# -- 1 ---------------------------------------------------------------------------------
def forced_deletions(ctx: PassContext, report: PassReport) -> None:
    """Files of catalog rows removed by a forced definition deletion, then the queue row."""
    report.task(FORCED)
    for row in mcat.forced_deletes(ctx.cat, ctx.server_id):
        if ctx.should_stop():
            return
        files = mcat.row_files(row)
        what = f"forced-deleted backup bck_id={row['bck_id']} def_id={row['def_id']}"
        if ctx.dry_run:
            ctx.would_delete(report, what, "its definition was force-deleted", files)
            continue
        def_id = row["def_id"]
        _delete_row_files(
            ctx,
            report,
            FORCED,
            what,
            files,
            partial(mcat.delete_forced_entry, ctx.cat, int(row["del_id"])),
            partition=_partition_holding_lock(ctx, def_id),
            def_id=def_id,
        )


# -- 2 ---------------------------------------------------------------------------------
def backup_retention(ctx: PassContext, report: PassReport) -> None:
    """Expired cron dumps (core.retention decides), files then catalog row."""
    report.task(RETENTION)
    rows = mcat.retention_candidates(ctx.cat, ctx.server_id)
    for def_id, group in groupby(rows, key=lambda r: r["def_id"]):
        if ctx.should_stop():
            return
        history = list(group)
        by_id = {int(r["bck_id"]): r for r in history}
        first = history[0]
        decisions = expired_backups(
            [
                RunRow(int(r["bck_id"]), r["finished"], str(r["execution_status"]))
                for r in history
            ],
            first["retention_period"],
            first["retention_redundancy"],
            ctx.now,
        )
        partition = ctx.partitions.get(int(first["pgsql_node_id"]))
        for d in decisions:
            row = by_id[d.bck_id]
            file_row = mcat.backup_files(ctx.cat, d.bck_id)
            if file_row is None:
                continue  # deleted meanwhile (shell, another pass): nothing to do
            files = mcat.row_files(file_row)
            what = (
                f"backup bck_id={d.bck_id} def_id={def_id} ({row['execution_status']})"
            )
            if ctx.dry_run:
                ctx.would_delete(report, what, d.reason, files)
                continue
            outcome = _delete_row_files(
                ctx,
                report,
                RETENTION,
                what,
                files,
                partial(mcat.delete_backup_row, ctx.cat, d.bck_id),
                partition=partition,
                def_id=int(def_id),
            )
            if outcome == "busy":
                # Busy definition: leave the rest of it for the next pass too.
                break


# -- 3 ---------------------------------------------------------------------------------
def snapshot_retention(ctx: PassContext, report: PassReport) -> None:
    """Expired snapshot dumps, then snapshot definitions that are over."""
    report.task(SNAPSHOTS)
    fully_expired: set[int] = set()
    for row in mcat.expired_snapshot_rows(ctx.cat, ctx.server_id):
        if ctx.should_stop():
            return
        # The view already filters by age; re-check with the same pure rule as a guard.
        if not snapshot_row_expired(row["finished"], row["retention_period"], ctx.now):
            continue
        files = mcat.row_files(row)
        sid = int(row["snapshot_id"])
        what = f"snapshot backup bck_id={row['bck_id']} snapshot_id={sid}"
        if ctx.dry_run:
            ctx.would_delete(
                report,
                what,
                f"older than its retention period {row['retention_period']}",
                files,
            )
            if row["snapshot_fully_expired"]:
                fully_expired.add(sid)
            continue
        _delete_row_files(
            ctx,
            report,
            SNAPSHOTS,
            what,
            files,
            partial(mcat.delete_backup_row, ctx.cat, int(row["bck_id"])),
            partition=ctx.partitions.get(int(row["pgsql_node_id"])),
            snapshot_id=sid,
        )
    for snap in mcat.finished_snapshot_definitions(ctx.cat, ctx.server_id):
        fully_expired.discard(int(snap["snapshot_id"]))
        what = (
            f"snapshot definition snapshot_id={snap['snapshot_id']} ({snap['status']})"
        )
        if ctx.dry_run:
            ctx.would(
                report,
                f"WOULD DELETE {what}: no dumps left and past its retention period",
            )
            continue
        try:
            mcat.delete_snapshot_definition(ctx.cat, int(snap["snapshot_id"]))
            report.task(SNAPSHOTS).deleted += 1
            log.info("[%s] deleted %s", SNAPSHOTS, what)
        except CatalogUnavailableError:
            raise
        except PgBackManError as exc:
            report.error(SNAPSHOTS, f"{what}: {exc}")
    for sid in sorted(fully_expired):  # dry run only
        ctx.would(
            report,
            f"WOULD DELETE snapshot definition snapshot_id={sid}: "
            "all its dumps expire in this pass",
        )


# -- 4 ---------------------------------------------------------------------------------
def restore_logs(ctx: PassContext, report: PassReport) -> None:
    """Log files of restore catalog rows that were deleted, then the queue row."""
    report.task(RESTORE_LOGS)
    for row in mcat.restore_logs_to_delete(ctx.cat, ctx.server_id):
        if ctx.should_stop():
            return
        files = [row["restore_log_file"]] if row["restore_log_file"] else []
        what = f"restore log del_id={row['del_id']}"
        if ctx.dry_run:
            ctx.would_delete(report, what, "its restore catalog row was deleted", files)
            continue
        _delete_row_files(
            ctx,
            report,
            RESTORE_LOGS,
            what,
            files,
            partial(mcat.delete_restore_log_entry, ctx.cat, int(row["del_id"])),
            partition=None,
        )


# -- 5 ---------------------------------------------------------------------------------
def pending_results(ctx: PassContext, report: PassReport) -> None:
    """Results spooled while the catalog was down: ingested exactly once (catalog/jobs.py)."""
    stats = report.task(PENDING)
    if ctx.dry_run:
        for kind in spool.KINDS:
            for path, record in spool.iter_pending(ctx.root, kind):
                state = "" if record is not None else " (unreadable: would be reported)"
                ctx.would(report, f"WOULD INGEST pending {kind} result {path}{state}")
        return
    ingested, failed = jobs.ingest_pending(ctx.cat, ctx.root)
    stats.deleted += ingested
    if failed:
        report.error(PENDING, f"{failed} pending result file(s) could not be ingested")
    legacy = spool.legacy_pending(ctx.root)
    if legacy:
        report.error(
            PENDING,
            f"{len(legacy)} pending result file(s) of PgBackMan 1.x in "
            f"{legacy[0].parent} (e.g. {legacy[0].name}) cannot be ingested by this "
            "version: the backups and restores they describe are not in the catalog "
            "(manual: Migrating from PgBackMan 1.x, pending results)",
        )


# -- 6 ---------------------------------------------------------------------------------
def _node_target(node: Row) -> pgnode.NodeTarget:
    return pgnode.NodeTarget(
        fqdn=f"{node['hostname']}.{node['domain_name']}",
        port=int(node["pgport"]),
        admin_user=str(node["admin_user"]),
        node_id=int(node["node_id"]),
    )


def dropped_databases(ctx: PassContext, report: PassReport) -> None:
    """Definitions whose database is gone become DELETED; after the node's
    automatic_deletion_retention (counted from deleted_at) they are force-deleted."""
    stats = report.task(DROPPED)
    for node in mcat.nodes_with_database_definitions(ctx.cat, ctx.server_id):
        if ctx.should_stop():
            return
        target = _node_target(node)
        defs = mcat.database_definitions(ctx.cat, ctx.server_id, int(node["node_id"]))
        try:
            with pgnode.session(
                target, application_name="pgbackman_maintenance"
            ) as conn:
                missing = [
                    d for d in defs if not pgnode.database_exists(conn, d["dbname"])
                ]
        except NodeUnavailableError as exc:
            # One unreachable node must not stop the check of the others.
            report.error(DROPPED, f"node {node['node_id']} ({target}): {exc}")
            continue
        for d in missing:
            what = (
                f"backup definition def_id={d['def_id']} "
                f"(database {d['dbname']!r} on node {target})"
            )
            if ctx.dry_run:
                ctx.would(
                    report, f"WOULD MARK DELETED {what}: database not found on the node"
                )
                continue
            try:
                mcat.mark_definition_deleted(ctx.cat, int(d["def_id"]))
                stats.deleted += 1
                log.warning(
                    "[%s] %s: database not found; status set to DELETED", DROPPED, what
                )
            except CatalogUnavailableError:
                raise
            except PgBackManError as exc:
                report.error(DROPPED, f"{what}: {exc}")

    for d in mcat.deleted_definitions_past_quarantine(ctx.cat, ctx.server_id):
        if ctx.should_stop():
            return
        what = (
            f"DELETED backup definition def_id={d['def_id']} (database {d['dbname']!r})"
        )
        reason = (
            f"DELETED since {d['deleted_at']}, past automatic_deletion_retention "
            f"{d['automatic_deletion_retention']}"
        )
        if ctx.dry_run:
            ctx.would(report, f"WOULD FORCE-DELETE {what}: {reason}")
            continue
        try:
            mcat.force_delete_definition(ctx.cat, int(d["def_id"]))
            ctx.force_deleted.append(int(d["def_id"]))
            stats.deleted += 1
            log.warning("[%s] force-deleted %s: %s", DROPPED, what, reason)
        except CatalogUnavailableError:
            raise
        except PgBackManError as exc:
            report.error(DROPPED, f"{what}: {exc}")


TASKS: list[tuple[str, Callable[[PassContext, PassReport], None]]] = [
    (FORCED, forced_deletions),
    (RETENTION, backup_retention),
    (SNAPSHOTS, snapshot_retention),
    (RESTORE_LOGS, restore_logs),
    (PENDING, pending_results),
    (DROPPED, dropped_databases),
    (STALE, stale_definitions),
]
