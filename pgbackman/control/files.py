"""Directories, ownership and node-file removal on a backup server (pgbackman_control).

Layout (docs/DESIGN.md): ``<root>`` 0700 with ``pending_updates/`` and ``cache_dir/`` (0700)
and, per node, ``<pgnode_backup_partition>`` with ``dump/`` and ``log/`` (0700). When control
runs as root, these belong to the backup OS user, who runs the jobs. Removal of a deleted
node's files is confined to the backup root (:func:`pgbackman.infra.fsutil.safe_remove`), and
its crontab file is removed only if we generated it.
"""

from __future__ import annotations

import logging
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from pgbackman.errors import CronFileError, UnsafePathError
from pgbackman.infra import cache, cronfile, spool
from pgbackman.infra.fsutil import ensure_dir, safe_remove

log = logging.getLogger("pgbackman_control")

DIR_MODE = 0o700


@dataclass(frozen=True)
class Owner:
    """uid/gid that files must belong to, or None to leave ownership alone."""

    uid: int
    gid: int
    name: str


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
    root: Path, node_id: int, crontab_file: str | None, partition: str | None
) -> list[str]:
    """Remove the crontab file, cache file and backup partition of a deleted node.

    Returns the problems met (empty list = everything that existed is gone). Each part is
    attempted even when another fails.
    """
    problems: list[str] = []
    if crontab_file:
        try:
            if cronfile.remove_crontab(crontab_file):
                log.info(
                    "Crontab file %s of deleted PgSQL node %s removed",
                    crontab_file,
                    node_id,
                )
        except CronFileError as exc:
            problems.append(str(exc))
    try:
        cache.remove_node_cache(root, node_id)
    except OSError as exc:
        problems.append(f"Cannot remove cache of node {node_id}: {exc.strerror}")
    if partition:
        try:
            if safe_remove(root, partition):
                log.info(
                    "Backup partition %s of deleted PgSQL node %s removed",
                    partition,
                    node_id,
                )
        except UnsafePathError as exc:
            problems.append(str(exc))
        except OSError as exc:
            problems.append(f"Cannot remove {partition}: {exc.strerror}")
    return problems
