"""What the offsite copies need from the catalog: the server's offsite configuration, the rows
to upload, expire or verify (with the facts their object keys are derived from), and the one
writer of the offsite columns, ``set_backup_offsite_status()`` (SECURITY DEFINER)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from psycopg2 import sql

from pgbackman.catalog.connection import Catalog, Row

PAGE = 500

# Every fact a row's object keys are derived from (core/offsite.backup_segments), and what
# upload, retention, verification and restore need.
_ROW_TEXT = """
SELECT c.bck_id, c.def_id, c.snapshot_id, c.dbname, c.finished, c.backup_server_id,
       c.pgsql_node_id, c.backup_code, c.checksum, c.pg_dump_file, c.pg_dump_roles_file,
       c.pg_dump_dbconfig_file, c.pg_dump_manifest_file, c.offsite_status,
       c.offsite_location, c.offsite_endpoint, c.local_deleted_at,
       bs.hostname || '.' || bs.domain_name AS server_fqdn,
       pn.hostname || '.' || pn.domain_name AS node_fqdn, pn.pgport AS node_port,
       coalesce(d.retention_redundancy, 1) AS retention_redundancy
  FROM backup_catalog c
  JOIN backup_server bs ON bs.server_id = c.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = c.pgsql_node_id
  LEFT JOIN backup_definition d ON d.def_id = c.def_id
"""


def _rows(where: str) -> sql.Composed:
    """The row query with a constant WHERE/ORDER clause (values are bound parameters)."""
    return sql.Composed([sql.SQL(_ROW_TEXT), sql.SQL(where)])


@dataclass(frozen=True)
class ServerOffsite:
    """A backup server's offsite configuration (catalog values, checked again on use)."""

    url: str
    endpoint_url: str
    retention_period: str

    @property
    def enabled(self) -> bool:
        return bool(self.url.strip())


def server_offsite(cat: Catalog, server_id: int) -> ServerOffsite:
    rows = cat.query(
        "SELECT parameter, value FROM backup_server_config WHERE server_id = %s"
        " AND parameter IN ('offsite_url', 'offsite_endpoint_url', 'offsite_retention_period')",
        (int(server_id),),
    )
    v = {str(r["parameter"]): str(r["value"]) for r in rows}
    return ServerOffsite(
        v.get("offsite_url", ""),
        v.get("offsite_endpoint_url", ""),
        v.get("offsite_retention_period", "90 days"),
    )


def to_upload(cat: Catalog, server_id: int) -> Iterator[Row]:
    """This server's PENDING and ERROR copies whose local files still exist, oldest first,
    page by page (keyset on bck_id)."""
    last = 0
    while True:
        rows = cat.query(
            _rows(
                " WHERE c.backup_server_id = %s AND c.execution_status = 'SUCCEEDED'"
                " AND c.offsite_status IN ('PENDING', 'ERROR') AND c.local_deleted_at IS NULL"
                " AND c.bck_id > %s ORDER BY c.bck_id LIMIT %s"
            ),
            (int(server_id), last, PAGE),
        )
        yield from rows
        if len(rows) < PAGE:
            return
        last = int(rows[-1]["bck_id"])


def retention_rows(cat: Catalog, server_id: int, period: str) -> list[Row]:
    """This server's copies that offsite retention must look at, in one statement: for every
    definition (or snapshot) with an UPLOADED or ERROR copy older than ``period``, all its
    UPLOADED and ERROR copies (the newest intact ones protect the rest), ordered by
    definition, snapshot, finished."""
    return cat.query(
        _rows(
            """
 WHERE c.backup_server_id = %(srv)s AND c.execution_status = 'SUCCEEDED'
   AND c.offsite_status IN ('UPLOADED', 'ERROR')
   AND EXISTS (SELECT 1 FROM backup_catalog o
                WHERE o.backup_server_id = %(srv)s
                  AND o.offsite_status IN ('UPLOADED', 'ERROR')
                  AND o.finished < now() - %(period)s::interval
                  AND (o.def_id = c.def_id OR o.snapshot_id = c.snapshot_id))
 ORDER BY c.def_id NULLS LAST, c.snapshot_id, c.finished, c.bck_id
"""
        ),
        {"srv": int(server_id), "period": period},
    )


def uploaded(cat: Catalog, server_id: int, bck_id: int | None = None) -> Iterator[Row]:
    """UPLOADED copies of this server (or the one ``bck_id``), for --verify --offsite."""
    if bck_id is not None:
        yield from cat.query(
            _rows(
                " WHERE c.bck_id = %s AND c.backup_server_id = %s"
                " AND c.offsite_status = 'UPLOADED'"
            ),
            (int(bck_id), int(server_id)),
        )
        return
    last = 0
    while True:
        rows = cat.query(
            _rows(
                " WHERE c.backup_server_id = %s AND c.offsite_status = 'UPLOADED'"
                " AND c.bck_id > %s ORDER BY c.bck_id LIMIT %s"
            ),
            (int(server_id), last, PAGE),
        )
        yield from rows
        if len(rows) < PAGE:
            return
        last = int(rows[-1]["bck_id"])


def backup_row(cat: Catalog, bck_id: int) -> Row | None:
    """One row with its key facts (a restore fetching the copy)."""
    return cat.query_one(_rows(" WHERE c.bck_id = %s"), (int(bck_id),))


def set_status(
    cat: Catalog,
    bck_id: int,
    status: str,
    *,
    location: str | None = None,
    endpoint: str | None = None,
    error: str | None = None,
) -> str | None:
    """Record the copy's new status; returns it (None: EXPIRED with no local files left, the
    row was deleted)."""
    value = cat.call(
        "set_backup_offsite_status", int(bck_id), status, location, endpoint, error
    )
    return None if value is None else str(value)


def queued_deletions(cat: Catalog, server_id: int) -> list[Row]:
    """Copies of this server whose catalog row was deleted otherwise (forced deletion...):
    the same columns as a catalog row, plus ``del_id``."""
    return cat.query(
        "SELECT del_id, bck_id, def_id, snapshot_id, dbname, finished, backup_server_id,"
        " server_fqdn, node_fqdn, node_port, pg_dump_file, pg_dump_roles_file,"
        " pg_dump_dbconfig_file, pg_dump_manifest_file, offsite_status, offsite_location,"
        " offsite_endpoint FROM offsite_copies_to_delete WHERE backup_server_id = %s"
        " ORDER BY del_id",
        (int(server_id),),
    )


def queued_deletion_done(cat: Catalog, del_id: int) -> None:
    cat.call("delete_offsite_copies_to_delete", int(del_id))
