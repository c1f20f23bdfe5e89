"""File-system primitives: files that appear complete or not at all, and deletion confined
to the backup root.

``atomic_write`` writes a dot-prefixed temp file in the target directory, fsyncs it, sets its
mode explicitly (whatever the umask), renames it over the target and fsyncs the directory.
``safe_remove`` deletes a file or tree only when its real path lies inside the given root.

Many files made durable at once (the 500 files of a directory dump): :func:`start_writeback`
when each file is complete (the kernel starts writing it, nobody waits), then
:func:`fsync_many` syncs them from a few threads. On ext4 every fsync() ends with a disk
cache flush even for a file already on disk; concurrent flushes are merged by the block
layer, so 500 fsyncs from 16 threads cost about as much as one, where a loop pays 500
flushes (seconds on a busy virtual disk).
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgbackman.errors import UnsafePathError
from pgbackman.infra import libc


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """fsync a directory so a rename in it is durable (EINVAL on some fs is ignored)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


SYNC_FILE_RANGE_WRITE = 2  # <fcntl.h>
FSYNC_THREADS = 16


def _load_sync_file_range() -> Any:
    fn = libc.function("sync_file_range")
    if fn is not None:  # not Linux: None, and fsync_many does all the work
        fn.argtypes = [
            ctypes.c_int,
            ctypes.c_longlong,
            ctypes.c_longlong,
            ctypes.c_uint,
        ]
    return fn


_sync_file_range = _load_sync_file_range()


def start_writeback(fd: int) -> None:
    """Ask the kernel to start writing the file's dirty pages now (Linux
    ``sync_file_range(SYNC_FILE_RANGE_WRITE)``: no wait, no flush, no guarantee; the fsync
    that follows has less left to do)."""
    if _sync_file_range is not None:
        _sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)


def _fsync_path(path: str | os.PathLike[str]) -> None:
    if os.path.isdir(path):
        fsync_dir(path)
    else:
        fsync_file(path)


def fsync_many(paths: Iterable[str | os.PathLike[str]]) -> int:
    """fsync every file and directory of ``paths`` from FSYNC_THREADS threads (see module
    docstring); the first error is raised once all are done. Returns how many."""
    items = list(paths)
    if len(items) <= 2:
        for p in items:
            _fsync_path(p)
        return len(items)
    from concurrent.futures import ThreadPoolExecutor  # only runs that sync many files

    with ThreadPoolExecutor(min(FSYNC_THREADS, len(items))) as pool:
        for _ in pool.map(_fsync_path, items):
            pass
    return len(items)


def atomic_write(
    path: str | os.PathLike[str], data: str | bytes, mode: int = 0o600
) -> None:
    """Replace ``path`` with ``data`` atomically; the result has exactly ``mode``."""
    target = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(target.parent)


@dataclass
class PendingWrite:
    """One file of :func:`atomic_write_many`."""

    path: Path
    data: bytes
    mode: int = 0o600
    tag: Any = None  # the caller's (e.g. the node the file belongs to)
    error: OSError | None = None  # set by atomic_write_many when this file failed
    _tmp: str | None = field(default=None, repr=False)


def _parallel(fn: Callable[[str], None], paths: list[str]) -> dict[str, OSError]:
    """``fn(path)`` from FSYNC_THREADS threads; the errors by path."""
    errors: dict[str, OSError] = {}

    def one(p: str) -> None:
        try:
            fn(p)
        except OSError as exc:
            errors[p] = exc

    if len(paths) <= 2:
        for p in paths:
            one(p)
        return errors
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(FSYNC_THREADS, len(paths))) as pool:
        list(pool.map(one, paths))
    return errors


def atomic_write_many(writes: list[PendingWrite]) -> list[PendingWrite]:
    """:func:`atomic_write` of many files at once: every temp file is written, then all are
    fsynced from several threads (see module docstring), renamed, and each directory is
    fsynced once. Each file still appears complete or not at all; one that fails gets its
    ``error`` and leaves the others alone. Returns the writes that failed."""
    for w in writes:
        try:
            fd, tmp = tempfile.mkstemp(
                prefix=f".{w.path.name}.", suffix=".tmp", dir=w.path.parent
            )
            w._tmp = tmp
            with os.fdopen(fd, "wb") as fh:
                fh.write(w.data)
            os.chmod(tmp, w.mode)
        except OSError as exc:
            w.error = exc
    pending = [w for w in writes if w.error is None and w._tmp]
    errors = _parallel(fsync_file, [str(w._tmp) for w in pending])
    dirs: set[str] = set()
    for w in pending:
        assert w._tmp is not None  # noqa: S101 - set above
        w.error = errors.get(w._tmp)
        if w.error is None:
            try:
                os.replace(w._tmp, w.path)
                dirs.add(str(w.path.parent))
            except OSError as exc:
                w.error = exc
    for w in writes:
        if w.error is not None and w._tmp:
            try:
                os.unlink(w._tmp)
            except FileNotFoundError:
                pass
    dir_errors = _parallel(fsync_dir, sorted(dirs))
    for w in writes:
        if w.error is None and str(w.path.parent) in dir_errors:
            w.error = dir_errors[str(w.path.parent)]
    return [w for w in writes if w.error is not None]


def ensure_dir(path: str | os.PathLike[str], mode: int = 0o700) -> Path:
    """Create ``path`` (and parents) if missing and force its mode (umask-independent)."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    if (p.stat().st_mode & 0o7777) != mode:
        os.chmod(p, mode)
    return p


def is_inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """True when the real path of ``path`` is ``root`` itself or below it."""
    return real_inside(os.path.realpath(root), os.path.realpath(path))


def real_inside(real_root: str, real: str) -> bool:
    """:func:`is_inside` on real paths already resolved (callers that cache them)."""
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def safe_remove(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Remove the file or directory tree ``path`` if it exists, refusing anything outside
    ``root``. Returns True when something was removed. Raises UnsafePathError."""
    p = Path(path)
    if not p.is_absolute():
        raise UnsafePathError(f"Refusing to delete relative path {path}")
    # Check the parent's real path and the entry itself: a symlink inside the root that
    # points out of it is removed as a link, never followed.
    if not is_inside(root, p.parent) or os.path.realpath(root) == os.path.realpath(p):
        raise UnsafePathError(f"Refusing to delete {path}: outside backup root {root}")
    if p.is_symlink():
        p.unlink()
        return True
    if not p.exists():
        return False
    if not is_inside(root, p):
        raise UnsafePathError(f"Refusing to delete {path}: outside backup root {root}")
    if p.is_dir():
        shutil.rmtree(p)
    else:
        p.unlink()
    return True


def tree_size(path: str | os.PathLike[str]) -> int:
    """Size in bytes of a file, or of every regular file below a directory."""
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    total = 0
    for dirpath, _dirs, files in os.walk(p):
        for f in files:
            fp = os.path.join(dirpath, f)
            if not os.path.islink(fp):
                total += os.path.getsize(fp)
    return total


# Names atomic_write gives its temp files: ".<target name>.<8 mkstemp characters>.tmp".
_TEMP_RANDOM = re.compile(r"^[a-z0-9_]{8}$")


def sweep_stale_temps(
    target: str | os.PathLike[str], min_age: float = 2.0
) -> list[Path]:
    """Remove temp files that :func:`atomic_write` of ``target`` left behind when its process
    was killed (SIGKILL, power loss) between creating and renaming them.

    Only regular files named exactly like our temp files of this target and not modified for
    ``min_age`` seconds are removed (a write in progress in another process is left alone).
    Returns what was removed; errors are ignored (the next sweep retries).
    """
    t = Path(target)
    prefix, suffix = f".{t.name}.", ".tmp"
    removed = []
    try:
        names = os.listdir(t.parent)
    except OSError:
        return []
    now = time.time()
    for name in names:
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        if not _TEMP_RANDOM.match(name[len(prefix) : -len(suffix)]):
            continue
        p = t.parent / name
        try:
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < min_age:
                continue
            p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed
