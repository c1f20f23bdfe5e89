"""Pending results: backup/restore outcomes written while the catalog was unreachable.

One JSON file per result, ``<root>/pending_updates/<kind>_<run_uuid>.json`` (mode 0600,
tmp + fsync + rename). Ingestion (pgbackman_maintenance) inserts with
``ON CONFLICT (run_uuid) DO NOTHING`` and only then unlinks the file, so a result is
recorded exactly once even if ingestion is killed between the two steps or runs twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgbackman.infra.fsutil import atomic_write, ensure_dir

PENDING_DIR = "pending_updates"
KINDS = ("backup", "restore", "drill", "alert")
# Files that can never be ingested are moved here (catalog/jobs.py) for a person to look at.
REJECTED_DIR = "rejected"


def pending_dir(root: str | Path) -> Path:
    return Path(root) / PENDING_DIR


def write_pending(root: str | Path, kind: str, record: dict[str, Any]) -> Path:
    """Spool ``record`` (must carry a ``run_uuid``); returns the file written."""
    if kind not in KINDS:
        raise ValueError(f"unknown pending kind {kind!r}")
    run_uuid = str(uuid.UUID(str(record["run_uuid"])))
    d = ensure_dir(pending_dir(root), 0o700)
    path = d / f"{kind}_{run_uuid}.json"
    atomic_write(
        path, json.dumps({"kind": kind, "record": record}, default=str, indent=1), 0o600
    )
    return path


def iter_pending(
    root: str | Path, kind: str
) -> Iterator[tuple[Path, dict[str, Any] | None]]:
    """Yield (path, record) for every pending file of ``kind``; record is None if unreadable."""
    d = pending_dir(root)
    if not d.is_dir():
        return
    for path in sorted(d.glob(f"{kind}_*.json")):
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            record = data.get("record") if isinstance(data, dict) else None
            yield path, record if isinstance(record, dict) else None
        except (OSError, ValueError):
            yield path, None


@dataclass(frozen=True)
class PendingSummary:
    """Pending result files waiting for ingestion (``overdue``: those older than asked),
    the oldest one's mtime (epoch seconds) and the rejected files that never will be."""

    count: int
    overdue: int
    oldest_mtime: float | None
    rejected: int


def pending_summary(
    root: str | Path, older_than: float | None = None
) -> PendingSummary:
    """Count the spool; ``overdue`` counts files with an mtime <= ``older_than`` (epoch s).

    Only names and mtimes are read (monitoring calls this on every check or scrape).
    """
    d = pending_dir(root)
    if not d.is_dir():
        return PendingSummary(0, 0, None, 0)
    count = overdue = 0
    oldest: float | None = None
    for kind in KINDS:
        for path in d.glob(f"{kind}_*.json"):
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue  # ingested meanwhile
            count += 1
            overdue += older_than is not None and mtime <= older_than
            oldest = mtime if oldest is None else min(oldest, mtime)
    rejected = sum(1 for _ in (d / REJECTED_DIR).glob("*.json"))
    return PendingSummary(count, overdue, oldest, rejected)


# PgBackMan 1.x spooled results as one '::'-separated line per file (upstream §4.7, §5.3).
LEGACY_PATTERNS = (
    "backup_jobs_pending_log_updates_nodeid_*.log",
    "restore_jobs_pending_log_updates_nodeid_*.log",
)


def legacy_pending(root: str | Path) -> list[Path]:
    """Pending results left by PgBackMan 1.x: this version cannot ingest them (they must
    be registered by 1.x before the catalog upgrade, see the manual's migration chapter)."""
    d = pending_dir(root)
    if not d.is_dir():
        return []
    return sorted(p for pattern in LEGACY_PATTERNS for p in d.glob(pattern))
