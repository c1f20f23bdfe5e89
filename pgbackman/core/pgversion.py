"""PostgreSQL releases: server_version_num -> release, release tags, and the order in which
directories are searched for a pg_dump able to dump a node.

A release is a tuple: ``(15,)`` for PostgreSQL >= 10, ``(9, 6)`` before that, so that ordinary
tuple comparison orders ``10`` after ``9.6`` (upstream compared ``'10'`` and ``'96'`` as
integers and refused pg_dump 10 for a 9.6 node).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

Release = tuple[int, ...]

_RELEASE_RE = re.compile(r"^\s*(\d+)(?:[._](\d+))?(?:[._]\d+)*\s*$")
_TOOL_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
DEFAULT_BIN_TEMPLATE = "/usr/lib/postgresql/{dotted}/bin"


def release_from_version_num(version_num: int) -> Release:
    """150010 -> (15,); 90624 -> (9, 6)."""
    n = int(version_num)
    if n <= 0:
        raise ValueError(f"invalid server_version_num {version_num!r}")
    if n >= 100000:
        return (n // 10000,)
    return (n // 10000, (n // 100) % 100)


def parse_release(text: str) -> Release:
    """'9.6', '9_6', '15', '15.4', '15_4' -> release tuple (ValueError if malformed)."""
    m = _RELEASE_RE.match(str(text))
    if not m:
        raise ValueError(f"invalid PostgreSQL release {text!r}")
    major = int(m.group(1))
    if major >= 10:
        return (major,)
    if m.group(2) is None:
        raise ValueError(
            f"invalid PostgreSQL release {text!r}: 9.x needs a minor number"
        )
    return (major, int(m.group(2)))


def parse_tool_version(output: str) -> tuple[Release, str]:
    """``pg_dump (PostgreSQL) 15.10 (Debian ...)`` -> ((15,), '15.10')."""
    m = _TOOL_VERSION_RE.search(output)
    if not m:
        raise ValueError(
            f"cannot parse a PostgreSQL version from {output.strip()[:80]!r}"
        )
    major = int(m.group(1))
    minor = m.group(2)
    full = f"{major}.{minor}" if minor is not None else str(major)
    if major >= 10:
        return (major,), full
    return (major, int(minor or 0)), full


def release_tag(rel: Release) -> str:
    """Tag used in config parameter and file names: (15,) -> '15', (9, 6) -> '9_6'."""
    return "_".join(str(x) for x in rel)


def release_dotted(rel: Release) -> str:
    """Human/catalog form: (15,) -> '15', (9, 6) -> '9.6'."""
    return ".".join(str(x) for x in rel)


def choose_release(node: Release, requested: str | None) -> Release:
    """The pg_dump release to use: the requested one (snapshot) or the node's own.

    A pg_dump older than the server cannot dump it reliably: refused.
    """
    if not requested:
        return node
    rel = parse_release(requested)
    if rel < node:
        raise ValueError(
            f"pg_dump release {release_dotted(rel)} is older than the PgSQL node release "
            f"{release_dotted(node)}"
        )
    return rel


def bindir_candidates(
    want: Release,
    server_config: Mapping[str, str],
    installed: Iterable[tuple[Release, str]],
    *,
    exact: bool = False,
) -> list[str]:
    """Directories to look for client programs in, best first (duplicates removed).

    1. backup-server config ``pgsql_bin_<tag>``; 2. ``/usr/lib/postgresql/<release>/bin``;
    3. unless ``exact`` (a snapshot asked for a given release), every installed bindir whose
    release is >= ``want``, newest first. The caller keeps the first that holds the program.
    """
    out: list[str] = []
    configured = (server_config.get(f"pgsql_bin_{release_tag(want)}") or "").strip()
    if configured:
        out.append(configured)
    out.append(DEFAULT_BIN_TEMPLATE.format(dotted=release_dotted(want)))
    if not exact:
        for rel, path in sorted(installed, key=lambda x: x[0], reverse=True):
            if rel >= want:
                out.append(path)
    unique: list[str] = []
    for path in out:
        if path not in unique:
            unique.append(path)
    return unique
