"""``pgbackman_maintenance --verify [--bck-id N]``: find bit rot in stored backups.

For every SUCCEEDED backup of this server (or one), the manifest written by pgbackman_dump is
read, its SHA-256 compared with the checksum recorded in the catalog (a manifest edited to
match rotten files is caught here), every file it lists is hashed again and the dump, roles
and configuration files must have their recorded sizes
(:func:`pgbackman.archive.integrity.check`). One line per backup on stdout::

    bck_id 12 OK
    bck_id 13 MISMATCH 2024...dump/3001.dat.gz
    bck_id 14 MISSING <path>; MISMATCH <path>
    bck_id 15 UNVERIFIED no checksum manifest recorded
    bck_id 16 LEGACY legacy backup imported from upstream: no checksum

What it finds is recorded in the catalog (``backup_catalog.integrity``, shown by
``show_backup_catalog`` and ``show_backup_details``) and every MISSING, CORRUPT or UNVERIFIED
backup raises one ``Backup-integrity`` alert per episode. Exit status 1 when any backup is
MISSING, CORRUPT or UNVERIFIED (a backup this software wrote without a checksum was tampered
with); LEGACY backups (imported from upstream, never had a checksum) are not a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pgbackman.archive import integrity
from pgbackman.catalog import maintenance as mcat
from pgbackman.catalog import verify as vcat
from pgbackman.catalog.connection import Catalog
from pgbackman.errors import UserInputError
from pgbackman.maintenance.integrity import IntegrityKeeper

log = logging.getLogger("pgbackman_maintenance")


def verify(
    cat: Catalog, srv_id: int, bck_id: int | None, out: Callable[[str], None]
) -> int:
    """Check the backups, record and print one line each; return the exit status (0/1)."""
    keeper = IntegrityKeeper(cat, srv_id, mcat.server_root(cat, srv_id))
    checked = failed = 0
    for row in vcat.succeeded_backups(cat, srv_id, bck_id):
        checked += 1
        verdict = keeper.check(row)
        ident = f"bck_id {row['bck_id']}"
        if verdict.intact:
            out(f"{ident} OK")
        elif verdict.state in (integrity.UNVERIFIED, integrity.LEGACY):
            out(f"{ident} {verdict.state} {verdict.detail}")
            failed += verdict.state == integrity.UNVERIFIED
        else:
            failed += 1
            out(f"{ident} {verdict.detail}")
    if bck_id is not None and checked == 0:
        raise UserInputError(
            f"bck_id {bck_id} is not a SUCCEEDED backup of this backup server with its "
            "local files (see --offsite for a copy whose local files retention deleted)"
        )
    log.info("[verify] %d backup(s) checked, %d with problems", checked, failed)
    return 1 if failed else 0
