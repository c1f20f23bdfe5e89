"""clone_database: snapshot a database now and restore it under a name on another node (or
the same one), in one step.

The clone is one at job, ``pgbackman_restore --clone <CloneID>``, queued by pgbackman_control
of the backup server at [AT time]: a FULL snapshot of the source database, then an ordinary
restore of it (shown by show_restore_catalog; the snapshot by show_snapshot_definitions).
The rename and role choices are those of register_restore_definition.
"""

from __future__ import annotations

from pgbackman.catalog import clones as cat_clones
from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import nodes as cat_nodes
from pgbackman.catalog import snapshots as cat_snap
from pgbackman.core.dbselect import split_list
from pgbackman.errors import UserInputError
from pgbackman.pgnode import connection as pgnode
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands import _restore_plan as R
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Parser, Values
from pgbackman.shell.registry import ALL_CORRECT, command
from pgbackman.shell.render import RULER


def _running_node(ctx: ShellContext, v: Values, text: str) -> int:
    node_id = ctx.resolve_node(text)
    if cat_defs.node_status(ctx.cat, node_id) != "RUNNING":
        raise UserInputError(f"PgSQL node [{node_id}] is not RUNNING")
    return node_id


def _name(label: str) -> Parser:
    return lambda ctx, v, text: R.target_name(text, label)


PARAMS = [
    K.server(
        label="Backup server SrvID / FQDN",
        placeholder="[SrvID|FQDN]",
        help="Backup server that runs the clone ('' = default backup server).",
    ),
    K.node(
        label="PgSQL node NodeID / FQDN",
        placeholder="[NodeID|FQDN]",
        help="PgSQL node running the database (must be RUNNING).",
        parse=_running_node,
    ),
    Param(
        "dbname",
        "DBname",
        _name("DBname"),
        complete=K.node_databases(special=()),
        placeholder="[DBname]",
        help="Database to clone.",
    ),
    K.node(
        key="target_node",
        label="Target NodeID / FQDN",
        placeholder="[Target NodeID|FQDN]",
        help="PgSQL node to restore on (must be RUNNING).",
        parse=_running_node,
    ),
    Param(
        "target",
        "Target DBname",
        _name("Target DBname"),
        default=lambda ctx, v: str(v.dbname),
        placeholder="[Target DBname]",
        help="Name of the copy ('' = [DBname]).",
    ),
    Param(
        "renamed",
        "Renamed DBname",
        ask=False,
        placeholder="[Renamed DBname]",
        help="Required when the target database exists: the name the existing database "
        "gets before the copy takes its name.",
    ),
    Param(
        "roles",
        "Roles to restore",
        lambda ctx, v, text: split_list(text),
        default=R.ALL_ROLES,
        placeholder="[Roles to restore]",
        help=f"Comma list of the database's roles to create on the target, {R.ALL_ROLES} "
        "= every role it needs that the target lacks, '' = none.",
    ),
    Param(
        "at_time",
        "AT timestamp",
        lambda ctx, v, text: cat_snap.parse_timestamp(ctx.cat, text),
        default="now",
        placeholder="[AT time]",
        help="When ('' = now).",
    ),
]


def _check(ctx: ShellContext, v: Values) -> None:
    """The database exists on the source; an existing target needs a free new name (asked
    interactively, as register_restore_definition does)."""
    source = ctx.node_target(v.node)
    with pgnode.session(source, application_name="pgbackman_cli") as conn:
        if not pgnode.database_exists(conn, v.dbname):
            raise UserInputError(
                f"DBname [{v.dbname}] does not exist on PgSQL node {source.fqdn}"
            )
    node = ctx.node_target(v.target_node)
    renamed: str | None = None
    with pgnode.session(node, application_name="pgbackman_cli") as conn:
        if ctx.prompted:
            renamed = R.ask_rename(ctx, conn, v.target)
        elif pgnode.database_exists(conn, v.target):
            if not v.renamed.strip():
                raise UserInputError(
                    f"Target DBname [{v.target}] already exists on target PgSQL node "
                    f"{node.fqdn}: give a Renamed DBname or another Target DBname"
                )
            renamed = R.target_name(v.renamed, "Renamed DBname")
            if pgnode.database_exists(conn, renamed):
                raise UserInputError(
                    f"Renamed DBname [{renamed}] already exists on target PgSQL node "
                    f"{node.fqdn}"
                )
        elif v.renamed.strip():
            ctx.out.warning("Nothing to rename on the target: Renamed DBname ignored.")
    v.set("renamed_name", renamed or "", renamed, given=False)
    v.set("target_fqdn", node.fqdn, node.fqdn, given=False)
    if ctx.prompted:
        out = ctx.out
        out.info(RULER)
        out.info("[Clone accepted]")
        out.info(RULER)
        out.info(f"AT time: {v.at_time}")
        out.info(f"Database: {v.dbname} on {source.fqdn}")
        out.info(f"Copy: {v.target} on {node.fqdn}")
        out.info(f"Existing database will be renamed to : {renamed}")
        out.info(f"Roles to restore: {', '.join(v.roles)}")


@command(
    "clone_database",
    params=PARAMS,
    doc="""
    Copies a database, as it is now, to another PgSQL node (or the same one) under a name:
    one job run by the backup server at [AT time] takes a FULL snapshot of the database
    and restores it (pgbackman_restore --clone <CloneID>). The restore shows in
    show_restore_catalog, the snapshot in show_snapshot_definitions.
    """,
    notes=f"""
    Example:
      clone_database "" 1 app1 2 app1_copy "" "{R.ALL_ROLES}" ""
    """,
    confirm=ALL_CORRECT,
    prepare=_check,
)
def clone_database(ctx: ShellContext, v: Values) -> None:
    clone_id = cat_clones.register(
        ctx.cat,
        v.at_time,
        v.server,
        v.node,
        v.dbname,
        v.target_node,
        v.target,
        v.renamed_name,
        _target_extra(ctx, v),
        v.roles,
    )
    ctx.out.done(
        f"Clone CloneID: {clone_id} of {v.dbname} registered: it runs at "
        f"{v.at_time:%Y-%m-%d %H:%M:%S%z} as {v.target} on {v.target_fqdn}."
    )


def _target_extra(ctx: ShellContext, v: Values) -> str:
    """The target node's default extra pg_restore parameters."""
    return cat_nodes.node_config_dict(ctx.cat, v.target_node).get(
        "extra_restore_parameters", ""
    )
