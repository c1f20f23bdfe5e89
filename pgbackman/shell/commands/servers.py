"""Backup server commands: show, register, update, delete, stats."""

from __future__ import annotations

from pgbackman.catalog import servers as cat_servers
from pgbackman.catalog import stats as cat_stats
from pgbackman.core import validate
from pgbackman.errors import CatalogError
from pgbackman.shell.commands._stats import counters
from pgbackman.shell.context import ShellContext
from pgbackman.shell.registry import command


@command(
    "show_backup_servers",
    nargs=(0,),
    usage="""
    show_backup_servers

    Shows every backup server registered in PgBackMan: SrvID, FQDN and remarks.
    """,
)
def show_backup_servers(ctx: ShellContext, args: list[str]) -> None:
    ctx.out.table(
        "backup_servers",
        ["SrvID", "FQDN", "Remarks"],
        cat_servers.list_servers(ctx.cat),
        left=("FQDN", "Remarks"),
    )


@command(
    "register_backup_server",
    nargs=(3,),
    usage="""
    register_backup_server [hostname] [domain] [remarks]

    Registers a backup server in PgBackMan.

    Parameters:
    * [hostname]: hostname of the backup server.
    * [domain]:   domain name of the backup server ("" = default domain of the
                  backup_server_default_config table, 'domain').
    * [remarks]:  remarks.

    The default value of a parameter is shown between brackets []. The command can be run
    with all parameters or without any (then it asks for each value). e.g.

      [pgbackman]$ register_backup_server backup01 "" "Test server"

      [Done] Backup server backup01.example.org registered.
    """,
)
def register_backup_server(ctx: ShellContext, args: list[str]) -> None:
    default_domain = cat_servers.default_parameter(ctx.cat, "domain")
    if args:
        host, domain, remarks = args
    else:
        host = ctx.prompt("Hostname")
        domain = ctx.prompt("Domain", default_domain)
        remarks = ctx.prompt("Remarks")
        ctx.confirm_or_abort()
    host = validate.hostname(host)
    domain = validate.hostname(domain.strip() or default_domain, "Domain")
    remarks = validate.no_control_chars("Remarks", remarks)
    cat_servers.register_server(ctx.cat, host, domain, "", remarks)
    ctx.out.done(f"Backup server {host}.{domain} registered.")


@command(
    "delete_backup_server",
    nargs=(1,),
    usage="""
    delete_backup_server [SrvID | FQDN]

    Deletes a backup server registered in PgBackMan.

    Parameters:
    * [SrvID | FQDN]: SrvID in PgBackMan or FQDN of the backup server to delete.

    All backup definitions, snapshots and catalog entries of a backup server must be
    deleted (or moved to another server) first; the deletion of a server still in use
    fails and cannot be forced. e.g.

      [pgbackman]$ delete_backup_server 2

      [Done] Backup server deleted.
    """,
    readonly=False,
)
def delete_backup_server(ctx: ShellContext, args: list[str]) -> None:
    if args:
        server = args[0]
    else:
        server = ctx.prompt("SrvID / FQDN", ctx.default_backup_server())
        ctx.confirm_or_abort("Are you sure you want to delete this server? (yes/no)")
    server_id = ctx.resolve_server(server)
    try:
        cat_servers.delete_server(ctx.cat, server_id)
    except CatalogError as exc:
        raise CatalogError(
            f"Could not delete this backup server: {exc}", sqlstate=exc.sqlstate
        ) from None
    ctx.out.done("Backup server deleted.")


@command(
    "update_backup_server",
    nargs=(2,),
    usage="""
    update_backup_server [SrvID | FQDN] [remarks]

    Updates the remarks of a backup server ("" keeps the current value). e.g.

      [pgbackman]$ update_backup_server 1 "Main backup server"

      [Done] Backup server backup01.example.org updated.
    """,
)
def update_backup_server(ctx: ShellContext, args: list[str]) -> None:
    if args:
        server_id = ctx.resolve_server(args[0])
        remarks = args[1]
    else:
        server_id = ctx.resolve_server(
            ctx.prompt("SrvID / FQDN", ctx.default_backup_server())
        )
        current = (cat_servers.get_server(ctx.cat, server_id) or {}).get(
            "remarks"
        ) or ""
        remarks = ctx.prompt("Remarks", current)
        ctx.confirm_or_abort("Are all values to update correct (yes/no)")
    server = cat_servers.get_server(ctx.cat, server_id) or {}
    remarks = (
        validate.no_control_chars("Remarks", remarks) or server.get("remarks") or ""
    )
    cat_servers.update_server(ctx.cat, server_id, remarks)
    ctx.out.done(f"Backup server {server.get('fqdn', server_id)} updated.")


@command(
    "show_backup_server_stats",
    nargs=(1,),
    usage="""
    show_backup_server_stats [SrvID | FQDN]

    Shows statistics of a backup server: PgSQL nodes it backs up, backup definitions by
    status and code, backups in the catalog, jobs waiting for pgbackman_control.
    """,
)
def show_backup_server_stats(ctx: ShellContext, args: list[str]) -> None:
    value = args[0] if args else ctx.prompt("SrvID / FQDN", ctx.default_backup_server())
    server_id = ctx.resolve_server(value)
    server = cat_servers.get_server(ctx.cat, server_id) or {}
    s = cat_stats.server_stats(ctx.cat, server_id)
    pairs = [
        ("Backup server", f"[{server_id}] {server.get('fqdn', '')}"),
        ("#", ""),
        ("PgSQL nodes using this backup server", s["nodes"]),
        ("##", ""),
        *counters(s),
        ("####", ""),
        ("Jobs waiting to be processed by pgbackman_control", s["jobs_waiting"]),
        ("Forced deletion of backups waiting to be processed", s["forced_deletions"]),
    ]
    ctx.out.keyvalue("backup_server_stats", pairs)
