"""How a maintenance task deletes a catalog row: check every path, take the job lock, delete
the files, then the row; or refuse, report and alert. Also the context a pass shares.

A path is deleted only when it is exactly what was written for its row
(:mod:`pgbackman.maintenance.files`); a refused row keeps all of its files, is reported as an
error of the pass and raises one ``Config-refused`` alert per episode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pgbackman.catalog import alerts
from pgbackman.catalog import maintenance as mcat
from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.maintenance import NodeDirs
from pgbackman.errors import (
    CatalogUnavailableError,
    LockBusyError,
    PgBackManError,
    UnsafePathError,
)
from pgbackman.maintenance.files import (
    BackupIdentity,
    Deleter,
    already_gone,
    job_lock,
    lock_path,
)
from pgbackman.maintenance.integrity import IntegrityKeeper
from pgbackman.maintenance.report import PassReport, Printer

log = logging.getLogger("pgbackman_maintenance")


@dataclass
class PassContext:
    """Everything the tasks of one pass share."""

    cat: Catalog
    server_id: int
    root: str  # the catalog's root_backup_partition (pending_updates/ lives here)
    nodes: dict[int, NodeDirs]  # node_id -> pgnode_backup_partition, FQDN
    deleter: Deleter
    keeper: IntegrityKeeper
    now: datetime  # catalog clock
    dry_run: bool
    out: Printer
    should_stop: Callable[[], bool] = lambda: False
    force_deleted: list[int] = field(default_factory=list)

    def partition(self, node_id: Any) -> str | None:
        nd = self.nodes.get(int(node_id)) if node_id is not None else None
        return nd.partition if nd else None

    def would(self, report: PassReport, line: str) -> None:
        report.would.append(line)
        self.out(line)


def files_text(files: list[Path] | list[str]) -> str:
    return ", ".join(str(f) for f in files) if files else "no files"


def refused(
    ctx: PassContext,
    report: PassReport,
    task: str,
    what: str,
    reason: str,
    episode: str,
    row: Row,
) -> None:
    """A row whose files may not be deleted: an error of the pass and one alert."""
    report.error(task, f"{what}: {reason}; its files are left on disk")
    if ctx.dry_run:
        return
    alerts.raise_or_spool(
        ctx.cat,
        ctx.root,
        alerts.Alert(
            alert_type=alerts.CONFIG_REFUSED,
            server_id=ctx.server_id,
            message=f"pgbackman_maintenance refused to delete {what}: {reason}",
            node_id=as_int(row.get("pgsql_node_id") or row.get("target_pgsql_node_id")),
            dbname=as_text(row.get("dbname") or row.get("target_dbname")),
            ref_id=as_int(row.get("def_id") or row.get("snapshot_id")),
            episode_key=episode,
        ),
    )


def backup_paths(ctx: PassContext, row: Row) -> tuple[list[Path], list[str]]:
    """(paths to delete, paths already gone) of one backup-like row; UnsafePathError when
    any of its files is not exactly what was written for it, or another row names it."""
    files = mcat.row_files(row)
    present = {c: p for c, p in files.items() if not already_gone(p)}
    gone = [p for p in files.values() if already_gone(p)]
    if not present:
        return [], gone
    ident = BackupIdentity.of(row)
    paths = ctx.deleter.backup_paths(ident, present)
    claimed = mcat.claimed_elsewhere(
        ctx.cat,
        as_int(row.get("bck_id")) if "del_id" not in row else None,
        ident.def_id,
        ident.snapshot_id,
        [str(p) for p in paths],
    )
    if claimed:
        raise UnsafePathError(
            f"Refusing to delete {', '.join(claimed)}: another backup row names it too"
        )
    return paths, gone


def delete_row_files(
    ctx: PassContext,
    report: PassReport,
    task: str,
    what: str,
    paths: list[Path],
    drop_row: Callable[[], None],
    *,
    partition: str | None,
    def_id: int | None = None,
    snapshot_id: int | None = None,
) -> str:
    """Checked files first (under the job lock), then the catalog row.

    Returns "deleted", "busy" (job lock held: retried next pass) or "error" (reported)."""
    stats = report.task(task)
    try:
        with job_lock(
            partition, def_id=def_id, snapshot_id=snapshot_id, dry_run=ctx.dry_run
        ):
            removed, errors = ctx.deleter.remove_all(paths)
            if errors:
                for e in errors:
                    report.error(task, f"{what}: {e}")
                return "error"
            stats.files += removed
            drop_row()
    except LockBusyError:
        stats.skipped += 1
        report.warning(
            task, f"{what}: job is running (lock held); skipped until the next pass"
        )
        return "busy"
    except CatalogUnavailableError:
        raise
    except PgBackManError as exc:
        report.error(task, f"{what}: {exc}")
        return "error"
    stats.deleted += 1
    log.info("[%s] deleted %s (%s)", task, what, files_text(paths))
    return "deleted"


def delete_backup(
    ctx: PassContext,
    report: PassReport,
    task: str,
    row: Row,
    what: str,
    reason: str,
    drop_row: Callable[[], None],
    episode: str,
    *,
    partition: str | None = None,
) -> str:
    """Check the row's paths, then delete them and the row (or say what it would do)."""
    try:
        paths, _gone = backup_paths(ctx, row)
    except UnsafePathError as exc:
        if ctx.dry_run:
            ctx.would(report, f"WOULD REFUSE {what}: {exc}")
            return "error"
        refused(ctx, report, task, what, str(exc), episode, row)
        return "error"
    if ctx.dry_run:
        ctx.would(report, f"WOULD DELETE {what}: {reason}: {files_text(paths)}")
        return "deleted"
    return delete_row_files(
        ctx,
        report,
        task,
        what,
        paths,
        drop_row,
        partition=partition or ctx.partition(row.get("pgsql_node_id")),
        def_id=as_int(row.get("def_id")) if row.get("snapshot_id") is None else None,
        snapshot_id=as_int(row.get("snapshot_id")),
    )


def partition_holding_lock(ctx: PassContext, def_id: int | None) -> str | None:
    """For forced deletions whose node is unknown: the partition whose lock file for this
    definition exists, i.e. where a dump of it may still be running."""
    if def_id is None:
        return None
    for nd in ctx.nodes.values():
        if lock_path(nd.partition, def_id=def_id).exists():
            return nd.partition
    return None


def as_int(value: Any) -> int | None:
    return None if value is None else int(value)


def as_text(value: Any) -> str | None:
    return None if value is None else str(value)
