"""Is a stored backup what the catalog says it is? One check for maintenance and restore.

A backup written by pgbackman_dump is INTACT when its manifest's SHA-256 equals the catalog's
``checksum``, every file the manifest lists is there with that SHA-256, the catalog's dump,
roles and configuration files are covered by the manifest, and they have the sizes the
catalog recorded. Otherwise it is MISSING (a file is gone) or CORRUPT (a checksum or a size
differs). A backup this software wrote without a checksum or manifest in the catalog is
UNVERIFIED: nothing can prove it was not tampered with. A row without ``run_uuid`` was
imported from upstream PgBackMan 1.x, where no manifest existed: it is LEGACY while its
dump file is there. (States: ``backup_catalog.integrity``, D41 in sql/pgbackman.sql.)

Problems are reported as ``MISSING <file>`` / ``MISMATCH <file>`` with paths relative to
the manifest's directory (``dump/``), which is what ``pgbackman_maintenance --verify`` prints.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgbackman.archive.files import sha256_file
from pgbackman.infra.fsutil import tree_size

INTACT = "INTACT"
MISSING = "MISSING"
CORRUPT = "CORRUPT"
UNVERIFIED = "UNVERIFIED"
LEGACY = "LEGACY"
# States that say something is wrong with the backup (an alert each, once per episode).
PROBLEMS = (MISSING, CORRUPT, UNVERIFIED)

# catalog column of a file -> catalog column of its recorded size
_SIZED = (
    ("pg_dump_file", "pg_dump_file_size"),
    ("pg_dump_roles_file", "pg_dump_roles_file_size"),
    ("pg_dump_dbconfig_file", "pg_dump_dbconfig_file_size"),
)


@dataclass(frozen=True)
class Verdict:
    """The state of one backup and, when it is not INTACT, what is wrong (one item each)."""

    state: str
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.state == INTACT

    @property
    def detail(self) -> str:
        return "; ".join(self.problems)


def _text(row: Mapping[str, Any], column: str) -> str | None:
    value = row.get(column)
    if value is None:
        return None
    text = str(value)
    return None if text in ("", "None") else text  # upstream wrote 'None' for no file


def written_by_upstream(
    run_uuid: object, manifest_file: str | None, checksum: str | None
) -> bool:
    """A backup this software did not write: every run of pgbackman_dump records a run_uuid
    (and, when it succeeds, a manifest and its checksum); a row without any of the three was
    imported from PgBackMan 1.x by the catalog upgrade (LEGACY). A row of this software that
    lost its manifest or checksum is NOT legacy: it is UNVERIFIED."""
    return run_uuid is None and manifest_file is None and checksum is None


def check(row: Mapping[str, Any]) -> Verdict:
    """Check the files of one SUCCEEDED catalog row (its backup_catalog columns).

    Reads every file the manifest lists (full SHA-256): callers choose which backups are
    worth that (retention checks only the newest ones it relies on).
    """
    manifest_value = _text(row, "pg_dump_manifest_file")
    checksum = _text(row, "checksum")
    if written_by_upstream(row.get("run_uuid"), manifest_value, checksum):
        dump = _text(row, "pg_dump_file")
        if dump is None or not os.path.lexists(dump):
            return Verdict(
                MISSING, [f"MISSING {Path(dump).name if dump else 'dump file'}"]
            )
        return Verdict(LEGACY, ["legacy backup imported from upstream: no checksum"])
    if manifest_value is None or checksum is None:
        return Verdict(UNVERIFIED, ["no checksum manifest recorded"])
    manifest = Path(manifest_value)
    try:
        text = manifest.read_bytes()
    except FileNotFoundError:
        return Verdict(MISSING, [f"MISSING {manifest.name}"])
    except OSError as exc:
        return Verdict(MISSING, [f"MISSING {manifest.name} ({exc.strerror})"])
    problems: list[str] = []  # in the order found (what --verify prints)
    missing = corrupt = 0
    manifest_forged = hashlib.sha256(text).hexdigest() != checksum
    if manifest_forged:
        problems.append(f"MISMATCH {manifest.name}")
        corrupt += 1
    listed: set[str] = set()
    for line in text.decode("utf-8", errors="replace").splitlines():
        digest, _, rel = line.partition("  ")
        if not rel or "/../" in f"/{rel}/" or rel.startswith("/"):
            problems.append(f"MISMATCH {manifest.name} (malformed line)")
            corrupt += 1
            continue
        listed.add(rel)
        path = manifest.parent / rel
        if path.is_symlink() or not path.is_file():
            problems.append(f"MISSING {rel}")
            missing += 1
            continue
        try:
            actual = sha256_file(path)
        except OSError as exc:
            problems.append(f"MISSING {rel} ({exc.strerror})")
            missing += 1
            continue
        if actual != digest:
            problems.append(f"MISMATCH {rel}")
            corrupt += 1
    for column, size_column in _SIZED:
        value = _text(row, column)
        if value is None:
            continue
        path = Path(value)
        name = path.name
        if path.parent != manifest.parent or not any(
            x == name or x.startswith(name + "/") for x in listed
        ):
            problems.append(f"MISMATCH {name} (not covered by the manifest)")
            corrupt += 1
            continue
        recorded = row.get(size_column)
        if recorded is None or not path.exists():
            continue  # a missing file is reported by its manifest line
        actual_size = tree_size(path)
        if actual_size != int(recorded):
            problems.append(
                f"MISMATCH {name} (size {actual_size}, recorded {recorded})"
            )
            corrupt += 1
    # A manifest that is not the one recorded says nothing true about the files: CORRUPT.
    if missing and not manifest_forged:
        return Verdict(MISSING, problems)
    if corrupt:
        return Verdict(CORRUPT, problems)
    return Verdict(INTACT)
