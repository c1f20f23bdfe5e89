"""Catalog access for PgSQL nodes (shell side): list, look up, register, update, delete, config.

Every statement uses bound parameters; listings read the ``show_*`` views
(:mod:`pgbackman.catalog.listings`).
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import read_view

_NODE_COLUMNS = (
    "SELECT node_id, hostname, domain_name, hostname || '.' || domain_name AS fqdn, pgport,"
    "       admin_user, status, remarks, registered FROM pgsql_node"
)


def list_nodes(cat: Catalog) -> list[Row]:
    """Every PgSQL node (view show_pgsql_nodes: NodeID, FQDN, Pgport, Admin user, ...)."""
    return read_view(
        cat,
        "show_pgsql_nodes",
        order_by=("domain_name", "hostname", "Pgport", "Admin user", "Status"),
    )


def get_node(cat: Catalog, node_id: int) -> Row | None:
    return cat.query_one(_NODE_COLUMNS + " WHERE node_id = %s", (node_id,))


def node_ids_by_fqdn(cat: Catalog, fqdn: str, port: int | None = None) -> list[int]:
    """Ids of the nodes called ``fqdn`` (on ``port`` when given); several = ambiguous."""
    if port is None:
        rows = cat.query(
            "SELECT node_id FROM pgsql_node WHERE lower(hostname || '.' || domain_name) = lower(%s)"
            " ORDER BY node_id",
            (fqdn,),
        )
    else:
        rows = cat.query(
            "SELECT node_id FROM pgsql_node"
            " WHERE lower(hostname || '.' || domain_name) = lower(%s) AND pgport = %s ORDER BY node_id",
            (fqdn, port),
        )
    return [int(r["node_id"]) for r in rows]


def node_fqdns(cat: Catalog) -> list[str]:
    """FQDNs only (cheap; used by tab completion)."""
    return sorted({r["FQDN"] for r in list_nodes(cat)})


def default_parameter(cat: Catalog, parameter: str) -> str:
    """Value of a ``pgsql_node_default_config`` parameter."""
    return str(cat.call("get_default_pgsql_node_parameter", parameter))


def register_node(
    cat: Catalog,
    hostname: str,
    domain: str,
    pgport: int,
    admin_user: str,
    status: str,
    remarks: str,
) -> int:
    return int(
        cat.call(
            "register_pgsql_node", hostname, domain, pgport, admin_user, status, remarks
        )
    )


def delete_node(cat: Catalog, node_id: int) -> None:
    cat.call("delete_pgsql_node", node_id)


def update_node(
    cat: Catalog, node_id: int, pgport: int, admin_user: str, status: str, remarks: str
) -> None:
    cat.call("update_pgsql_node", node_id, pgport, admin_user, status, remarks)


def node_config(cat: Catalog, node_id: int) -> list[Row]:
    """Parameter / Value / Description of one node, ordered by parameter."""
    return read_view(
        cat,
        "show_pgsql_node_config",
        where={"node_id": int(node_id)},
        order_by=("Parameter",),
    )


def node_config_dict(cat: Catalog, node_id: int) -> dict[str, str]:
    return {r["Parameter"]: r["Value"] for r in node_config(cat, node_id)}


def update_node_config(cat: Catalog, node_id: int, changes: dict[str, Any]) -> None:
    """Set several node parameters atomically; the catalog validates each value again."""
    with cat.transaction():
        for parameter, value in changes.items():
            cat.call("update_pgsql_node_config", node_id, parameter, str(value))
