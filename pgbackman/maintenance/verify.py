"""``pgbackman_maintenance --verify [--bck-id N]``: find bit rot in stored backups.

For every SUCCEEDED backup of this server (or one), the manifest written by pgbackman_dump is
read, its SHA-256 compared with the checksum recorded in the catalog (a manifest edited to
match rotten files is caught here), and every file it lists is hashed again. One line per
backup on stdout::

    bck_id 12 OK
    bck_id 13 MISMATCH 2024...dump/3001.dat.gz
    bck_id 14 MISSING <path>; MISMATCH <path>
    bck_id 15 UNVERIFIED no checksum manifest recorded

UNVERIFIED (rows without a manifest, e.g. imported from upstream PgBackMan) is reported but
is not a failure; any MISMATCH or MISSING makes the exit status 1. Nothing is changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from pgbackman.archive import files as dumpfiles
from pgbackman.catalog import verify as vcat
from pgbackman.catalog.connection import Catalog, Row
from pgbackman.errors import UserInputError

log = logging.getLogger("pgbackman_maintenance")


def check_backup(row: Row) -> tuple[str, list[str]]:
    """(verdict, problems) of one backup: OK, UNVERIFIED or PROBLEM with its problem list."""
    manifest_value = row.get("pg_dump_manifest_file")
    if not manifest_value:
        return "UNVERIFIED", ["no checksum manifest recorded"]
    manifest = Path(str(manifest_value))
    try:
        text = manifest.read_bytes()
    except FileNotFoundError:
        return "PROBLEM", [f"MISSING {manifest}"]
    except OSError as exc:
        return "PROBLEM", [f"MISSING {manifest} ({exc.strerror})"]
    problems = []
    checksum = row.get("checksum")
    if checksum and hashlib.sha256(text).hexdigest() != checksum:
        problems.append(f"MISMATCH {manifest.name}")
    for line in text.decode("utf-8", errors="replace").splitlines():
        digest, _, rel = line.partition("  ")
        if not rel:
            problems.append(f"MISMATCH {manifest.name} (malformed line)")
            continue
        path = manifest.parent / rel
        if not path.is_file():
            problems.append(f"MISSING {rel}")
            continue
        try:
            actual = dumpfiles.sha256_file(path)
        except OSError as exc:
            problems.append(f"MISSING {rel} ({exc.strerror})")
            continue
        if actual != digest:
            problems.append(f"MISMATCH {rel}")
    return ("PROBLEM", problems) if problems else ("OK", [])


def verify(
    cat: Catalog, srv_id: int, bck_id: int | None, out: Callable[[str], None]
) -> int:
    """Check the backups and print one line each; return the exit status (0 or 1)."""
    checked = failed = 0
    for row in vcat.succeeded_backups(cat, srv_id, bck_id):
        checked += 1
        verdict, problems = check_backup(row)
        ident = f"bck_id {row['bck_id']}"
        if verdict == "OK":
            out(f"{ident} OK")
        elif verdict == "UNVERIFIED":
            out(f"{ident} UNVERIFIED {problems[0]}")
            log.warning("[verify] %s: %s", ident, problems[0])
        else:
            failed += 1
            out(f"{ident} {'; '.join(problems)}")
            log.error(
                "[verify] %s (%s): %s", ident, row.get("dbname"), "; ".join(problems)
            )
    if bck_id is not None and checked == 0:
        raise UserInputError(
            f"bck_id {bck_id} is not a SUCCEEDED backup of this backup server"
        )
    log.info("[verify] %d backup(s) checked, %d with problems", checked, failed)
    return 1 if failed else 0
