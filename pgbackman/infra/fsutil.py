"""File-system primitives: files that appear complete or not at all, and deletion confined
to the backup root.

``atomic_write`` writes a dot-prefixed temp file in the target directory, fsyncs it, sets its
mode explicitly (whatever the umask), renames it over the target and fsyncs the directory.
``safe_remove`` deletes a file or tree only when its real path lies inside the given root.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path

from pgbackman.errors import UnsafePathError


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


def ensure_dir(path: str | os.PathLike[str], mode: int = 0o700) -> Path:
    """Create ``path`` (and parents) if missing and force its mode (umask-independent)."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    if (p.stat().st_mode & 0o7777) != mode:
        os.chmod(p, mode)
    return p


def is_inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """True when the real path of ``path`` is ``root`` itself or below it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
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
