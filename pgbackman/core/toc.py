"""Which files a pg_dump -Fd archive must hold, from its table of contents (pure rules).

``pg_restore --list`` prints one line per entry: ``<dump id>; <catalog oid> <oid> <desc>
...``. An entry with data has a file of its own in the directory, whose name pg_dump
derives from the entry (pg_backup_directory.c): ``TABLE DATA`` -> ``<dump id>.dat``, the
large objects (``BLOBS``) -> a list file ``blobs.toc`` (``blobs_<dump id>.toc`` from
PostgreSQL 17) naming one ``blob_<oid>.dat`` per object. A compressed file carries the
method's suffix (``.gz``, ``.lz4``, ``.zst``). ``pg_restore -f /dev/null`` opens every one of
them; :func:`missing_files` says which of them an archive lacks, so that the read-back
check (archive/readback.py) can prove it read every file pg_restore would need.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

TOC_FILE = "toc.dat"
_ENTRY_RE = re.compile(r"^(\d+); \d+ \d+ (TABLE DATA|BLOBS) ")
COMPRESSED_SUFFIXES = ("", ".gz", ".lz4", ".zst")


def data_entries(listing: str) -> tuple[list[int], list[int]]:
    """(dump ids of TABLE DATA entries, dump ids of BLOBS entries) of a listing."""
    tables: list[int] = []
    blobs: list[int] = []
    for line in listing.splitlines():
        m = _ENTRY_RE.match(line)
        if m:
            (tables if m.group(2) == "TABLE DATA" else blobs).append(int(m.group(1)))
    return tables, blobs


def is_toc_name(name: str) -> bool:
    """The archive's own table of contents and the large-object lists: read by
    ``pg_restore --list`` and :func:`blobs_toc_files`, not decoded as data."""
    return name == TOC_FILE or (name.startswith("blobs") and name.endswith(".toc"))


def blobs_toc_name(dump_id: int, names: Collection[str]) -> str:
    per_entry = f"blobs_{dump_id}.toc"
    return per_entry if per_entry in names else "blobs.toc"


def blobs_toc_files(text: str) -> list[str]:
    """The data file names a large-object list names (``<oid> <file>`` per line)."""
    out = []
    for line in text.splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[0].isdigit() and parts[1]:
            out.append(parts[1])
    return out


def _present(base: str, names: Collection[str]) -> bool:
    return any(base + sfx in names for sfx in COMPRESSED_SUFFIXES)


def missing_files(
    listing: str, names: Collection[str], read_text: Callable[[str], str]
) -> list[str]:
    """The data files the listing needs that are not in ``names`` (the files read back);
    ``read_text(name)`` reads a large-object list of the archive."""
    tables, blobs = data_entries(listing)
    missing = [f"{i}.dat" for i in tables if not _present(f"{i}.dat", names)]
    for dump_id in blobs:
        toc = blobs_toc_name(dump_id, names)
        if toc not in names:
            missing.append(toc)
            continue
        missing += [
            f for f in blobs_toc_files(read_text(toc)) if not _present(f, names)
        ]
    return missing
