"""What ``pgbackman_maintenance --verify`` reads from the catalog: the SUCCEEDED backups of
one backup server with their manifest file and its recorded SHA-256, page by page (keyset on
bck_id, so a catalog of a million rows is never held in memory at once)."""

from __future__ import annotations

from collections.abc import Iterator

from pgbackman.catalog.connection import Catalog, Row

PAGE = 1000

# Everything pgbackman.archive.integrity.check and the integrity alert need.
_COLUMNS = (
    "SELECT bck_id, def_id, snapshot_id, pgsql_node_id, dbname, finished, run_uuid,"
    " integrity, checksum, pg_dump_manifest_file, pg_dump_file, pg_dump_file_size,"
    " pg_dump_roles_file, pg_dump_roles_file_size, pg_dump_dbconfig_file,"
    " pg_dump_dbconfig_file_size FROM backup_catalog"
)


def succeeded_backups(
    cat: Catalog, srv_id: int, bck_id: int | None = None
) -> Iterator[Row]:
    """SUCCEEDED backups of server ``srv_id`` whose local files have not been deleted (an
    offsite copy may outlive them) in bck_id order (only ``bck_id`` if given)."""
    if bck_id is not None:
        yield from cat.query(
            _COLUMNS + " WHERE bck_id = %s AND backup_server_id = %s"
            " AND execution_status = 'SUCCEEDED' AND local_deleted_at IS NULL",
            (bck_id, srv_id),
        )
        return
    last = 0
    while True:
        rows = cat.query(
            _COLUMNS + " WHERE backup_server_id = %s AND execution_status = 'SUCCEEDED'"
            " AND local_deleted_at IS NULL AND bck_id > %s ORDER BY bck_id LIMIT %s",
            (srv_id, last, PAGE),
        )
        yield from rows
        if len(rows) < PAGE:
            return
        last = int(rows[-1]["bck_id"])
