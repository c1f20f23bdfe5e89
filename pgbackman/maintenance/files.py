"""Deleting what the catalog names: confined to the backup root, under the job lock.

A path is deleted only when its parent directory really lies inside an allowed root (the
backup server's root_backup_partition, or a node's pgnode_backup_partition) and the path is
not a root itself. A symlink whose target leaves the roots is refused, not unlinked: a catalog
row pointing there is a sign of tampering or misconfiguration and must be reported. Refusals
are :class:`UnsafePathError`; the caller reports them and keeps the catalog row.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pgbackman.core.naming import lock_file_name
from pgbackman.errors import UnsafePathError
from pgbackman.infra.fsutil import is_inside, safe_remove
from pgbackman.infra.locking import JobLock

log = logging.getLogger("pgbackman_maintenance")


def usable_root(path: str) -> bool:
    """A node partition counts as a deletion root only when it is an absolute path at least
    two levels deep: a partition set to ``/`` or ``/srv`` must not open the whole tree."""
    p = Path(path)
    return p.is_absolute() and len(p.resolve().parts) >= 3


def deletion_roots(server_root: str, partitions: Iterable[str]) -> list[str]:
    roots: list[str] = []
    for part in [server_root, *partitions]:
        if part and usable_root(part) and part not in roots:
            roots.append(part)
    return roots


def already_gone(path: str) -> bool:
    """An absolute path with nothing there (not even a dangling symlink): nothing to delete."""
    return os.path.isabs(path) and not os.path.lexists(path)


class Deleter:
    """Removes files and trees, refusing anything outside ``roots``."""

    def __init__(self, roots: list[str], dry_run: bool = False) -> None:
        self.roots = roots
        self.dry_run = dry_run
        self._real_roots = {os.path.realpath(r) for r in roots}

    def _root_for(self, p: Path) -> str:
        for root in self.roots:
            if is_inside(root, p.parent):
                return root
        raise UnsafePathError(f"Refusing to delete {p}: outside the backup root")

    def check(self, path: str) -> tuple[Path, str]:
        """Validate one path; return it with the root it lies in (raises UnsafePathError)."""
        p = Path(path)
        if not p.is_absolute():
            raise UnsafePathError(f"Refusing to delete relative path {path}")
        # Lexical '..' tricks are caught because the parent is judged by its real path.
        root = self._root_for(p)
        if os.path.realpath(p) in self._real_roots and not p.is_symlink():
            raise UnsafePathError(
                f"Refusing to delete {path}: it is a backup root itself"
            )
        if p.is_symlink():
            target = os.path.realpath(p)
            if not any(is_inside(r, target) for r in self.roots):
                raise UnsafePathError(
                    f"Refusing to delete {path}: symlink leading out of the backup root "
                    f"(to {target})"
                )
        return p, root

    def remove(self, path: str) -> bool:
        """Delete one file/tree (True if something was there). Missing is fine: a crash
        between deleting the files and the catalog row is repaired by the next pass."""
        p, root = self.check(path)
        if self.dry_run:
            return p.exists() or p.is_symlink()
        removed = safe_remove(root, p)
        if removed:
            log.info("Deleted %s", p)
        return removed

    def remove_all(self, paths: Iterable[str]) -> tuple[int, list[str]]:
        """Delete every path; return (removed count, error messages). All paths are checked
        before any is deleted, so a refused row leaves its files untouched."""
        # An absolute path that is already gone needs no permission: refusing it would keep
        # its row (and an error) forever, e.g. files of a deleted node's partition outside
        # the root that the DBA removed by hand. Nothing is deleted for it either.
        paths = [p for p in paths if not already_gone(p)]
        errors: list[str] = []
        for path in paths:
            try:
                self.check(path)
            except UnsafePathError as exc:
                errors.append(str(exc))
        if errors:
            return 0, errors
        removed = 0
        for path in paths:
            try:
                if self.remove(path):
                    removed += 1
            except (OSError, UnsafePathError) as exc:
                errors.append(f"Cannot delete {path}: {exc}")
        return removed, errors


def lock_path(
    partition: str, *, def_id: int | None = None, snapshot_id: int | None = None
) -> Path:
    """The job lock file a running dump holds (same name as infra/locking.py uses)."""
    return Path(partition) / lock_file_name(def_id, snapshot_id)


@contextmanager
def job_lock(
    partition: str | None,
    *,
    def_id: int | None = None,
    snapshot_id: int | None = None,
    dry_run: bool = False,
) -> Iterator[None]:
    """Hold the job's lock (non-blocking) while its files are deleted.

    Raises LockBusyError when a dump of the same job runs: the caller skips and retries next
    pass. No partition directory means no dump can hold the lock, so nothing is taken; a
    dry run never creates lock files.
    """
    if (
        dry_run
        or not partition
        or not os.path.isdir(partition)
        or (def_id is None and snapshot_id is None)
    ):
        yield
        return
    with JobLock.for_job(partition, def_id, snapshot_id):
        yield
