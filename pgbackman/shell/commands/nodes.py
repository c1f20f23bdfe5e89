"""PgSQL node commands: show, register, update, delete, stats."""

from __future__ import annotations

from typing import Any

from pgbackman.catalog import nodes as cat_nodes
from pgbackman.catalog import stats as cat_stats
from pgbackman.core import validate
from pgbackman.errors import CatalogError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands._stats import counters
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import ALL_CORRECT, UPDATE_CORRECT, command

NODE_COLUMNS = ["NodeID", "FQDN", "Pgport", "Admin user", "Status", "Remarks"]
STATUSES = K.words(*validate.SERVER_STATUSES)


def _catalog_default(parameter: str) -> Any:
    return lambda ctx, v: cat_nodes.default_parameter(ctx.cat, parameter)


def _current(column: str) -> Any:
    return lambda ctx, v: str(ctx.node_row(v.node)[column] or "")


def _port(default: Any) -> Param:
    return Param(
        "port",
        "Port",
        lambda ctx, v, text: validate.port(text),
        default=default,
        placeholder="[pgport]",
        help='PostgreSQL port (1-65535; "" = default).',
    )


def _admin(default: Any) -> Param:
    return Param(
        "admin_user",
        "Admin user",
        K.checked(validate.role_name, "Admin user"),
        default=default,
        placeholder="[admin_user]",
        help='PostgreSQL admin user ("" = default).',
    )


def _status(default: Any) -> Param:
    return Param(
        "status",
        "Status",
        K.checked(validate.server_status, "Status"),
        default=default,
        complete=STATUSES,
        placeholder="[status]",
        help="RUNNING (PostgreSQL node running and online) or STOPPED (not online).",
    )


def _domain(ctx: ShellContext, v: Values) -> str:
    return ctx.default_domain(cat_nodes.default_parameter(ctx.cat, "domain"))


@command(
    "show_pgsql_nodes",
    doc="""
    Shows every PgSQL node registered in PgBackMan: NodeID, FQDN, port, admin user, status
    and remarks.
    """,
)
def show_pgsql_nodes(ctx: ShellContext, v: Values) -> None:
    ctx.out.table(
        "pgsql_nodes",
        NODE_COLUMNS,
        cat_nodes.list_nodes(ctx.cat),
        left=("FQDN", "Remarks"),
    )


@command(
    "register_pgsql_node",
    params=[
        Param(
            "hostname",
            "Hostname",
            K.checked(validate.hostname, "Hostname"),
            placeholder="[hostname]",
            help="Hostname of the PgSQL node.",
        ),
        Param(
            "domain",
            "Domain",
            K.checked(validate.hostname, "Domain"),
            default=_domain,
            placeholder="[domain]",
            help="Domain name of the PgSQL node (default: the 'domain' of "
            "pgsql_node_default_config when it was set, else the domain of this host).",
        ),
        _port(_catalog_default("pgport")),
        _admin(_catalog_default("admin_user")),
        _status(_catalog_default("pgsql_node_status")),
        K.remarks(),
    ],
    doc="Registers a PgSQL node in PgBackMan.",
    notes="""
    All backup definitions of a PgSQL node are started/stopped automatically when its
    status changes to RUNNING/STOPPED. The default value of a parameter is shown between
    brackets []. The command can be run with all parameters or without any. e.g.

      [pgbackman]$ register_pgsql_node pg-node01 "" "" "" running "Test node"

      [Done] PgSQL node pg-node01.example.org registered.
    """,
    confirm=ALL_CORRECT,
)
def register_pgsql_node(ctx: ShellContext, v: Values) -> None:
    cat_nodes.register_node(
        ctx.cat, v.hostname, v.domain, v.port, v.admin_user, v.status, v.remarks
    )
    ctx.out.done(f"PgSQL node {v.hostname}.{v.domain} registered.")


@command(
    "delete_pgsql_node",
    params=[
        K.node(
            help="NodeID in PgBackMan or FQDN (host.domain or host.domain:port) of the "
            "PgSQL node to delete."
        )
    ],
    doc="Deletes a PgSQL node registered in PgBackMan.",
    notes="""
    All backup definitions, snapshots and catalog entries of the node must be deleted first;
    the deletion of a node still in use fails and cannot be forced. e.g.

      [pgbackman]$ delete_pgsql_node 4

      [Done] PgSQL node deleted.
    """,
    confirm="Are you sure you want to delete this server? (yes/no)",
    readonly=False,
)
def delete_pgsql_node(ctx: ShellContext, v: Values) -> None:
    try:
        cat_nodes.delete_node(ctx.cat, v.node)
    except CatalogError as exc:
        raise CatalogError(
            f"Could not delete this PgSQL node: {exc}", sqlstate=exc.sqlstate
        ) from None
    ctx.out.done("PgSQL node deleted.")


@command(
    "update_pgsql_node",
    params=[
        K.node(),
        _port(_current("pgport")),
        _admin(_current("admin_user")),
        Param(
            "status",
            "Status",
            K.keep_current(
                K.checked(validate.server_status, "Status"), _current("status")
            ),
            default=_current("status"),
            complete=STATUSES,
            placeholder="[status]",
            help="RUNNING or STOPPED.",
        ),
        K.remarks(_current("remarks")),
    ],
    doc="""
    Updates a PgSQL node; "" keeps the current value. Changing the status between RUNNING
    and STOPPED switches all the cron jobs of the node on or off.
    """,
    notes="""
    e.g.
      [pgbackman]$ update_pgsql_node 1 5433 "" STOPPED "maintenance"

      [Done] PgSQL node pg-node01.example.org updated.
    """,
    confirm=UPDATE_CORRECT,
)
def update_pgsql_node(ctx: ShellContext, v: Values) -> None:
    cur = ctx.node_row(v.node)
    new = (v.port, v.admin_user, v.status, v.remarks)
    old = (int(cur["pgport"]), cur["admin_user"], cur["status"], cur["remarks"] or "")
    if new == old:
        ctx.out.unchanged(f"PgSQL node {cur['fqdn']} already has these values.")
        return
    cat_nodes.update_node(ctx.cat, v.node, *new)
    ctx.out.done(f"PgSQL node {cur['fqdn']} updated.")


@command(
    "show_pgsql_node_stats",
    params=[K.node()],
    doc="""
    Shows statistics of a PgSQL node: backup servers running its backups, backup
    definitions by status and code, its backups in the catalog.
    """,
)
def show_pgsql_node_stats(ctx: ShellContext, v: Values) -> None:
    node = ctx.node_row(v.node)
    s = cat_stats.node_stats(ctx.cat, v.node)
    pairs = [
        ("PgSQL node", f"[{v.node}] {node.get('fqdn', '')}"),
        ("#", ""),
        ("Backup servers running backups for this Node", s["servers"]),
        ("##", ""),
        *counters(s),
        ("####", ""),
        ("Jobs waiting to be processed by pgbackman_control", s["jobs_waiting"]),
    ]
    ctx.out.keyvalue("pgsql_node_stats", pairs)
