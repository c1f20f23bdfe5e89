"""Deleting what the catalog names, by construction: only what pgbackman_dump wrote for it.

A path is deleted only when it is exactly a file this project writes for that row (D42):

* inside the ``dump/`` or ``log/`` directory of the row's node partition, and that partition
  lies inside the LOCAL ``[backup_server] root_backup_partition`` (the root-owned
  configuration file, not the catalog, decides what root may delete);
* named from the row's own identity (:func:`pgbackman.core.naming.run_base_pattern` /
  :func:`~pgbackman.core.naming.restore_log_pattern`): database, node, job tag and backup
  code; all files of a row share one run name. A backup imported from PgBackMan 1.x has
  1.x's names (:func:`~pgbackman.core.naming.legacy_run_pattern`), built from the same
  identity;
* a regular file, or for a ``-DATABASE`` dump a real directory that holds regular files only
  (pg_dump's): a directory holding anything else, or any symlink, is never removed.

Anything else is refused with :class:`UnsafePathError` naming the reason; the caller reports
it and keeps the row, and nothing of that row is deleted. Deletion goes through directory
file descriptors opened without following symlinks, so a path swapped for a symlink after the
check removes the link at most.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pgbackman.catalog.maintenance import NodeDirs
from pgbackman.core import naming
from pgbackman.core.naming import lock_file_name
from pgbackman.errors import LockBusyError, UnsafePathError
from pgbackman.infra.fsutil import real_inside, safe_remove
from pgbackman.infra.locking import JobLock

log = logging.getLogger("pgbackman_maintenance")


@dataclass(frozen=True)
class BackupIdentity:
    """Who a backup row is: the only facts its file names may be built from."""

    node_id: int | None
    dbname: str
    backup_code: str
    def_id: int | None
    snapshot_id: int | None

    @classmethod
    def of(cls, row: Mapping[str, object]) -> BackupIdentity:
        def _int(key: str) -> int | None:
            v = row.get(key)
            return None if v is None else int(str(v))

        return cls(
            node_id=_int("pgsql_node_id"),
            dbname=str(row.get("dbname") or ""),
            backup_code=str(row.get("backup_code") or ""),
            def_id=_int("def_id"),
            snapshot_id=_int("snapshot_id"),
        )


def already_gone(path: str) -> bool:
    """An absolute path with nothing there (not even a dangling symlink): nothing to delete."""
    return os.path.isabs(path) and not os.path.lexists(path)


def _normalised(path: str) -> bool:
    return os.path.isabs(path) and os.path.normpath(path) == path and "//" not in path


class Deleter:
    """Validates and removes the files of catalog rows (see the module docstring)."""

    def __init__(
        self, root: str, nodes: Mapping[int, NodeDirs], dry_run: bool = False
    ) -> None:
        self.root = root
        self.nodes = dict(nodes)
        self.dry_run = dry_run
        # Within one batch of rows (:meth:`batch`), each directory is resolved once
        # (root, node partition, dump/, log/: a catch-up pass checks ~55 000 paths in a
        # few directories): directory -> (real path, (st_dev, st_ino) it resolved to),
        # trusted only while the directory still resolves to that inode (one stat). The
        # cache ends with the batch, so a directory is never trusted longer than the
        # checks of one batch took before (they all ran before its removals).
        self._reals: dict[str, tuple[str, tuple[int, int]]] | None = None
        # directory -> the inode its last check resolved to: remove() refuses a path
        # whose directory, opened, is another one (swapped or moved since the check).
        self._checked: dict[str, tuple[int, int]] = {}

    # -- what may go ----------------------------------------------------------------------
    def _node(self, node_id: int | None) -> tuple[Path, NodeDirs]:
        """(partition, node) when the node is known and its partition lies inside the root."""
        part = self.partition(node_id)
        return part, self.nodes[int(node_id or 0)]

    def partition(self, node_id: int | None) -> Path:
        """The node's partition, when it is a sane directory inside the local root."""
        if node_id is None or node_id not in self.nodes:
            raise UnsafePathError(
                f"Refusing to delete: PgSQL node {node_id} and its backup partition are unknown"
            )
        part = self.nodes[node_id].partition
        root = self.root
        if not _normalised(root) or root == "/":
            raise UnsafePathError(
                f"Refusing to delete: local root_backup_partition {root!r} is not a "
                "normalised absolute path below /"
            )
        if (
            not _normalised(part)
            or not part.startswith(root.rstrip("/") + "/")
            or not self._inside(root, part)
        ):
            raise UnsafePathError(
                f"Refusing to delete in {part!r}: the backup partition of PgSQL node "
                f"{node_id} is not inside root_backup_partition {root} of this server's "
                "configuration file"
            )
        return Path(part)

    def _in_dir(self, path: str, part: Path, sub: str) -> Path:
        p = Path(path)
        if not _normalised(path) or p.parent != part / sub:
            raise UnsafePathError(
                f"Refusing to delete {path}: not directly inside {part / sub}"
            )
        real_dir = self._real(str(p.parent))
        if real_dir != os.path.join(self._real(str(part)), sub):
            raise UnsafePathError(
                f"Refusing to delete {path}: {p.parent} leads elsewhere ({real_dir})"
            )
        return p

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Check the paths of a batch of rows, resolving each directory once."""
        self._reals = {}
        try:
            yield
        finally:
            self._reals = None

    def _real(self, directory: str) -> str:
        """``os.path.realpath(directory)``; within a batch resolved once while it stays
        the same inode."""
        try:
            st = os.stat(directory)
        except OSError:
            return os.path.realpath(directory)  # nothing there (yet): nothing to trust
        ident = (st.st_dev, st.st_ino)
        known = self._reals.get(directory) if self._reals is not None else None
        if known is not None and known[1] == ident:
            return known[0]
        real = os.path.realpath(directory)
        rst = os.stat(real)
        if (rst.st_dev, rst.st_ino) == ident:  # not swapped while resolving
            self._checked[directory] = ident
            if self._reals is not None:
                self._reals[directory] = (real, ident)
        else:
            self._checked.pop(directory, None)
        return real

    def _inside(self, root: str, part: str) -> bool:
        """The partition's real path is strictly below the root's (cached real paths)."""
        real_root, real = self._real(root), self._real(part)
        return real != real_root and real_inside(real_root, real)

    def backup_paths(
        self,
        ident: BackupIdentity,
        files: Mapping[str, str],
        node_fqdn: str | None = None,
    ) -> list[Path]:
        """The paths of one backup row, each checked; UnsafePathError for the first refusal."""
        if not files:
            return []
        part, node = self._node(ident.node_id)
        fqdn = node_fqdn or node.fqdn
        try:
            tag = naming.job_tag(ident.def_id, ident.snapshot_id)
        except ValueError:
            raise UnsafePathError(
                "Refusing to delete: the row belongs to no definition or snapshot"
            ) from None
        code = ident.backup_code.upper()
        checked = [
            (column, self._in_dir_of(column, path, part))
            for column, path in files.items()
        ]
        kinds = self._as_written(ident, fqdn, tag, checked)
        if isinstance(kinds, Path):
            legacy = self._as_written_by_upstream(ident, fqdn, tag, checked)
            kinds = kinds if isinstance(legacy, Path) else legacy
        if isinstance(kinds, str):
            raise UnsafePathError(kinds)
        if isinstance(kinds, Path):
            bad = kinds
            raise UnsafePathError(
                f"Refusing to delete {bad}: not a file pgbackman_dump writes for "
                f"{tag} (database {ident.dbname!r}, code {code or 'unknown'}, node {fqdn})"
            )
        out: list[Path] = []
        for p, directory in kinds:
            if p not in out:  # the three log columns name the run's one log
                out.append(p)
                self._check_kind(p, directory=directory)
        return out

    def _in_dir_of(self, column: str, path: str, part: Path) -> Path:
        """The path, checked to be directly in the dump/ or log/ directory its column's files
        go to (the same for this software's files and 1.x's)."""
        layout = {
            c: sub
            for c, (sub, _s) in (
                *naming.legacy_file_layout(False).items(),
                *naming.file_layout(False).items(),
            )
        }
        if column not in layout:
            raise UnsafePathError(f"Refusing to delete {path}: unknown column {column}")
        return self._in_dir(path, part, layout[column])

    @staticmethod
    def _as_written(
        ident: BackupIdentity, fqdn: str, tag: str, checked: list[tuple[str, Path]]
    ) -> list[tuple[Path, bool | None]] | str | Path:
        """The files as pgbackman_dump names them (one run name for all), else the first
        file that is not."""
        code = ident.backup_code.upper()
        pattern = naming.run_base_pattern(
            dbname=ident.dbname, node_fqdn=fqdn, tag=tag, backup_code=code or "?"
        )
        layout = naming.file_layout(code == "CLUSTER")
        bases: set[str] = set()
        out: list[tuple[Path, bool | None]] = []
        for column, p in checked:
            if column not in layout or p.parent.name != layout[column][0]:
                return p
            base = next(
                (
                    p.name[: -len(suffix)]
                    for suffix in layout[column][1]
                    if p.name.endswith(suffix)
                    and pattern.fullmatch(p.name[: -len(suffix)])
                ),
                None,
            )
            if base is None:
                return p
            bases.add(base)
            out.append((p, p.name.endswith("-DATABASE")))
        if len(bases) > 1:
            return (
                "Refusing to delete the files of one backup from several runs: "
                f"{sorted(bases)}"
            )
        return out

    @staticmethod
    def _as_written_by_upstream(
        ident: BackupIdentity, fqdn: str, tag: str, checked: list[tuple[str, Path]]
    ) -> list[tuple[Path, bool | None]] | str | Path:
        """The files as PgBackMan 1.x named them (a backup imported by the catalog upgrade),
        else the first file that is not. Only the timestamp may differ between them (1.x
        took one per file)."""
        code = ident.backup_code.upper()
        pattern = naming.legacy_run_pattern(
            dbname=ident.dbname, node_fqdn=fqdn, tag=tag, backup_code=code or "?"
        )
        layout = naming.legacy_file_layout(code == "CLUSTER")
        runs: set[str] = set()
        out: list[tuple[Path, bool | None]] = []
        for column, p in checked:
            if column not in layout or p.parent.name != layout[column][0]:
                return p
            suffix = next((x for x in layout[column][1] if p.name.endswith(x)), "")
            m = pattern.fullmatch(p.name[: -len(suffix)]) if suffix else None
            if m is None:
                return p
            runs.add(p.name[: m.start("ts")])
            # 1.1+ dumped a directory, 1.0 a custom-format file, both named -DATABASE.sql
            out.append(
                (p, None if column == "pg_dump_file" and code != "CLUSTER" else False)
            )
        if len(runs) > 1:
            return (
                "Refusing to delete the files of one backup from several runs: "
                f"{sorted(runs)}"
            )
        return out

    def restore_log_path(
        self,
        path: str,
        restore_def: int | None,
        node_id: int | None,
        target_dbname: str,
        job: str = "restoredef",
    ) -> Path:
        """The log of one restore or restore drill (``job``), checked (it lives in the
        TARGET node's log/)."""
        part, node = self._node(node_id)
        p = self._in_dir(path, part, naming.LOG_DIR)
        pattern = naming.restore_log_pattern(
            target_dbname, node.fqdn, int(restore_def or 0), job
        )
        if restore_def is None or not pattern.fullmatch(p.name):
            what = "restore drill" if job == "drill" else "restore definition"
            raise UnsafePathError(
                f"Refusing to delete {path}: not the log pgbackman_restore writes for "
                f"{what} {restore_def}"
            )
        self._check_kind(p, directory=False)
        return p

    def remove_partial(self, node_id: int, path: Path) -> bool:
        """Remove a staging directory ``dump/.partial-<job>-<pid>-<TS>/`` of a killed run
        (the caller holds the job lock and checked that no process uses it). Only such a
        directory, directly in the dump/ of a partition inside the local root, is removed."""
        part = self.partition(node_id)
        p = self._in_dir(str(path), part, naming.DUMP_DIR)
        if naming.parse_partial_name(p.name) is None:
            raise UnsafePathError(
                f"Refusing to delete {p}: not a partial dump directory"
            )
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafePathError(f"Refusing to delete {p}: not a directory")
        if self.dry_run:
            return True
        removed = safe_remove(part, p)  # never follows a symlink out of the partition
        if removed:
            log.info("Deleted %s", p)
        return removed

    def remove_decrypted(self, node_id: int, path: Path) -> bool:
        """Remove a decrypted copy ``.decrypted-restoredef<N>-<pid>/`` of a killed restore
        (the caller checked that its run is dead and no process uses it). Only such a
        directory, directly in a node partition inside the local root, is removed; its tree
        (a decrypted pg_dump directory) goes without following any symlink."""
        part = self.partition(node_id)
        p = Path(str(path))
        if not _normalised(str(path)) or p.parent != part:
            raise UnsafePathError(f"Refusing to delete {p}: not directly inside {part}")
        if naming.parse_decrypted_name(p.name) is None:
            raise UnsafePathError(
                f"Refusing to delete {p}: not the decrypted copy of a restore"
            )
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafePathError(f"Refusing to delete {p}: not a directory")
        if self._real(str(p.parent)) != self._real(str(part)):
            raise UnsafePathError(
                f"Refusing to delete {p}: its directory leads elsewhere"
            )
        if self.dry_run:
            return True
        removed = safe_remove(part, p)
        if removed:
            log.info("Deleted %s", p)
        return removed

    @staticmethod
    def _check_kind(p: Path, directory: bool | None) -> None:
        """``directory``: True a pg_dump directory, False a regular file, None either."""
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return  # gone already: nothing to delete
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePathError(f"Refusing to delete {p}: it is a symlink")
        if directory is None:
            directory = stat.S_ISDIR(st.st_mode)
        if not directory:
            if not stat.S_ISREG(st.st_mode):
                raise UnsafePathError(f"Refusing to delete {p}: not a regular file")
            return
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafePathError(f"Refusing to delete {p}: not a directory")
        with os.scandir(p) as entries:
            for e in entries:
                if not e.is_file(follow_symlinks=False):
                    raise UnsafePathError(
                        f"Refusing to delete {p}: it holds {e.name!r}, which pg_dump "
                        "does not write (only regular files)"
                    )

    # -- removal ------------------------------------------------------------------------------
    def remove(self, p: Path) -> bool:
        """Delete one checked path (True if something was there). Missing is fine: a crash
        between deleting the files and the catalog row is repaired by the next pass."""
        if self.dry_run:
            return os.path.lexists(p)
        parent = os.open(p.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            checked = self._checked.get(str(p.parent))
            pst = os.fstat(parent)
            if checked is not None and checked != (pst.st_dev, pst.st_ino):
                raise UnsafePathError(
                    f"Refusing to delete {p}: {p.parent} changed since it was checked"
                )
            try:
                st = os.stat(p.name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                return False
            if stat.S_ISDIR(st.st_mode):
                fd = os.open(
                    p.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent
                )
                try:
                    for name in os.listdir(fd):
                        est = os.stat(name, dir_fd=fd, follow_symlinks=False)
                        if not stat.S_ISREG(est.st_mode):
                            raise UnsafePathError(
                                f"Refusing to delete {p}: {name!r} appeared in it"
                            )
                        os.unlink(name, dir_fd=fd)
                finally:
                    os.close(fd)
                os.rmdir(p.name, dir_fd=parent)
            else:
                os.unlink(
                    p.name, dir_fd=parent
                )  # a symlink put there meanwhile: the link
        finally:
            os.close(parent)
        # One INFO line per row names all of its files (deleting.delete_checked); a line
        # per file (~55 000 in a catch-up pass) is for debugging.
        log.debug("Deleted %s", p)
        return True

    def remove_all(self, paths: list[Path]) -> tuple[int, list[str]]:
        """Delete checked paths; return (removed count, error messages)."""
        removed = 0
        errors: list[str] = []
        for p in paths:
            try:
                if self.remove(p):
                    removed += 1
            except (OSError, UnsafePathError) as exc:
                errors.append(f"Cannot delete {p}: {exc}")
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
    # Held for a moment only: the file's content (the PID of the last run) is left as is.
    with JobLock.for_job(partition, def_id, snapshot_id, record_pid=False):
        yield


def job_busy(partition: str | None, *, def_id: int) -> bool:
    """True when a dump of the definition runs now (its lock is held): checked before the
    expensive verification of its backups, which is pointless while it cannot delete."""
    try:
        with job_lock(partition, def_id=def_id):
            return False
    except LockBusyError:
        return True
