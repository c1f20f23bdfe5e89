"""Restore drills in the catalog: the shell's commands (register, update, delete, listings)
and what ``pgbackman_restore --drill N`` reads. Results are recorded through
:func:`pgbackman.catalog.jobs.register_restore_drill_run` (idempotent, spooled when the
catalog is down); the scheduling reads are in :mod:`pgbackman.catalog.control`.

Every change goes through a SECURITY DEFINER function of ``sql/schema/19_restore_drills.sql``
(arguments validated there too); listings read the ``show_restore_drills`` and
``show_restore_drill_details`` views.
"""

from __future__ import annotations

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import (
    IntFilter,
    ids_starting_with,
    int_array,
    read_one,
    read_view,
)


def register(
    cat: Catalog, def_id: int, node_id: int, interval: str, remarks: str | None = None
) -> int:
    return int(
        cat.scalar(
            "SELECT register_restore_drill(%s, %s, %s::interval, %s)",
            (int(def_id), int(node_id), interval, remarks),
        )
    )


def update(
    cat: Catalog,
    drill_id: int,
    node_id: int | None,
    interval: str | None,
    status: str | None,
    remarks: str | None,
) -> None:
    """Change a drill; None keeps a value."""
    cat.scalar(
        "SELECT update_restore_drill(%s, %s, %s::interval, %s, %s)",
        (int(drill_id), node_id, interval, status, remarks),
    )


def delete(cat: Catalog, drill_id: int) -> None:
    cat.call("delete_restore_drill", int(drill_id))


def get(cat: Catalog, drill_id: int) -> Row | None:
    """One drill with its definition: what the shell and ``--drill N`` need."""
    return cat.query_one(
        "SELECT r.drill_id, r.def_id, r.drill_node_id, r.drill_interval::text"
        " AS drill_interval, r.status, r.remarks, d.backup_server_id, d.pgsql_node_id,"
        " d.dbname, d.backup_code, d.job_status"
        " FROM restore_drill r JOIN backup_definition d ON d.def_id = r.def_id"
        " WHERE r.drill_id = %s",
        (int(drill_id),),
    )


def show(cat: Catalog, def_ids: IntFilter) -> list[Row]:
    """Rows of ``show_restore_drills`` (None = every drill)."""
    return read_view(
        cat,
        "show_restore_drills",
        where={"def_id": int_array(def_ids)},
        order_by=("backup_server_id", "pgsql_node_id", "dbname", "def_id", "drill_id"),
    )


def run_details(cat: Catalog, drill_run_id: int) -> Row | None:
    return read_one(cat, "show_restore_drill_details", drill_run_id=int(drill_run_id))


def ids(cat: Catalog, view: str, column: str, prefix: str) -> list[int]:
    """DrillIDs / DrillRunIDs starting with ``prefix`` (tab completion)."""
    return ids_starting_with(cat, view, column, prefix)
