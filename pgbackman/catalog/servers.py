"""Catalog access for backup servers (shell side): list, look up, register, update, delete.

Every statement uses bound parameters; listings read the ``show_*`` views
(:mod:`pgbackman.catalog.listings`).
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import read_view
from pgbackman.errors import ServerNotRegisteredError


def list_servers(cat: Catalog) -> list[Row]:
    """Every backup server (view show_backup_servers: SrvID, FQDN, Status, Remarks)."""
    return read_view(
        cat, "show_backup_servers", order_by=("domain_name", "hostname", "Status")
    )


def get_server(cat: Catalog, server_id: int) -> Row | None:
    return cat.query_one(
        "SELECT server_id, hostname, domain_name, hostname || '.' || domain_name AS fqdn,"
        "       status, remarks, registered"
        "  FROM backup_server WHERE server_id = %s",
        (server_id,),
    )


def server_id_by_fqdn(cat: Catalog, fqdn: str) -> int | None:
    value = cat.call("get_backup_server_id", fqdn)
    return int(value) if value is not None else None


def registered(fqdn: str, server_id: int | None) -> int:
    """``server_id`` of backup server ``fqdn``; ServerNotRegisteredError when it is None."""
    if server_id is None:
        raise ServerNotRegisteredError(
            f"Backup server {fqdn} is not registered in the catalog; "
            "register it with register_backup_server"
        )
    return server_id


def server_fqdns(cat: Catalog) -> list[str]:
    """FQDNs only (cheap; used by tab completion)."""
    return [r["FQDN"] for r in list_servers(cat)]


def default_parameter(cat: Catalog, parameter: str) -> str:
    """Value of a ``backup_server_default_config`` parameter."""
    return str(cat.call("get_default_backup_server_parameter", parameter))


def register_server(
    cat: Catalog, hostname: str, domain: str, status: str, remarks: str
) -> int:
    """Register a backup server; empty domain/status take the catalog defaults."""
    return int(cat.call("register_backup_server", hostname, domain, status, remarks))


def delete_server(cat: Catalog, server_id: int) -> None:
    cat.call("delete_backup_server", server_id)


def update_server(cat: Catalog, server_id: int, remarks: str) -> None:
    cat.call("update_backup_server", server_id, remarks)


def server_config(cat: Catalog, server_id: int) -> list[Row]:
    """Parameter / Value / Description of one server, ordered by parameter."""
    return read_view(
        cat,
        "show_backup_server_config",
        where={"server_id": int(server_id)},
        order_by=("Parameter",),
    )


def server_config_dict(cat: Catalog, server_id: int) -> dict[str, str]:
    return {r["Parameter"]: r["Value"] for r in server_config(cat, server_id)}


def update_server_config(cat: Catalog, server_id: int, changes: dict[str, Any]) -> None:
    """Set several parameters atomically (all or nothing)."""
    with cat.transaction():
        for parameter, value in changes.items():
            cat.call("update_backup_server_config", server_id, parameter, value)
