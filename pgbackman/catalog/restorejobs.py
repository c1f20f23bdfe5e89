"""What pgbackman_restore reads from the catalog: one restore definition joined with the
backup it restores (or the newest good backup of a definition, for a drill), the target
node, and the node/server configuration; and the recording of the result (through
:func:`pgbackman.catalog.jobs.register_restore_catalog`, idempotent on ``run_uuid``).
Restore drills and clones have their own modules (``catalog/drills.py``,
``catalog/clones.py``).

Only ids travel through the at job (``--restore-def N``, ``--drill N``, ``--clone N``);
every other value is read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg2 import sql

from pgbackman.catalog import jobs
from pgbackman.catalog.connection import Catalog


# The columns of the backup a restore, a drill or a clone restores (``bck_*``).
_BACKUP = sql.SQL(
    "b.bck_id AS bck_id, b.def_id AS bck_def_id, b.snapshot_id AS bck_snapshot_id,"
    " b.backup_server_id AS bck_server_id, b.pgsql_node_id AS bck_node_id,"
    " b.dbname AS bck_dbname, b.execution_status AS bck_status,"
    " coalesce(b.backup_code, d.backup_code, s.backup_code) AS bck_code,"
    " b.pg_dump_file AS bck_pg_dump_file, b.pg_dump_roles_file AS bck_roles_file,"
    " b.pg_dump_dbconfig_file AS bck_dbconfig_file,"
    " b.pg_dump_manifest_file AS bck_manifest_file, b.checksum AS bck_checksum,"
    " b.pg_dump_file_size AS bck_pg_dump_file_size,"
    " b.pg_dump_roles_file_size AS bck_roles_file_size,"
    " b.pg_dump_dbconfig_file_size AS bck_dbconfig_file_size,"
    " coalesce(b.role_list, '{}'::text[]) AS bck_role_list,"
    " coalesce(b.excluded_tables, '{}'::text[]) AS bck_excluded_tables,"
    " b.pgsql_node_release AS bck_node_release, b.pg_dump_release AS bck_pg_dump_release,"
    " b.run_uuid AS bck_run_uuid, b.offsite_status AS bck_offsite_status,"
    " b.encrypted AS bck_encrypted, b.compression AS bck_compression,"
    " b.encryption_recipients AS bck_encryption_recipients"
)
_BACKUP_JOINS = sql.SQL(
    "LEFT JOIN backup_definition d ON d.def_id = b.def_id"
    " LEFT JOIN snapshot_definition s ON s.snapshot_id = b.snapshot_id"
)


def get_restore_definition(cat: Catalog, restore_def: int) -> dict[str, Any] | None:
    """The restore definition with the columns of its backup (``bck_*``), or None."""
    return cat.query_one(
        sql.SQL(
            "SELECT r.restore_def, r.backup_server_id, r.target_pgsql_node_id,"
            " r.target_dbname, r.renamed_dbname, coalesce(r.extra_restore_parameters, '')"
            " AS extra_restore_parameters, coalesce(r.roles_to_restore, '{{}}'::text[])"
            " AS roles_to_restore, r.status, r.at_time, {}"
            " FROM restore_definition r JOIN backup_catalog b ON b.bck_id = r.bck_id {}"
            " WHERE r.restore_def = %s"
        ).format(_BACKUP, _BACKUP_JOINS),
        (int(restore_def),),
    )


def newest_succeeded_backup(cat: Catalog, def_id: int) -> dict[str, Any] | None:
    """The newest SUCCEEDED backup of a definition (``bck_*`` columns), or None."""
    return cat.query_one(
        sql.SQL(
            "SELECT {} FROM backup_catalog b {}"
            " WHERE b.def_id = %s AND b.execution_status = 'SUCCEEDED'"
            " ORDER BY b.finished DESC NULLS LAST, b.bck_id DESC LIMIT 1"
        ).format(_BACKUP, _BACKUP_JOINS),
        (int(def_id),),
    )


def record_restore(cat: Catalog, record: Mapping[str, Any]) -> int:
    """Insert one restore result (jobs.RESTORE_FIELDS); returns its restore_id."""
    return jobs.register_restore_catalog(cat, record)
