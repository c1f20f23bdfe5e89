"""Maintenance task: disk usage of this backup server, recorded in the catalog, and the
low-free-space alert.

Every pass looks at the free space of the file systems holding this server's root and node
partitions (statvfs: cheap) and raises one ``Disk-space`` alert per episode for a file system
with less free space than the server's ``min_free_disk_space`` (ended when it has enough
again). At most every :data:`MEASURE_EVERY` the node partitions that exist on this host are
also walked (allocated bytes, as ``du`` counts them) and recorded per node partition and
day (``record_disk_usage()``), each byte attributed to the backup definition or snapshot
whose catalog row names the file, or to "other" (restore and drill logs, partial or orphaned
files): the reports of the shell (any shell, on any host) read these rows.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pgbackman.catalog import alerts
from pgbackman.catalog import diskusage as dcat
from pgbackman.catalog import monitoring as mon
from pgbackman.core import diskusage as core
from pgbackman.errors import CatalogUnavailableError, PgBackManError, UserInputError
from pgbackman.maintenance.report import PassReport
from pgbackman.maintenance.deleting import PassContext

log = logging.getLogger("pgbackman_maintenance")

DISK_USAGE = "disk-usage"
MEASURE_EVERY = _dt.timedelta(minutes=10)
EPISODE_PREFIX = "disk:"


@dataclass
class Usage:
    """Allocated bytes under one node partition, by owner (None = other)."""

    total: int = 0
    other: int = 0
    jobs: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, owner: str | None, nbytes: int) -> None:
        self.total += nbytes
        if owner is None:
            self.other += nbytes
        else:
            self.jobs[owner] += nbytes


def _allocated(st: os.stat_result) -> int:
    return int(st.st_blocks) * 512


def _tree(path: str) -> int:
    """Allocated bytes of ``path`` and everything under it (symbolic links not followed)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return 0
    total = _allocated(st)
    # The lstat answers "a real directory?" too: a file costs one system call, not three.
    if stat.S_ISDIR(st.st_mode):
        for dirpath, dirs, files in os.walk(path):
            for name in dirs + files:
                try:
                    total += _allocated(os.lstat(os.path.join(dirpath, name)))
                except FileNotFoundError:
                    continue  # removed while we walk
    return total


def measure(partition: str, owners: dict[str, str]) -> Usage:
    """Walk one node partition; a file or directory named by a catalog row counts whole
    for its owner."""
    usage = Usage()
    stack = [partition.rstrip("/") or "/"]
    while stack:
        d = stack.pop()
        try:
            usage.add(None, _allocated(os.lstat(d)))
            entries = list(os.scandir(d))
        except FileNotFoundError:
            continue
        for e in entries:
            owner = owners.get(e.path)
            if owner is not None:
                usage.add(owner, _tree(e.path))
            elif e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            else:
                try:
                    usage.add(None, _allocated(e.stat(follow_symlinks=False)))
                except FileNotFoundError:
                    continue
    return usage


@dataclass(frozen=True)
class FileSystem:
    fs_id: str
    path: str  # its mount point
    size: int
    free: int


def file_system(path: str) -> FileSystem:
    st = os.stat(path)
    vfs = os.statvfs(path)
    mount = Path(path).resolve()
    while mount.parent != mount and os.stat(mount.parent).st_dev == st.st_dev:
        mount = mount.parent
    return FileSystem(
        str(st.st_dev),
        str(mount),
        vfs.f_blocks * vfs.f_frsize,
        vfs.f_bavail * vfs.f_frsize,
    )


def disk_usage(ctx: PassContext, report: PassReport) -> None:
    """Record this server's disk usage (at most every MEASURE_EVERY) and alert on low space."""
    stats = report.task(DISK_USAGE)
    partitions = {
        node_id: nd.partition.replace("%%pgnode%%", str(node_id))
        for node_id, nd in ctx.nodes.items()
        if os.path.isdir(nd.partition.replace("%%pgnode%%", str(node_id)))
    }
    systems: dict[str, FileSystem] = {}
    for path in [ctx.root, *partitions.values()]:
        try:
            fs = file_system(path)
        except OSError:
            continue  # not created yet: nothing stored there
        systems.setdefault(fs.fs_id, fs)
    _check_free(ctx, report, list(systems.values()))
    last = dcat.last_measured(ctx.cat, ctx.server_id)
    if ctx.dry_run or (last is not None and ctx.now - last < MEASURE_EVERY):
        return
    for node_id, partition in sorted(partitions.items()):
        if ctx.should_stop():
            return
        try:
            fs = file_system(partition)
            usage = measure(
                partition, dcat.file_owners(ctx.cat, ctx.server_id, node_id)
            )
            dcat.record(
                ctx.cat,
                ctx.server_id,
                node_id,
                partition,
                fs.fs_id,
                fs.path,
                fs.size,
                fs.free,
                usage.total,
                usage.other,
                usage.jobs,
            )
            stats.deleted += 1
        except CatalogUnavailableError:
            raise
        except (PgBackManError, OSError) as exc:
            report.error(DISK_USAGE, f"node partition {partition}: {exc}")
    for node_id in sorted(
        dcat.measured_nodes(ctx.cat, ctx.server_id) - set(partitions)
    ):
        dcat.forget(ctx.cat, ctx.server_id, node_id)  # partition gone from this host


def _check_free(
    ctx: PassContext, report: PassReport, systems: list[FileSystem]
) -> None:
    value = mon.server_config_value(ctx.cat, ctx.server_id, "min_free_disk_space")
    try:
        minimum = core.parse_min_free(value or core.DEFAULT_MIN_FREE)
    except UserInputError as exc:
        report.error(DISK_USAGE, f"{exc}; using {core.DEFAULT_MIN_FREE}")
        minimum = core.parse_min_free(core.DEFAULT_MIN_FREE)
    low: set[str] = set()
    for fs in systems:
        need = minimum.bytes_for(fs.size)
        key = f"{EPISODE_PREFIX}{ctx.server_id}:{fs.path}"
        if fs.free >= need:
            continue
        low.add(key)
        message = (
            f"Backup partition {fs.path} of backup server {ctx.server_id} has "
            f"{core.human_bytes(fs.free)} free of {core.human_bytes(fs.size)}, less than "
            f"its min_free_disk_space {minimum} ({core.human_bytes(need)})"
        )
        if ctx.dry_run:
            ctx.would(report, f"WOULD ALERT {message}")
            continue
        if alerts.raise_alert(
            ctx.cat,
            alerts.Alert(alerts.DISK_SPACE, ctx.server_id, message, episode_key=key),
        ):
            log.warning("[%s] %s", DISK_USAGE, message)
    if ctx.dry_run:
        return
    for key in alerts.open_episodes(ctx.cat, ctx.server_id, EPISODE_PREFIX) - low:
        alerts.end_episode(ctx.cat, key)
