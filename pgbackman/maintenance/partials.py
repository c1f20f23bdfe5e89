"""Maintenance task: stale partial dumps, and decrypted copies of killed restores.

A run stages everything in ``dump/.partial-<job>-<pid>-<TS>/`` and renames it into place at
the end; a run that was killed (kill -9, OOM killer, reboot) leaves that directory behind and
records nothing. The next run of the same job sweeps it, but a job that never runs again
(deleted, stopped) would keep it forever, and nobody would learn that a run died.

Each pass looks at every node partition of this host: a partial whose job lock is free (no
run of the job lives; children inherit the lock) and that no live process works in is stale.
It is reported (pass report, log, one ``Maintenance`` alert) and removed through the pass's
root-confined Deleter. A dry run only lists what it would remove.

A restore of an encrypted backup decrypts it into ``<partition>/.decrypted-restoredef<N>-<pid>/``
(restore/decrypt.py) and removes it at the end; a killed restore leaves that plaintext copy
behind, and only the next restore on the same node swept it. The same pass removes such a
directory when the run named by its pid is gone and no live process works in it (restores
take no job lock: the pid and /proc decide), with the same report, log and alert.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pgbackman.catalog import alerts
from pgbackman.core.naming import (
    DECRYPTED_PREFIX,
    PARTIAL_PREFIX,
    PartialName,
    parse_decrypted_name,
    parse_partial_name,
)
from pgbackman.errors import (
    CatalogUnavailableError,
    LockBusyError,
    PgBackManError,
    UnsafePathError,
)
from pgbackman.infra import proc
from pgbackman.maintenance.files import job_lock
from pgbackman.maintenance.report import PassReport, TaskStats
from pgbackman.maintenance.deleting import PassContext

log = logging.getLogger("pgbackman_maintenance")

STALE_PARTIALS = "stale-partials"


def _job(name: PartialName) -> str:
    if name.def_id is not None:
        return f"backup definition {name.def_id}"
    return f"snapshot {name.snapshot_id}"


def stale_partials(ctx: PassContext, report: PassReport) -> None:
    """Report and remove staging directories left by killed runs."""
    stats = report.task(STALE_PARTIALS)
    for node_id, nd in sorted(ctx.nodes.items()):
        partition = nd.partition
        if not stale_decrypted(ctx, report, node_id, Path(partition)):
            return
        dump_dir = Path(partition) / "dump"
        try:
            found = sorted(dump_dir.glob(PARTIAL_PREFIX + "*"))
        except OSError as exc:
            report.error(STALE_PARTIALS, f"cannot list {dump_dir}: {exc}")
            continue
        for path in found:
            if ctx.should_stop():
                return
            name = parse_partial_name(path.name)
            if name is None or not path.is_dir():
                continue
            what = (
                f"stale partial dump {path} of {_job(name)} (run pid {name.pid}, "
                f"started {name.ts})"
            )
            try:
                with job_lock(
                    partition,
                    def_id=name.def_id,
                    snapshot_id=name.snapshot_id,
                    dry_run=ctx.dry_run,
                ):
                    if _in_use(stats, path):
                        continue
                    if ctx.dry_run:
                        ctx.would(
                            report,
                            f"WOULD DELETE {what}: the run was killed before it "
                            "recorded a result",
                        )
                        continue
                    ctx.deleter.remove_partial(node_id, path)
            except LockBusyError:
                stats.skipped += 1  # a run of the job is going: its partial is live
                continue
            except (OSError, UnsafePathError) as exc:
                report.error(STALE_PARTIALS, f"{what}: cannot remove it: {exc}")
                continue
            _removed(
                ctx,
                stats,
                node_id,
                name,
                f"{what} removed: that run was killed before it recorded a result "
                "(see the run's log in the node's log directory)",
            )


def stale_decrypted(
    ctx: PassContext, report: PassReport, node_id: int, partition: Path
) -> bool:
    """Remove the decrypted copies killed restores left in one node partition. False when
    a stop was requested."""
    stats = report.task(STALE_PARTIALS)
    try:
        found = sorted(partition.glob(DECRYPTED_PREFIX + "*"))
    except OSError as exc:
        report.error(STALE_PARTIALS, f"cannot list {partition}: {exc}")
        return True
    for path in found:
        if ctx.should_stop():
            return False
        name = parse_decrypted_name(path.name)
        if name is None or path.is_symlink() or not path.is_dir():
            continue
        if proc.pid_alive(name.pid):
            stats.skipped += 1  # its restore still runs (or the pid was reused): later
            continue
        if _in_use(stats, path):
            continue
        what = f"stale decrypted copy {path} of a restore (run pid {name.pid})"
        if ctx.dry_run:
            ctx.would(
                report,
                f"WOULD DELETE {what}: the restore was killed before it removed it",
            )
            continue
        try:
            ctx.deleter.remove_decrypted(node_id, path)
        except (OSError, UnsafePathError) as exc:
            report.error(STALE_PARTIALS, f"{what}: cannot remove it: {exc}")
            continue
        _removed(
            ctx,
            stats,
            node_id,
            None,
            f"{what} removed: that restore was killed before it removed the plaintext "
            "copy of an encrypted backup (see the restore's log in the node's log directory)",
        )
    return True


def _in_use(stats: TaskStats, path: Path) -> bool:
    """A leftover some process still works in (open file or cwd): left, and said."""
    users = proc.processes_using(path)
    if users:
        stats.skipped += 1
        log.warning(
            "[%s] %s is in use by process(es) %s: left in place",
            STALE_PARTIALS,
            path,
            ", ".join(map(str, users)),
        )
    return bool(users)


def _removed(
    ctx: PassContext,
    stats: TaskStats,
    node_id: int,
    name: PartialName | None,
    message: str,
) -> None:
    """Count, log and alert one leftover removed."""
    stats.deleted += 1
    stats.files += 1
    log.warning("[%s] %s", STALE_PARTIALS, message)
    _alert(ctx, node_id, name, message)


def _alert(
    ctx: PassContext, node_id: int, name: PartialName | None, message: str
) -> None:
    ref_id = None
    if name is not None:
        ref_id = name.def_id if name.def_id is not None else name.snapshot_id
    alert = alerts.Alert(
        alerts.MAINTENANCE,
        server_id=ctx.server_id,
        message=message,
        node_id=node_id,
        ref_id=ref_id,
    )
    try:
        alerts.raise_or_spool(ctx.cat, ctx.root, alert)
    except CatalogUnavailableError:
        raise
    except (PgBackManError, OSError) as exc:
        log.error("[%s] cannot raise the alert: %s", STALE_PARTIALS, exc)
