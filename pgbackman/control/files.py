"""Directories, ownership and node-file removal on a backup server (pgbackman_control).

Layout (docs/DESIGN.md): ``<root>`` 0700 with ``pending_updates/`` and ``cache_dir/`` (0700)
and, per node, ``<pgnode_backup_partition>`` with ``dump/`` and ``log/`` (0700). When control
runs as root, these belong to the backup OS user, who runs the jobs. A partition is used only
inside the local ``root_backup_partition``, also by its real path (:func:`check_partition`).
A deleted node's partition is removed only when it holds nothing but ``dump/``, ``log/`` and
job locks and no other node uses it; its crontab file only when it lies in ``crontab_dir``
and we generated it.
"""

from __future__ import annotations

import logging
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

import re

from pgbackman.config import BackupServerConfig
from pgbackman.core import authority
from pgbackman.errors import ConfigRefusedError, CronFileError, UnsafePathError
from pgbackman.infra import cache, cronfile, spool
from pgbackman.infra.fsutil import ensure_dir, is_inside, safe_remove

log = logging.getLogger("pgbackman_control")

DIR_MODE = 0o700


@dataclass(frozen=True)
class Owner:
    """uid/gid that files must belong to, or None to leave ownership alone."""

    uid: int
    gid: int
    name: str


# What a node partition may hold for control to remove it with its node.
_PARTITION_ENTRY_RE = re.compile(
    r"^(dump|log|\.backup-def[0-9]+\.lock|\.snapshot-[0-9]+\.lock)$"
)


def uid_of(user: str) -> int | None:
    """The uid of OS user ``user`` on this host (None when there is no such user)."""
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def check_partition(local_root: str, partition: str) -> str:
    """A node partition inside the local root, lexically and by its real path (a symlink
    on the way must not lead out of the root). Raises ConfigRefusedError."""
    authority.check_partition("pgnode_backup_partition", partition, local_root)
    existing = Path(partition)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not is_inside(local_root, existing):
        raise ConfigRefusedError(
            "pgnode_backup_partition",
            partition,
            f"{existing} leads out of root_backup_partition {local_root} "
            f"(to {os.path.realpath(existing)})",
        )
    return partition


def owner_for(backup_user: str) -> Owner | None:
    """The jobs' OS user when we run as root and it is another user; None otherwise."""
    if os.geteuid() != 0 or not backup_user or backup_user == "root":
        return None
    try:
        pw = pwd.getpwnam(backup_user)
    except KeyError:
        log.warning(
            "OS user %s (backup_user) does not exist; files stay owned by root",
            backup_user,
        )
        return None
    return Owner(pw.pw_uid, pw.pw_gid, backup_user)


def chown(path: str | os.PathLike[str], owner: Owner | None) -> None:
    if owner is None:
        return
    st = os.lstat(path)
    if (st.st_uid, st.st_gid) != (owner.uid, owner.gid):
        os.chown(path, owner.uid, owner.gid, follow_symlinks=False)


def make_dir(path: str | os.PathLike[str], owner: Owner | None) -> Path:
    p = ensure_dir(path, DIR_MODE)
    chown(p, owner)
    return p


def ensure_global_dirs(root: Path, owner: Owner | None) -> None:
    """The root and its pending_updates/ and cache_dir/ (0700, backup user)."""
    make_dir(root, owner)
    make_dir(spool.pending_dir(root), owner)
    make_dir(cache.cache_dir(root), owner)


def ensure_node_dirs(partition: Path, owner: Owner | None) -> None:
    make_dir(partition, owner)
    make_dir(partition / "dump", owner)
    make_dir(partition / "log", owner)


def chown_cache_files(root: Path, node_id: int | None, owner: Owner | None) -> None:
    """Cache files are written 0600 by root: the jobs (backup user) must be able to read them."""
    path = (
        cache.server_cache_path(root)
        if node_id is None
        else cache.node_cache_path(root, node_id)
    )
    if path.exists():
        chown(path, owner)


def remove_node_files(
    bs: BackupServerConfig,
    node_id: int,
    crontab_file: str | None,
    partition: str | None,
    other_partitions: dict[int, str] | None = None,
) -> list[str]:
    """Remove the crontab file, cache file and backup partition of a deleted node.

    Returns the problems met (empty list = everything that existed is gone). Each part is
    attempted even when another fails; what the local configuration does not allow, or what
    holds anything but this node's backups, is left in place and reported.
    """
    problems: list[str] = []
    root = Path(bs.root_backup_partition)
    if crontab_file:
        try:
            authority.check_crontab_file(
                "pgnode_crontab_file", crontab_file, bs.crontab_dir
            )
            if cronfile.remove_crontab(crontab_file):
                log.info(
                    "Crontab file %s of deleted PgSQL node %s removed",
                    crontab_file,
                    node_id,
                )
        except (CronFileError, ConfigRefusedError) as exc:
            problems.append(str(exc))
    try:
        cache.remove_node_cache(root, node_id)
    except OSError as exc:
        problems.append(f"Cannot remove cache of node {node_id}: {exc.strerror}")
    if partition:
        try:
            _check_removable_partition(bs, node_id, partition, other_partitions or {})
            if safe_remove(root, partition):
                log.info(
                    "Backup partition %s of deleted PgSQL node %s removed",
                    partition,
                    node_id,
                )
        except (UnsafePathError, ConfigRefusedError) as exc:
            problems.append(str(exc))
        except OSError as exc:
            problems.append(f"Cannot remove {partition}: {exc.strerror}")
    return problems


def _check_removable_partition(
    bs: BackupServerConfig, node_id: int, partition: str, others: dict[int, str]
) -> None:
    check_partition(bs.root_backup_partition, partition)
    for other_id, other in others.items():
        if other_id != node_id and (
            other == partition
            or authority.strictly_inside(partition, other)
            or authority.strictly_inside(other, partition)
        ):
            raise UnsafePathError(
                f"Refusing to delete {partition}: PgSQL node {other_id} uses {other}"
            )
    p = Path(partition)
    if p.is_symlink():
        raise UnsafePathError(f"Refusing to delete {partition}: it is a symlink")
    if not p.is_dir():
        return
    extra = sorted(e for e in os.listdir(p) if not _PARTITION_ENTRY_RE.match(e))
    if extra:
        raise UnsafePathError(
            f"Refusing to delete {partition}: it holds {', '.join(extra[:5])}, not only "
            "the dump/, log/ and job locks of a PgSQL node"
        )
