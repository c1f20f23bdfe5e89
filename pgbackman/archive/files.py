"""Files of a dump run: the staging directory, modes, the SHA-256 manifest, the final rename
and the sweep of stale staging directories.

A run writes everything into ``dump/.partial-<job>-<pid>-<TS>/`` and renames each item into
``dump/`` only when the dump, the read-back check and the manifest are complete and durable.
The manifest (``sha256sum -c`` format, paths relative to ``dump/``) is renamed last: its
presence marks a complete backup. Modes are forced to 0600 (files) / 0700 (directories) whatever the umask.

The SHA-256 of a file read back while it was written (archive/readback.py) is taken from
that reading (:class:`~pgbackman.archive.readback.Verified`) instead of reading it again;
such a file whose size or mtime changed since is refused (ReadBackError). Other files are
hashed here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pgbackman.core.naming import partial_glob
from pgbackman.errors import ReadBackError
from pgbackman.infra import proc
from pgbackman.infra.fsutil import (
    fsync_dir,
    fsync_file,
    fsync_many,
    safe_remove,
)

if TYPE_CHECKING:
    from pgbackman.archive.readback import Verified

log = logging.getLogger(__name__)
FILE_MODE = 0o600
DIR_MODE = 0o700


def sweep_partials(partition: Path, dump_dir: Path, tag: str) -> list[Path]:
    """Remove staging directories of this job left by a killed run (caller holds the lock).

    Holding the lock means no process of an earlier run of this job lives (children inherit
    the lock); a partial that a live process still works in (found through /proc, e.g. an
    orphan of an older version) is left alone and said so, never deleted under it."""
    removed = []
    for p in sorted(dump_dir.glob(partial_glob(tag))):
        users = proc.processes_using(p)
        if users:
            log.warning(
                "Partial output %s is still in use by process(es) %s: left in place",
                p,
                ", ".join(map(str, users)),
            )
            continue
        try:
            safe_remove(partition, p)
            removed.append(p)
            log.warning("Removed stale partial output %s of an earlier run", p)
        except OSError as exc:
            log.error("Cannot remove stale partial output %s: %s", p, exc)
    return removed


def _chmod_if_needed(path: str | Path, mode: int) -> None:
    # A chmod dirties the inode even when the mode is unchanged, and the fsync that follows
    # then costs a journal commit per file (~0.5 s for a 500-table directory dump).
    if stat.S_IMODE(os.lstat(path).st_mode) != mode:
        os.chmod(path, mode)


def force_modes(path: Path) -> None:
    """0700 for directories, 0600 for files, recursively (pg_dump follows the umask)."""
    if path.is_dir():
        _chmod_if_needed(path, DIR_MODE)
        for dirpath, dirs, files in os.walk(path):
            for d in dirs:
                _chmod_if_needed(os.path.join(dirpath, d), DIR_MODE)
            for f in files:
                _chmod_if_needed(os.path.join(dirpath, f), FILE_MODE)
    else:
        _chmod_if_needed(path, FILE_MODE)


def fsync_tree(path: Path) -> None:
    if path.is_dir():
        for dirpath, _dirs, files in os.walk(path):
            for f in files:
                fsync_file(os.path.join(dirpath, f))
            fsync_dir(dirpath)
    else:
        fsync_file(path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _digest(fp: Path, rel: str, known: Mapping[str, Verified]) -> str:
    v = known.get(rel)
    if v is None:
        return sha256_file(fp)
    st = os.lstat(fp)
    if (st.st_size, st.st_mtime_ns) != (v.size, v.mtime_ns):
        raise ReadBackError(f"{rel} changed after it was read back")
    return v.digest


def manifest_lines(
    staging: Path, items: list[str], known: Mapping[str, Verified] | None = None
) -> list[str]:
    """``<sha256>  <path relative to dump/>`` for every regular file of ``items``
    (``known``: digests of files read back, by that relative path)."""
    known = known or {}
    lines = []
    for name in items:
        p = staging / name
        if p.is_dir():
            for dirpath, _dirs, files in os.walk(p):
                for f in files:
                    fp = Path(dirpath) / f
                    rel = fp.relative_to(staging).as_posix()
                    lines.append(f"{_digest(fp, rel, known)}  {rel}")
        else:
            lines.append(f"{_digest(p, name, known)}  {name}")
    gone = sorted(set(known) - {line[66:] for line in lines})
    if gone:
        raise ReadBackError(f"{gone[0]} was read back but is no longer there")
    return sorted(lines, key=lambda line: line[66:])


@dataclass(frozen=True)
class Staged:
    """What :func:`write_manifest` made durable in a staging directory: the items, the
    manifest that names every file of them, and the manifest's own SHA-256. :func:`commit`
    takes only this, so nothing gets a final name before it and its manifest are on disk."""

    items: tuple[str, ...]
    manifest_name: str
    checksum: str


def write_manifest(
    staging: Path,
    manifest_name: str,
    items: list[str],
    known: Mapping[str, Verified] | None = None,
) -> Staged:
    """Write the manifest of ``items`` into ``staging``, then make it durable with every
    file of ``items`` and the directory itself in one batch (:func:`sync_items`).

    The manifest has no fsync of its own (atomic_write's fsync of the file and of the
    directory would cost two more disk cache flushes per run): its fsync is one of the
    batch, which ends before this returns. It has no final name until :func:`commit`
    renames it last, so a crash before that leaves a staging directory that the next run
    sweeps, and a failed fsync fails the run with nothing renamed."""
    text = "\n".join(manifest_lines(staging, items, known)) + "\n"
    data = text.encode("utf-8")
    fd = os.open(
        staging / manifest_name,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        FILE_MODE,
    )
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, FILE_MODE)  # exactly 0600, whatever the umask
        fh.write(data)
    sync_items(staging, [*items, manifest_name])
    return Staged(tuple(items), manifest_name, hashlib.sha256(data).hexdigest())


def sync_items(staging: Path, items: list[str]) -> int:
    """Make every file and directory of ``items`` durable (parallel fsync, see
    infra/fsutil.fsync_many); returns how many were synced."""
    paths: list[str] = []
    for name in items:
        p = staging / name
        if p.is_dir():
            for dirpath, _dirs, files in os.walk(p):
                paths += [os.path.join(dirpath, f) for f in files]
                paths.append(dirpath)
        else:
            paths.append(str(p))
    paths.append(str(staging))
    return fsync_many(paths)


def verify_manifest(dump_dir: Path, manifest_name: str) -> list[str]:
    """Files whose checksum no longer matches (empty list = all good). For tests and verify."""
    bad = []
    for line in (dump_dir / manifest_name).read_text(encoding="utf-8").splitlines():
        digest, _, rel = line.partition("  ")
        p = dump_dir / rel
        if not p.is_file() or sha256_file(p) != digest:
            bad.append(rel)
    return bad


def commit(staging: Path, dump_dir: Path, staged: Staged) -> list[Path]:
    """Rename the items then the manifest of ``staged`` (durable: :func:`write_manifest`)
    from ``staging`` into ``dump_dir``, and make the renames durable.

    On failure the items already renamed are removed again (nothing half-committed stays
    under a final name) and the error propagates.
    """
    done: list[Path] = []
    try:
        for name in [*staged.items, staged.manifest_name]:
            target = dump_dir / name
            if target.exists():
                raise FileExistsError(f"{target} already exists")
            os.rename(staging / name, target)
            done.append(target)
        fsync_dir(dump_dir)
    except BaseException:
        for p in reversed(done):
            try:
                safe_remove(dump_dir, p)
            except OSError as exc:
                log.error("Cannot remove %s after a failed commit: %s", p, exc)
        raise
    try:
        staging.rmdir()
    except OSError:
        pass
    return done
