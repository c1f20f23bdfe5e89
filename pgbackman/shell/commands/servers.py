"""Backup server commands: show, register, update, delete, stats."""

from __future__ import annotations

from pgbackman.catalog import servers as cat_servers
from pgbackman.catalog import stats as cat_stats
from pgbackman.core import validate
from pgbackman.errors import CatalogError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands._stats import counters
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import ALL_CORRECT, UPDATE_CORRECT, command

HOSTNAME = Param(
    "hostname",
    "Hostname",
    K.checked(validate.hostname, "Hostname"),
    placeholder="[hostname]",
    help="Hostname of the backup server.",
)


def _domain(ctx: ShellContext, v: Values) -> str:
    return ctx.default_domain(cat_servers.default_parameter(ctx.cat, "domain"))


DOMAIN = Param(
    "domain",
    "Domain",
    K.checked(validate.hostname, "Domain"),
    default=_domain,
    placeholder="[domain]",
    help="Domain name of the backup server (default: the 'domain' of "
    "backup_server_default_config when it was set, else the domain of this host).",
)


@command(
    "show_backup_servers",
    doc="Shows every backup server registered in PgBackMan: SrvID, FQDN and remarks.",
)
def show_backup_servers(ctx: ShellContext, v: Values) -> None:
    ctx.out.table(
        "backup_servers",
        ["SrvID", "FQDN", "Remarks"],
        cat_servers.list_servers(ctx.cat),
        left=("FQDN", "Remarks"),
    )


@command(
    "register_backup_server",
    params=[HOSTNAME, DOMAIN, K.remarks()],
    doc="Registers a backup server in PgBackMan.",
    notes="""
    The default value of a parameter is shown between brackets []. The command can be run
    with all parameters or without any (then it asks for each value). e.g.

      [pgbackman]$ register_backup_server backup01 "" "Test server"

      [Done] Backup server backup01.example.org registered.
    """,
    confirm=ALL_CORRECT,
)
def register_backup_server(ctx: ShellContext, v: Values) -> None:
    cat_servers.register_server(ctx.cat, v.hostname, v.domain, "", v.remarks)
    ctx.out.done(f"Backup server {v.hostname}.{v.domain} registered.")


@command(
    "delete_backup_server",
    params=[
        K.server(help="SrvID in PgBackMan or FQDN of the backup server to delete.")
    ],
    doc="Deletes a backup server registered in PgBackMan.",
    notes="""
    All backup definitions, snapshots and catalog entries of a backup server must be
    deleted (or moved to another server) first; the deletion of a server still in use
    fails and cannot be forced. e.g.

      [pgbackman]$ delete_backup_server 2

      [Done] Backup server deleted.
    """,
    confirm="Are you sure you want to delete this server? (yes/no)",
    readonly=False,
)
def delete_backup_server(ctx: ShellContext, v: Values) -> None:
    try:
        cat_servers.delete_server(ctx.cat, v.server)
    except CatalogError as exc:
        raise CatalogError(
            f"Could not delete this backup server: {exc}", sqlstate=exc.sqlstate
        ) from None
    ctx.out.done("Backup server deleted.")


def _current_remarks(ctx: ShellContext, v: Values) -> str:
    return str(ctx.server_row(v.server).get("remarks") or "")


@command(
    "update_backup_server",
    params=[
        K.server(),
        K.remarks(_current_remarks, "New remarks (default: the current ones)."),
    ],
    doc='Updates the remarks of a backup server ("" keeps the current value).',
    notes="""
    e.g.
      [pgbackman]$ update_backup_server 1 "Main backup server"

      [Done] Backup server backup01.example.org updated.
    """,
    confirm=UPDATE_CORRECT,
)
def update_backup_server(ctx: ShellContext, v: Values) -> None:
    fqdn = ctx.server_row(v.server)["fqdn"]
    if v.remarks == _current_remarks(ctx, v):
        ctx.out.unchanged(f"Backup server {fqdn} already has these values.")
        return
    cat_servers.update_server(ctx.cat, v.server, v.remarks)
    ctx.out.done(f"Backup server {fqdn} updated.")


@command(
    "show_backup_server_stats",
    params=[K.server()],
    doc="""
    Shows statistics of a backup server: PgSQL nodes it backs up, backup definitions by
    status and code, backups in the catalog, jobs waiting for pgbackman_control.
    """,
)
def show_backup_server_stats(ctx: ShellContext, v: Values) -> None:
    server = ctx.server_row(v.server)
    s = cat_stats.server_stats(ctx.cat, v.server)
    pairs = [
        ("Backup server", f"[{v.server}] {server.get('fqdn', '')}"),
        ("#", ""),
        ("PgSQL nodes using this backup server", s["nodes"]),
        ("##", ""),
        *counters(s),
        ("####", ""),
        ("Jobs waiting to be processed by pgbackman_control", s["jobs_waiting"]),
        ("Forced deletion of backups waiting to be processed", s["forced_deletions"]),
    ]
    ctx.out.keyvalue("backup_server_stats", pairs)
