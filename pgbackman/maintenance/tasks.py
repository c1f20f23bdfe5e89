"""The tasks of a maintenance pass, in the order they run.

Each task handles its items one by one: a bad file, row, definition or node is reported in
the pass report and the task goes on with the next item. Only a lost catalog
(CatalogUnavailableError) leaves a task early, because nothing else can work either; the
runner reconnects. Files are always deleted before their catalog row, so a crash in between
leaves a row whose files are gone, which the next pass deletes (missing files are not an
error). A path is deleted only when it is exactly what was written for its row
(:mod:`pgbackman.maintenance.files`); a refused row keeps all of its files, is reported as an
error and raises one ``Config-refused`` alert.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import partial
from itertools import groupby
from pathlib import Path

from pgbackman.catalog import alerts, jobs
from pgbackman.catalog import maintenance as mcat
from pgbackman.catalog.connection import Row
from pgbackman.core.retention import (
    Decision,
    quarantine_over,
    snapshot_row_expired,
)
from pgbackman.errors import (
    CatalogUnavailableError,
    NodeUnavailableError,
    PgBackManError,
    UnsafePathError,
)
from pgbackman.infra import spool
from pgbackman.maintenance.files import (
    already_gone,
)
from pgbackman.maintenance.deleting import (
    BATCH,
    PassContext,
    as_int,
    backup_item,
    delete_backups,
    delete_row_files,
    drop_backup_rows,
    one_by_one,
    files_text,
    partition_holding_lock,
    refused,
)
from pgbackman.maintenance.report import PassReport
from pgbackman.maintenance.retention import RETENTION, decide_many
from pgbackman.maintenance.stale import STALE, stale_definitions
from pgbackman.pgnode import connection as pgnode

log = logging.getLogger("pgbackman_maintenance")

FORCED = "forced-deletions"
SNAPSHOTS = "snapshot-retention"
RESTORE_LOGS = "restore-logs"
PENDING = "pending-results"
DROPPED = "dropped-databases"


# -- 1 ---------------------------------------------------------------------------------
def forced_deletions(ctx: PassContext, report: PassReport) -> None:
    """Files of catalog rows removed by a forced definition deletion, then the queue row;
    a batch at a time (one path check for all, each job's lock taken once)."""
    report.task(FORCED)
    rows = mcat.forced_deletes(ctx.cat, ctx.server_id)
    for start in range(0, len(rows), BATCH):
        if ctx.should_stop():
            return
        items = [
            backup_item(
                ctx,
                row,
                f"forced-deleted backup bck_id={row['bck_id']} def_id={row['def_id']}",
                "its definition was force-deleted",
                f"refused:del:{row['del_id']}",
                partition=ctx.partition(row.get("pgsql_node_id"))
                or partition_holding_lock(ctx, row["def_id"]),
            )
            for row in rows[start : start + BATCH]
        ]
        delete_backups(
            ctx,
            report,
            FORCED,
            items,
            one_by_one(
                lambda i: mcat.delete_forced_entry(ctx.cat, int(i.row["del_id"]))
            ),
        )


# -- 2 ---------------------------------------------------------------------------------
def backup_retention(ctx: PassContext, report: PassReport) -> None:
    """Expired cron dumps (core.retention decides on verified facts), files then row. One
    definition that fails is reported and never stops the others. The decisions of
    several definitions are carried out together, a batch of rows at a time
    (:func:`_delete_expired`): one read of their rows, one path check, one catalog call."""
    report.task(RETENTION)
    _report_refused_intervals(ctx, report)
    rows = mcat.retention_candidates(ctx.cat, ctx.server_id)
    defs = [(int(d), list(g)) for d, g in groupby(rows, key=lambda r: r["def_id"])]
    for start in range(0, len(defs), BATCH):
        if ctx.should_stop():
            return
        decisions = decide_many(ctx, report, defs[start : start + BATCH])
        for at in range(0, len(decisions), BATCH):
            if ctx.should_stop():
                return
            _delete_expired(ctx, report, decisions[at : at + BATCH])


_INTERVAL_EPISODE = re.compile(
    r"config:(def|snapshot|node):[0-9]+:(retention_period|automatic_deletion_retention)"
)
_INTERVAL_SCOPES = {
    "backup definition": "def",
    "snapshot definition": "snapshot",
    "PgSQL node": "node",
}


def _report_refused_intervals(ctx: PassContext, report: PassReport) -> None:
    """Intervals out of the sane range expire nothing (retention_cutoff): say so, with one
    alert per episode; an episode ends once the value is fixed."""
    open_keys = {
        k
        for k in alerts.open_episodes(ctx.cat, ctx.server_id, "config:")
        if _INTERVAL_EPISODE.fullmatch(k)
    }
    for r in mcat.refused_intervals(ctx.cat, ctx.server_id):
        what = f"{r['what']} {r['id']}"
        key = f"config:{_INTERVAL_SCOPES[r['what']]}:{r['id']}:{r['parameter']}"
        open_keys.discard(key)
        message = (
            f"{r['parameter']} value {r['value']!r} of {what} refused: not an interval of "
            "more than 0 and at most 100 years; nothing of it expires"
        )
        report.warning(RETENTION, message)
        if ctx.dry_run:
            continue
        alerts.raise_or_spool(
            ctx.cat,
            ctx.root,
            alerts.Alert(
                alert_type=alerts.CONFIG_REFUSED,
                server_id=ctx.server_id,
                node_id=as_int(r["node_id"]),
                message=f"pgbackman_maintenance: {message}",
                episode_key=key,
            ),
        )
    if not ctx.dry_run:
        for key in sorted(open_keys):  # fixed since
            alerts.end_episode(ctx.cat, key)


def _delete_expired(
    ctx: PassContext, report: PassReport, batch: list[tuple[int, Decision]]
) -> None:
    """Carry out retention's decisions (of several definitions): their rows read in one
    query, then checked, their files deleted and their rows dropped together."""
    rows = mcat.backup_rows(ctx.cat, [d.bck_id for _def_id, d in batch])
    items = []
    for def_id, d in batch:
        row = rows.get(d.bck_id)
        if row is None:
            continue  # deleted meanwhile (shell, another pass): nothing to do
        if int(row["backup_server_id"]) != ctx.server_id:
            continue  # another server's row: never deleted here
        what = f"backup bck_id={d.bck_id} def_id={def_id} ({row['execution_status']})"
        items.append(backup_item(ctx, row, what, d.reason, f"refused:bck:{d.bck_id}"))
    delete_backups(ctx, report, RETENTION, items, drop_backup_rows(ctx))


# -- 3 ---------------------------------------------------------------------------------
def snapshot_retention(ctx: PassContext, report: PassReport) -> None:
    """Expired snapshot dumps, then snapshot definitions that are over."""
    report.task(SNAPSHOTS)
    fully_expired: set[int] = set()
    expired = [
        row
        for row in mcat.expired_snapshot_rows(ctx.cat, ctx.server_id)
        # The query already filters by age; re-check with the same pure rule as a guard.
        if snapshot_row_expired(row["finished"], row["retention_period"], ctx.now)
    ]
    for start in range(0, len(expired), BATCH):
        if ctx.should_stop():
            return
        chunk = expired[start : start + BATCH]
        full = mcat.backup_rows(ctx.cat, [int(r["bck_id"]) for r in chunk])
        items = [
            backup_item(
                ctx,
                full[int(row["bck_id"])],
                f"snapshot backup bck_id={row['bck_id']} snapshot_id={row['snapshot_id']}",
                f"older than its retention period {row['retention_period']}",
                f"refused:bck:{row['bck_id']}",
            )
            for row in chunk
            if int(row["bck_id"]) in full
        ]
        delete_backups(ctx, report, SNAPSHOTS, items, drop_backup_rows(ctx))
        if ctx.dry_run:
            fully_expired.update(
                int(r["snapshot_id"]) for r in chunk if r["snapshot_fully_expired"]
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
        what = f"restore log del_id={row['del_id']}"
        path = str(row["restore_log_file"] or "")
        paths: list[Path] = []
        # A log another restore row still names stays: only the queue row goes.
        if path and not already_gone(path) and not row["in_use"]:
            try:
                paths = [
                    ctx.deleter.restore_log_path(
                        path,
                        as_int(row["restore_def"]),
                        as_int(row["target_pgsql_node_id"]),
                        str(row["target_dbname"] or ""),
                        str(row["restore_job"] or "restoredef"),
                    )
                ]
            except UnsafePathError as exc:
                if ctx.dry_run:
                    ctx.would(report, f"WOULD REFUSE {what}: {exc}")
                else:
                    refused(
                        ctx,
                        report,
                        RESTORE_LOGS,
                        what,
                        str(exc),
                        f"refused:restorelog:{row['del_id']}",
                        row,
                    )
                continue
        if ctx.dry_run:
            ctx.would(
                report,
                f"WOULD DELETE {what}: its restore catalog row was deleted: "
                f"{files_text(paths)}",
            )
            continue
        delete_row_files(
            ctx,
            report,
            RESTORE_LOGS,
            what,
            paths,
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
    automatic_deletion_retention (counted from deleted_at) they are purged."""
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
            # In a fleet one node is always down: report it, check the others, and keep
            # the exit status for failures of maintenance's own work.
            report.warning(
                DROPPED,
                f"node {node['node_id']} ({target}) not reachable, its databases were "
                f"not checked: {exc}",
            )
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
        if not quarantine_over(
            d["deleted_at"], d["automatic_deletion_retention"], ctx.now
        ):
            continue
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
            mcat.purge_deleted_definition(ctx.cat, int(d["def_id"]))
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
