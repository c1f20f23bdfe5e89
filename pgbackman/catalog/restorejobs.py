"""What pgbackman_restore reads from the catalog: one restore definition joined with the
backup it restores, the target node, and the node/server configuration; and the recording
of the result (through :func:`pgbackman.catalog.jobs.register_restore_catalog`, idempotent on
``run_uuid``).

Only ids travel through the at job (``--restore-def N``); every other value is read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgbackman.catalog import jobs
from pgbackman.catalog.connection import Catalog


def get_restore_definition(cat: Catalog, restore_def: int) -> dict[str, Any] | None:
    """The restore definition with the columns of its backup (``bck_*``), or None."""
    return cat.query_one(
        "SELECT r.restore_def, r.bck_id, r.backup_server_id, r.target_pgsql_node_id,"
        " r.target_dbname, r.renamed_dbname, coalesce(r.extra_restore_parameters, '')"
        " AS extra_restore_parameters, coalesce(r.roles_to_restore, '{}'::text[])"
        " AS roles_to_restore, r.status, r.at_time,"
        " b.def_id AS bck_def_id, b.snapshot_id AS bck_snapshot_id,"
        " b.backup_server_id AS bck_server_id, b.pgsql_node_id AS bck_node_id,"
        " b.dbname AS bck_dbname, b.execution_status AS bck_status,"
        " coalesce(b.backup_code, d.backup_code, s.backup_code) AS bck_code,"
        " b.pg_dump_file AS bck_pg_dump_file, b.pg_dump_roles_file AS bck_roles_file,"
        " b.pg_dump_dbconfig_file AS bck_dbconfig_file,"
        " b.pg_dump_manifest_file AS bck_manifest_file, b.checksum AS bck_checksum,"
        " coalesce(b.role_list, '{}'::text[]) AS bck_role_list,"
        " b.pgsql_node_release AS bck_node_release, b.pg_dump_release AS bck_pg_dump_release,"
        " b.run_uuid AS bck_run_uuid, b.offsite_status AS bck_offsite_status,"
        " b.encrypted AS bck_encrypted, b.compression AS bck_compression,"
        " b.encryption_recipients AS bck_encryption_recipients"
        " FROM restore_definition r"
        " JOIN backup_catalog b ON b.bck_id = r.bck_id"
        " LEFT JOIN backup_definition d ON d.def_id = b.def_id"
        " LEFT JOIN snapshot_definition s ON s.snapshot_id = b.snapshot_id"
        " WHERE r.restore_def = %s",
        (int(restore_def),),
    )


def record_restore(cat: Catalog, record: Mapping[str, Any]) -> int:
    """Insert one restore result (jobs.RESTORE_FIELDS); returns its restore_id."""
    return jobs.register_restore_catalog(cat, record)
