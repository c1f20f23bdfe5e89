"""How a maintenance task deletes catalog rows: check every path, take the job lock, delete
the files, then the row; or refuse, report and alert. Also the context a pass shares.

A path is deleted only when it is exactly what was written for its row
(:mod:`pgbackman.maintenance.files`); a refused row keeps all of its files, is reported as an
error of the pass and raises one ``Config-refused`` alert per episode.

Rows go a batch at a time (fleet scale: a pass after a day's outage deletes one backup per
definition, 8 000 of them): the paths of the whole batch are checked against the other rows
of their jobs in one query, each job's lock is taken once, the files are removed without an
fsync per file, and the rows are dropped in one catalog call that judges each row on its own
(``delete_backup_catalog_many``). A refused row, a file that cannot be removed or a busy job
concerns only its own rows: the others of the batch still go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
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
from pgbackman.infra.fsutil import fsync_many
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


BATCH = 256  # rows per batch: one read, one path check, one catalog call each


@dataclass
class Doomed:
    """One catalog-like row to delete with its files, and what happened to it."""

    what: str  # "backup bck_id=... def_id=..." (report and log lines)
    row: Row = field(default_factory=dict)
    reason: str = ""  # why it goes (dry-run line)
    episode: str = ""  # alert episode of a refusal
    partition: str | None = None  # where its job lock lives (None: no lock to take)
    def_id: int | None = None
    snapshot_id: int | None = None
    paths: list[Path] = field(default_factory=list)  # checked, to delete
    outcome: str = ""  # "deleted", "busy" (retried next pass) or "error" (reported)


# Drops the catalog rows of items whose files are gone; returns, in order, None for a row
# dropped or why the catalog refused it.
Drop = Callable[[list[Doomed]], list[str | None]]


def one_by_one(drop_row: Callable[[Doomed], None]) -> Drop:
    """A Drop that calls a per-row catalog function, a refusal stopping no other row."""

    def drop(items: list[Doomed]) -> list[str | None]:
        out: list[str | None] = []
        for item in items:
            try:
                drop_row(item)
                out.append(None)
            except CatalogUnavailableError:
                raise
            except PgBackManError as exc:
                out.append(str(exc))
        return out

    return drop


def drop_backup_rows(ctx: PassContext) -> Drop:
    """The Drop of backup_catalog rows: ONE call of delete_backup_catalog_many, which
    applies the catalog's floor to every row (and keeps a row whose offsite copy is
    UPLOADED, marked local_deleted_at)."""

    def drop(items: list[Doomed]) -> list[str | None]:
        ids = [int(i.row["bck_id"]) for i in items]
        refusals = mcat.delete_backup_rows(ctx.cat, ids)
        return [
            refusals.get(b, f"Backup {b} was not answered by the catalog") for b in ids
        ]

    return drop


def check_backup_paths(ctx: PassContext, items: list[Doomed]) -> list[str | None]:
    """Set ``paths`` of every backup-like item; return, in order, None or why its files
    may not be deleted (a file that is not exactly what was written for it, or that
    another row of the job names too: one query for all of them)."""
    refusals: list[str | None] = [None] * len(items)
    asks: list[tuple[int, mcat.PathsOf]] = []
    with ctx.deleter.batch():
        for n, item in enumerate(items):
            _check_item(ctx, n, item, refusals, asks)
    claims = mcat.claimed_elsewhere_many(ctx.cat, [a for _n, a in asks])
    for (n, _a), claimed in zip(asks, claims, strict=True):
        if claimed:
            refusals[n] = (
                f"Refusing to delete {', '.join(claimed)}: another backup row names it too"
            )
    return refusals


def _check_item(
    ctx: PassContext,
    n: int,
    item: Doomed,
    refusals: list[str | None],
    asks: list[tuple[int, mcat.PathsOf]],
) -> None:
    """The paths of one item (check_backup_paths): a refusal, or a claim to ask about."""
    row = item.row
    present = {c: p for c, p in mcat.row_files(row).items() if not already_gone(p)}
    item.paths = []
    if not present:
        return
    ident = BackupIdentity.of(row)
    try:
        item.paths = ctx.deleter.backup_paths(ident, present)
    except UnsafePathError as exc:
        refusals[n] = str(exc)
        return
    asks.append(
        (
            n,
            mcat.PathsOf(
                as_int(row.get("bck_id")) if "del_id" not in row else None,
                ident.def_id,
                ident.snapshot_id,
                tuple(str(p) for p in item.paths),
            ),
        )
    )


def delete_backups(
    ctx: PassContext, report: PassReport, task: str, items: list[Doomed], drop: Drop
) -> None:
    """Check the paths of every item, then delete their files and rows (or say what it
    would do); a refused item is reported (and alerted) and stops none of the others."""
    refusals = check_backup_paths(ctx, items)
    ok: list[Doomed] = []
    for item, why in zip(items, refusals, strict=True):
        if why is not None:
            item.outcome = "error"
            if ctx.dry_run:
                ctx.would(report, f"WOULD REFUSE {item.what}: {why}")
            else:
                refused(ctx, report, task, item.what, why, item.episode, item.row)
        elif ctx.dry_run:
            item.outcome = "deleted"
            ctx.would(
                report,
                f"WOULD DELETE {item.what}: {item.reason}: {files_text(item.paths)}",
            )
        else:
            ok.append(item)
    if ok:
        delete_checked(ctx, report, task, ok, drop)


def delete_checked(
    ctx: PassContext, report: PassReport, task: str, items: list[Doomed], drop: Drop
) -> None:
    """Checked files first, each job's lock taken once and held until its rows are gone,
    then the rows of all items in one ``drop``. Sets each item's outcome: "deleted",
    "busy" (job lock held: the item is retried next pass) or "error" (reported)."""
    stats = report.task(task)
    jobs: dict[tuple[str | None, int | None, int | None], list[Doomed]] = {}
    for item in items:
        key = (item.partition, item.def_id, item.snapshot_id)
        jobs.setdefault(key, []).append(item)
    gone: list[Doomed] = []
    dirs: set[Path] = set()
    with ExitStack() as locks:
        for (partition, def_id, snapshot_id), group in jobs.items():
            try:
                locks.enter_context(
                    job_lock(
                        partition,
                        def_id=def_id,
                        snapshot_id=snapshot_id,
                        dry_run=ctx.dry_run,
                    )
                )
            except LockBusyError:
                # One warning per job: its other rows wait for the next pass as well.
                stats.skipped += 1
                report.warning(
                    task,
                    f"{group[0].what}: job is running (lock held); skipped until the "
                    "next pass",
                )
                for item in group:
                    item.outcome = "busy"
                continue
            for item in group:
                removed, errors = ctx.deleter.remove_all(item.paths)
                dirs.update(p.parent for p in item.paths)
                if errors:
                    for e in errors:
                        report.error(task, f"{item.what}: {e}")
                    item.outcome = "error"
                    continue
                stats.files += removed
                gone.append(item)
        if not gone:
            return
        # No fsync per removed file. One fsync of each directory the batch removed from,
        # before the rows go, makes the removals durable first: a power loss can then no
        # longer bring back files whose row is gone (orphans that no row names and no pass
        # would ever delete). The opposite order is harmless (a row whose files are gone is
        # deleted by the next pass). fsync_many syncs them from a few threads: about the
        # cost of one journal commit.
        try:
            fsync_many(sorted(d for d in dirs if d.is_dir()))
        except OSError as exc:
            for item in gone:
                report.error(
                    task,
                    f"{item.what}: its files are deleted but not durably ({exc}); "
                    "the row is kept until the next pass",
                )
                item.outcome = "error"
            return
        answers = drop(gone)
    for item, why in zip(gone, answers, strict=True):
        if why is not None:
            report.error(
                task,
                f"{item.what}: {why} (its files are deleted: {files_text(item.paths)})",
            )
            item.outcome = "error"
            continue
        stats.deleted += 1
        item.outcome = "deleted"
        log.info("[%s] deleted %s (%s)", task, item.what, files_text(item.paths))


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
    """Checked files first (under the job lock), then the catalog row, of one row.

    Returns "deleted", "busy" (job lock held: retried next pass) or "error" (reported)."""
    item = Doomed(
        what,
        partition=partition,
        def_id=def_id,
        snapshot_id=snapshot_id,
        paths=paths,
    )
    delete_checked(ctx, report, task, [item], one_by_one(lambda _i: drop_row()))
    return item.outcome


def backup_item(
    ctx: PassContext,
    row: Row,
    what: str,
    reason: str,
    episode: str,
    *,
    partition: str | None = None,
) -> Doomed:
    """A backup-like row to delete, its job lock in its node's partition (or
    ``partition``)."""
    snapshot_id = as_int(row.get("snapshot_id"))
    return Doomed(
        what,
        row=row,
        reason=reason,
        episode=episode,
        partition=partition or ctx.partition(row.get("pgsql_node_id")),
        def_id=as_int(row.get("def_id")) if snapshot_id is None else None,
        snapshot_id=snapshot_id,
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
