"""PgSQL node commands: show, register, update, delete, stats."""

from __future__ import annotations

from pgbackman.catalog import nodes as cat_nodes
from pgbackman.catalog import stats as cat_stats
from pgbackman.core import validate
from pgbackman.errors import CatalogError
from pgbackman.shell.commands._stats import counters
from pgbackman.shell.context import ShellContext
from pgbackman.shell.registry import command

NODE_COLUMNS = ["NodeID", "FQDN", "Pgport", "Admin user", "Status", "Remarks"]


@command(
    "show_pgsql_nodes",
    nargs=(0,),
    usage="""
    show_pgsql_nodes

    Shows every PgSQL node registered in PgBackMan: NodeID, FQDN, port, admin user, status
    and remarks.
    """,
)
def show_pgsql_nodes(ctx: ShellContext, args: list[str]) -> None:
    ctx.out.table(
        "pgsql_nodes",
        NODE_COLUMNS,
        cat_nodes.list_nodes(ctx.cat),
        left=("FQDN", "Remarks"),
    )


@command(
    "register_pgsql_node",
    nargs=(6,),
    usage="""
    register_pgsql_node [hostname] [domain] [pgport] [admin_user] [status] [remarks]

    Registers a PgSQL node in PgBackMan.

    Parameters:
    * [hostname]:   hostname of the PgSQL node.
    * [domain]:     domain name of the PgSQL node ("" = default, pgsql_node_default_config).
    * [pgport]:     PostgreSQL port (1-65535; "" = default 5432).
    * [admin_user]: PostgreSQL admin user ("" = default postgres).
    * [status]:     RUNNING (PostgreSQL node running and online) or STOPPED (not online).
                    "" = default STOPPED.
    * [remarks]:    remarks.

    All backup definitions of a PgSQL node are started/stopped automatically when its
    status changes to RUNNING/STOPPED. The default value of a parameter is shown between
    brackets []. The command can be run with all parameters or without any. e.g.

      [pgbackman]$ register_pgsql_node pg-node01 "" "" "" running "Test node"

      [Done] PgSQL node pg-node01.example.org registered.
    """,
)
def register_pgsql_node(ctx: ShellContext, args: list[str]) -> None:
    d = {
        p: cat_nodes.default_parameter(ctx.cat, p)
        for p in ("domain", "pgport", "admin_user", "pgsql_node_status")
    }
    if args:
        host, domain, port, admin, status, remarks = args
    else:
        host = ctx.prompt("Hostname")
        domain = ctx.prompt("Domain", d["domain"])
        port = ctx.prompt("Port", d["pgport"])
        admin = ctx.prompt("Admin user", d["admin_user"])
        status = ctx.prompt("Status", d["pgsql_node_status"])
        remarks = ctx.prompt("Remarks")
        ctx.confirm_or_abort()
    host = validate.hostname(host)
    domain = validate.hostname(domain.strip() or d["domain"], "Domain")
    pgport = validate.port(port.strip() or d["pgport"])
    admin = validate.role_name(admin.strip() or d["admin_user"])
    status = validate.server_status(status.strip() or d["pgsql_node_status"])
    remarks = validate.no_control_chars("Remarks", remarks)
    cat_nodes.register_node(ctx.cat, host, domain, pgport, admin, status, remarks)
    ctx.out.done(f"PgSQL node {host}.{domain} registered.")


@command(
    "delete_pgsql_node",
    nargs=(1,),
    usage="""
    delete_pgsql_node [NodeID | FQDN]

    Deletes a PgSQL node registered in PgBackMan.

    Parameters:
    * [NodeID | FQDN]: NodeID in PgBackMan or FQDN (host.domain or host.domain:port) of
                       the PgSQL node to delete.

    All backup definitions, snapshots and catalog entries of the node must be deleted first;
    the deletion of a node still in use fails and cannot be forced. e.g.

      [pgbackman]$ delete_pgsql_node 4

      [Done] PgSQL node deleted.
    """,
    readonly=False,
)
def delete_pgsql_node(ctx: ShellContext, args: list[str]) -> None:
    if args:
        node = args[0]
    else:
        node = ctx.prompt("NodeID / FQDN")
        ctx.confirm_or_abort("Are you sure you want to delete this server? (yes/no)")
    node_id = ctx.resolve_node(node)
    try:
        cat_nodes.delete_node(ctx.cat, node_id)
    except CatalogError as exc:
        raise CatalogError(
            f"Could not delete this PgSQL node: {exc}", sqlstate=exc.sqlstate
        ) from None
    ctx.out.done("PgSQL node deleted.")


@command(
    "update_pgsql_node",
    nargs=(5,),
    usage="""
    update_pgsql_node [NodeID | FQDN] [pgport] [admin_user] [status] [remarks]

    Updates a PgSQL node; "" keeps the current value. Changing the status between RUNNING
    and STOPPED switches all the cron jobs of the node on or off. e.g.

      [pgbackman]$ update_pgsql_node 1 5433 "" STOPPED "maintenance"

      [Done] PgSQL node pg-node01.example.org updated.
    """,
)
def update_pgsql_node(ctx: ShellContext, args: list[str]) -> None:
    node_id = ctx.resolve_node(args[0] if args else ctx.prompt("NodeID / FQDN"))
    cur = cat_nodes.get_node(ctx.cat, node_id) or {}
    if args:
        port, admin, status, remarks = args[1:]
    else:
        port = ctx.prompt("Port", str(cur["pgport"]))
        admin = ctx.prompt("Admin user", cur["admin_user"])
        status = ctx.prompt("Status", cur["status"])
        remarks = ctx.prompt("Remarks", cur["remarks"] or "")
        ctx.confirm_or_abort("Are all values to update correct (yes/no)")
    pgport = validate.port(port.strip() or cur["pgport"])
    admin = validate.role_name(admin.strip() or cur["admin_user"])
    status = validate.server_status(status.strip() or cur["status"])
    remarks = validate.no_control_chars("Remarks", remarks) or cur["remarks"] or ""
    cat_nodes.update_node(ctx.cat, node_id, pgport, admin, status, remarks)
    ctx.out.done(f"PgSQL node {cur['fqdn']} updated.")


@command(
    "show_pgsql_node_stats",
    nargs=(1,),
    usage="""
    show_pgsql_node_stats [NodeID | FQDN]

    Shows statistics of a PgSQL node: backup servers running its backups, backup
    definitions by status and code, its backups in the catalog.
    """,
)
def show_pgsql_node_stats(ctx: ShellContext, args: list[str]) -> None:
    node_id = ctx.resolve_node(args[0] if args else ctx.prompt("NodeID / FQDN"))
    node = cat_nodes.get_node(ctx.cat, node_id) or {}
    s = cat_stats.node_stats(ctx.cat, node_id)
    pairs = [
        ("PgSQL node", f"[{node_id}] {node.get('fqdn', '')}"),
        ("#", ""),
        ("Backup servers running backups for this Node", s["servers"]),
        ("##", ""),
        *counters(s),
        ("####", ""),
        ("Jobs waiting to be processed by pgbackman_control", s["jobs_waiting"]),
    ]
    ctx.out.keyvalue("pgsql_node_stats", pairs)
