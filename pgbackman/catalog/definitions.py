"""Catalog access for backup definitions (the periodic, cron-driven jobs) as the shell needs it.

Owns: listing definitions with filters, registering several definitions atomically, update,
delete (plain and forced), moving definitions between backup servers, and the node facts a
registration needs (node config values, which databases already have definitions).
Listings read the ``show_*`` views (:mod:`pgbackman.catalog.listings`); a filter is a list
of values (``= ANY(%s)``), ``None`` means "no filter".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import (
    IntFilter,
    TextFilter,
    ids_starting_with,
    int_array,
    read_view,
    server_node_db,
    text_array,
)
from pgbackman.errors import CatalogError, UserInputError


DEF_ORDER = ("backup_server_id", "pgsql_node_id", "dbname", "def_id")


def show_backup_definitions(
    cat: Catalog, servers: IntFilter, nodes: IntFilter, dbnames: TextFilter
) -> list[Row]:
    """Definitions matching every given filter (lists are OR-ed inside one filter)."""
    return read_view(
        cat,
        "show_backup_definitions",
        where=server_node_db(servers, nodes, dbnames),
        order_by=DEF_ORDER,
    )


def show_empty_backup_catalogs(cat: Catalog) -> list[Row]:
    """Definitions that never produced a catalog row."""
    return read_view(cat, "show_empty_backup_catalogs", order_by=DEF_ORDER)


def get_backup_definition(cat: Catalog, def_id: int) -> Row | None:
    """The raw definition row (current values for update prompts)."""
    return cat.query_one(
        "SELECT def_id, backup_server_id, pgsql_node_id, dbname, minutes_cron, hours_cron,"
        " day_month_cron, month_cron, weekday_cron, backup_code, encryption,"
        " retention_period::text AS retention_period, retention_redundancy,"
        " extra_backup_parameters, job_status, remarks, backup_compression"
        " FROM backup_definition WHERE def_id = %s",
        (int(def_id),),
    )


def node_status(cat: Catalog, node_id: int) -> str | None:
    value = cat.scalar(
        "SELECT status FROM pgsql_node WHERE node_id = %s", (int(node_id),)
    )
    return None if value is None else str(value)


def dbnames_with_definitions(cat: Catalog, node_id: int) -> set[str]:
    """Databases of a node that have a non-DELETED definition on any backup server."""
    rows = cat.query(
        "SELECT DISTINCT dbname FROM backup_definition"
        " WHERE pgsql_node_id = %s AND job_status <> 'DELETED'",
        (int(node_id),),
    )
    return {r["dbname"] for r in rows}


def check_interval(cat: Catalog, value: str, label: str = "Retention period") -> str:
    """Let PostgreSQL judge an interval; returns its canonical text."""
    try:
        return str(cat.scalar("SELECT %s::interval::text", (value,)))
    except (UserInputError, CatalogError):
        raise UserInputError(
            f"{label} [{value}] is not a valid interval (e.g. '7 days')"
        ) from None


@dataclass(frozen=True)
class NewDefinition:
    """Everything register_backup_definition needs for one database."""

    server_id: int
    node_id: int
    dbname: str
    minutes: str
    hours: str
    day_month: str
    month: str
    weekday: str
    backup_code: str
    encryption: bool
    retention_period: str
    retention_redundancy: int
    extra_parameters: str
    job_status: str
    remarks: str
    backup_compression: str | None = None  # None: the node's backup_compression

    def args(self) -> tuple[Any, ...]:
        return (
            self.server_id,
            self.node_id,
            self.dbname,
            self.minutes,
            self.hours,
            self.day_month,
            self.month,
            self.weekday,
            self.backup_code,
            self.encryption,
            self.retention_period,
            self.retention_redundancy,
            self.extra_parameters,
            self.job_status,
            self.remarks,
            self.backup_compression,
        )


def register_backup_definitions(
    cat: Catalog, defs: Sequence[NewDefinition]
) -> list[int]:
    """Register all definitions in ONE transaction: all of them or none."""
    ids: list[int] = []
    with cat.transaction():
        for d in defs:
            ids.append(int(cat.call("register_backup_definition", *d.args())))
    return ids


def update_backup_definition(
    cat: Catalog,
    def_id: int,
    minutes: str,
    hours: str,
    day_month: str,
    month: str,
    weekday: str,
    retention_period: str,
    retention_redundancy: int,
    extra_parameters: str,
    job_status: str,
    remarks: str,
    backup_compression: str | None = None,
    encryption: bool | None = None,
) -> None:
    """Arguments are passed by name to the SQL function's order (no dom/dow swap);
    ``backup_compression`` None keeps the value, ``default`` goes back to the node's."""
    cat.call(
        "update_backup_definition",
        int(def_id),
        minutes,
        hours,
        day_month,
        month,
        weekday,
        retention_period,
        int(retention_redundancy),
        extra_parameters,
        job_status,
        remarks,
        backup_compression,
        encryption,
    )


def encrypted_definitions(cat: Catalog, server_id: int) -> int:
    """Active or stopped definitions of a backup server that must be encrypted."""
    return int(
        cat.scalar(
            "SELECT count(*) FROM backup_definition WHERE backup_server_id = %s"
            " AND encryption AND job_status <> 'DELETED'",
            (int(server_id),),
        )
    )


def delete_backup_definition_id(cat: Catalog, def_id: int, force: bool) -> None:
    fn = "delete_force_backup_definition_id" if force else "delete_backup_definition_id"
    cat.call(fn, int(def_id))


def delete_backup_definition_dbname(
    cat: Catalog, node_id: int, dbname: str, force: bool
) -> None:
    fn = (
        "delete_force_backup_definition_dbname"
        if force
        else "delete_backup_definition_dbname"
    )
    cat.call(fn, int(node_id), dbname)


def move_backup_definitions(
    cat: Catalog,
    from_server: int,
    to_server: int,
    nodes: IntFilter,
    dbnames: TextFilter,
    def_ids: IntFilter,
) -> int:
    """One catalog function; its update_job_queue trigger regenerates crontabs on both servers."""
    return int(
        cat.scalar(
            "SELECT move_backup_definitions(%s, %s, %s::bigint[], %s::text[], %s::bigint[])",
            (
                int(from_server),
                int(to_server),
                int_array(nodes),
                text_array(dbnames),
                int_array(def_ids),
            ),
        )
    )


def def_ids(cat: Catalog, prefix: str = "") -> list[int]:
    """DefIDs starting with ``prefix`` (tab completion), newest first."""
    return ids_starting_with(cat, "show_backup_definitions", "def_id", prefix)
