"""``pgbackman_maintenance --verify --offsite [--bck-id N]``: check the offsite copies.

For every UPLOADED copy of this server (or one), the manifest object is read and its SHA-256
compared with the catalog's checksum, then every object it lists is read back in full and
hashed (streamed: nothing is written). One line per backup on stdout::

    bck_id 12 OFFSITE OK s3://bucket/prefix/.../
    bck_id 13 OFFSITE MISMATCH app1-...-DATABASE/3001.dat.gz
    bck_id 14 OFFSITE MISSING app1-...-MANIFEST.sha256 (...)

Any MISMATCH or MISSING makes the exit status 1. Nothing is changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pgbackman.catalog import offsite as ocat
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.errors import OffsiteError, UserInputError
from pgbackman.infra.objectstore import ObjectStore
from pgbackman.offsite import copies, store_for

log = logging.getLogger("pgbackman_maintenance")


def verify_offsite(
    cfg: Config,
    cat: Catalog,
    srv_id: int,
    bck_id: int | None,
    out: Callable[[str], None],
) -> int:
    """Check the copies and print one line each; return the exit status (0 or 1)."""
    stores: dict[str, ObjectStore] = {}
    checked = failed = 0
    for row in ocat.uploaded(cat, srv_id, bck_id):
        checked += 1
        ident = f"bck_id {row['bck_id']} OFFSITE"
        endpoint = str(row["offsite_endpoint"] or "")
        try:
            if endpoint not in stores:
                stores[endpoint] = store_for(cfg, endpoint)
            problems = copies.verify(stores[endpoint], row)
        except OffsiteError as exc:
            problems = [f"UNREADABLE ({exc})"]
        if problems:
            failed += 1
            out(f"{ident} {'; '.join(problems)}")
            log.error("[verify] %s (%s): %s", ident, row["dbname"], "; ".join(problems))
        else:
            out(f"{ident} OK {row['offsite_location']}")
    if bck_id is not None and checked == 0:
        raise UserInputError(
            f"bck_id {bck_id} has no UPLOADED offsite copy on this backup server"
        )
    log.info("[verify] %d offsite copies checked, %d with problems", checked, failed)
    return 1 if failed else 0
