"""Catalog access for PgSQL nodes (shell side): list, look up, register, update, delete, config.

Every statement uses bound parameters; ids are selected as numbers from the tables.
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog.connection import Catalog, Row

_NODE_COLUMNS = (
    "SELECT node_id, hostname, domain_name, hostname || '.' || domain_name AS fqdn, pgport,"
    "       admin_user, status, remarks, registered FROM pgsql_node"
)


def list_nodes(cat: Catalog) -> list[Row]:
    """Every PgSQL node, ordered like upstream's ``show_pgsql_nodes`` view."""
    return cat.query(
        _NODE_COLUMNS + " ORDER BY domain_name, hostname, pgport, admin_user, status"
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
    return sorted({r["fqdn"] for r in list_nodes(cat)})


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
    """Parameter / value / description of one node, ordered by parameter."""
    return cat.query(
        "SELECT parameter, value, description FROM pgsql_node_config"
        " WHERE node_id = %s ORDER BY parameter",
        (node_id,),
    )


def node_config_dict(cat: Catalog, node_id: int) -> dict[str, str]:
    return {r["parameter"]: r["value"] for r in node_config(cat, node_id)}


def update_node_config(cat: Catalog, node_id: int, changes: dict[str, Any]) -> None:
    """Set several node parameters atomically; the catalog validates each value again."""
    with cat.transaction():
        for parameter, value in changes.items():
            cat.call("update_pgsql_node_config", node_id, parameter, str(value))
