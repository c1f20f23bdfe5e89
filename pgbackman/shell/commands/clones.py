"""clone_database: snapshot a database now and restore it under a name on another node (or
the same one), in one step.

The clone is one at job, ``pgbackman_restore --clone <CloneID>``, queued by pgbackman_control
of the backup server at [AT time]: a FULL snapshot of the source database, then an ordinary
restore of it (shown by show_restore_catalog; the snapshot by show_snapshot_definitions).
The rename and role choices are those of register_restore_definition.
"""

from __future__ import annotations

from pgbackman.catalog import clones as cat_clones
from pgbackman.catalog import nodes as cat_nodes
from pgbackman.catalog import snapshots as cat_snap
from pgbackman.core import validate
from pgbackman.core.dbselect import split_list
from pgbackman.errors import UserInputError
from pgbackman.pgnode import connection as pgnode
from pgbackman.shell.commands.restores import (
    ALL_ROLES,
    ask_rename,
    running_node,
    target_name,
)
from pgbackman.shell.context import ShellContext
from pgbackman.shell.registry import command
from pgbackman.shell.render import RULER

USAGE = f"""
    clone_database [SrvID|FQDN] [NodeID|FQDN] [DBname] [Target NodeID|FQDN]
                   [Target DBname] [Renamed DBname] [Roles to restore] [AT time]

    Copies a database, as it is now, to another PgSQL node (or the same one) under a name:
    one job run by the backup server at [AT time] takes a FULL snapshot of the database
    and restores it (pgbackman_restore --clone <CloneID>). The restore shows in
    show_restore_catalog, the snapshot in show_snapshot_definitions.

    Parameters:
      [SrvID|FQDN]         Backup server that runs the clone ('' = default backup server).
      [NodeID|FQDN]        PgSQL node running the database (must be RUNNING).
      [DBname]             Database to clone.
      [Target NodeID|FQDN] PgSQL node to restore on (must be RUNNING).
      [Target DBname]      Name of the copy ('' = [DBname]).
      [Renamed DBname]     Required when the target database exists: the name the
                           existing database gets before the copy takes its name.
      [Roles to restore]   Comma list of the database's roles to create on the target,
                           {ALL_ROLES} = every role it needs that the target lacks, '' = none.
      [AT time]            When ('' = now).

    Example:
      clone_database "" 1 app1 2 app1_copy "" "{ALL_ROLES}" ""
    """


@command("clone_database", nargs=(8,), usage=USAGE)
def clone_database(ctx: ShellContext, args: list[str]) -> None:
    interactive = not args
    if args:
        srv, node_text, dbname, target_text, target, renamed, roles_text, at_text = args
    else:
        srv = ctx.prompt("Backup server SrvID / FQDN", ctx.default_backup_server())
        node_text = ctx.prompt("PgSQL node NodeID / FQDN", "")
        dbname = ctx.prompt("DBname", "")
        target_text = ctx.prompt("Target NodeID / FQDN", "")
        target = ctx.prompt("Target DBname", dbname)
        renamed = ""
        roles_text = ctx.prompt("Roles to restore", ALL_ROLES)
        at_text = ctx.prompt("AT timestamp", "now")
    server_id = ctx.resolve_server(srv or ctx.default_backup_server())
    node_id = ctx.resolve_node(node_text)
    dbname = target_name(dbname, "DBname")
    target_id = ctx.resolve_node(target_text)
    target = target_name(target or dbname, "Target DBname")
    at_time = cat_snap.parse_timestamp(ctx.cat, at_text.strip() or "now")
    roles = split_list(validate.no_control_chars("Roles to restore", roles_text))
    extra = cat_nodes.node_config_dict(ctx.cat, target_id).get(
        "extra_restore_parameters", ""
    )
    source = running_node(ctx, node_id)
    with pgnode.session(source, application_name="pgbackman_cli") as conn:
        if not pgnode.database_exists(conn, dbname):
            raise UserInputError(
                f"DBname [{dbname}] does not exist on PgSQL node {source.fqdn}"
            )
    node = running_node(ctx, target_id)
    with pgnode.session(node, application_name="pgbackman_cli") as conn:
        if interactive:
            renamed_name = ask_rename(ctx, conn, target)
        elif pgnode.database_exists(conn, target):
            if not renamed.strip():
                raise UserInputError(
                    f"Target DBname [{target}] already exists on target PgSQL node "
                    f"{node.fqdn}: give a Renamed DBname or another Target DBname"
                )
            renamed_name = target_name(renamed, "Renamed DBname")
            if pgnode.database_exists(conn, renamed_name):
                raise UserInputError(
                    f"Renamed DBname [{renamed_name}] already exists on target PgSQL "
                    f"node {node.fqdn}"
                )
        else:
            if renamed.strip():
                ctx.out.warning(
                    "Nothing to rename on the target: Renamed DBname ignored."
                )
            renamed_name = None
    if interactive:
        _summary(
            ctx, at_time, dbname, source.fqdn, target, node.fqdn, renamed_name, roles
        )
        ctx.confirm_or_abort()
    clone_id = cat_clones.register(
        ctx.cat,
        at_time,
        server_id,
        node_id,
        dbname,
        target_id,
        target,
        renamed_name,
        extra,
        roles,
    )
    ctx.out.done(
        f"Clone CloneID: {clone_id} of {dbname} registered: it runs at "
        f"{at_time:%Y-%m-%d %H:%M:%S%z} as {target} on {node.fqdn}."
    )


def _summary(
    ctx: ShellContext,
    at_time: object,
    dbname: str,
    source: str,
    target: str,
    target_node: str,
    renamed: str | None,
    roles: list[str],
) -> None:
    out = ctx.out
    out.info(RULER)
    out.info("[Clone accepted]")
    out.info(RULER)
    out.info(f"AT time: {at_time}")
    out.info(f"Database: {dbname} on {source}")
    out.info(f"Copy: {target} on {target_node}")
    out.info(f"Existing database will be renamed to : {renamed}")
    out.info(f"Roles to restore: {', '.join(roles)}")
