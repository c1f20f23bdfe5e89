"""Clones in the catalog: the shell's ``clone_database`` and what ``pgbackman_restore
--clone N`` reads and records. Every change goes through a SECURITY DEFINER function of
``sql/schema/19_clones.sql``; the at job is queued by pgbackman_control
(:mod:`pgbackman.catalog.control`).
"""

from __future__ import annotations

import datetime as _dt

from pgbackman.catalog.connection import Catalog, Row

ALL_ROLES = "#all#"  # every role the snapshot carries


def register(
    cat: Catalog,
    at_time: _dt.datetime,
    server_id: int,
    source_node_id: int,
    source_dbname: str,
    target_node_id: int,
    target_dbname: str,
    renamed_dbname: str | None,
    extra_restore_parameters: str,
    roles: list[str],
) -> int:
    return int(
        cat.scalar(
            "SELECT register_clone_definition(%s, %s, %s, %s, %s, %s, %s, %s, %s::text[])",
            (
                at_time,
                int(server_id),
                int(source_node_id),
                source_dbname,
                int(target_node_id),
                target_dbname,
                renamed_dbname,
                extra_restore_parameters,
                list(roles),
            ),
        )
    )


def get(cat: Catalog, clone_id: int) -> Row | None:
    return cat.query_one(
        "SELECT c.*, sn.hostname || '.' || sn.domain_name AS source_node,"
        " tn.hostname || '.' || tn.domain_name AS target_node"
        " FROM clone_definition c"
        " JOIN pgsql_node sn ON sn.node_id = c.source_pgsql_node_id"
        " JOIN pgsql_node tn ON tn.node_id = c.target_pgsql_node_id"
        " WHERE c.clone_id = %s",
        (int(clone_id),),
    )


def start_snapshot(cat: Catalog, clone_id: int) -> int:
    """The clone's snapshot definition (FULL, now, DEFINED: run by the clone itself)."""
    return int(cat.call("start_clone_snapshot", int(clone_id)))


def snapshot_backup(cat: Catalog, snapshot_id: int) -> Row | None:
    """The backup_catalog row the snapshot produced (None when it was not recorded)."""
    return cat.query_one(
        "SELECT bck_id, execution_status, error_message FROM backup_catalog"
        " WHERE snapshot_id = %s ORDER BY bck_id DESC LIMIT 1",
        (int(snapshot_id),),
    )


def define_restore(cat: Catalog, clone_id: int, bck_id: int) -> int:
    """The clone's restore definition of ``bck_id`` (DEFINED: run by the clone itself)."""
    return int(cat.call("define_clone_restore", int(clone_id), int(bck_id)))


def record_error(cat: Catalog, clone_id: int, message: str) -> None:
    cat.call("record_clone_error", int(clone_id), message)
