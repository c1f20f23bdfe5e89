"""Restore commands: register_restore_definition (the manual's flow against the real target
node), show_restore_definitions, show_restore_catalog, show_restore_details,
show_restores_in_progress.

Upstream allowed restores of FULL backups only (a non-empty role list was required) and only
interactively. Here every backup code can be restored, and a non-interactive form exists for
scripts; it refuses (nothing registered) where the interactive flow would have asked.
"""

from __future__ import annotations

from typing import Any


from pgbackman.catalog import backups as cat_bck
from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import restores as cat_rst
from pgbackman.catalog import snapshots as cat_snap
from pgbackman.core import validate
from pgbackman.core.dbselect import split_list
from pgbackman.errors import UserInputError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands import _restore_plan as R
from pgbackman.shell.commands import _selection as S
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import ALL_CORRECT, command


def _backup(ctx: ShellContext, v: Values, text: str) -> dict[str, Any]:
    bck_id = K.digits(text, "BckID")
    bck = cat_bck.backup_for_restore(ctx.cat, bck_id)
    if bck is None:
        raise UserInputError(f"Backup BckID [{bck_id}] does not exist in the catalog")
    if bck["execution_status"] != "SUCCEEDED":
        raise UserInputError(
            f"Backup BckID [{bck_id}] cannot be restored: its status is {bck['execution_status']}"
        )
    return dict(bck)


def _restoring_server(
    ctx: ShellContext, v: Values, text: str
) -> tuple[int, str] | None:
    """Another backup server than the one holding the backup restores from its offsite
    copy; None: the holding server."""
    if not text.strip():
        return None
    server_id = ctx.resolve_server(text)
    bck = v.backup
    if (
        server_id != int(bck["backup_server_id"])
        and bck["offsite_status"] != "UPLOADED"
    ):
        raise UserInputError(
            f"Backup BckID [{bck['bck_id']}] is held by backup server "
            f"{bck['backup_server']} and has no uploaded offsite copy: another "
            "backup server cannot restore it"
        )
    return server_id, str(ctx.server_row(server_id)["fqdn"])


def _running_node(ctx: ShellContext, v: Values, text: str) -> int:
    node_id = ctx.resolve_node(text)
    if cat_defs.node_status(ctx.cat, node_id) != "RUNNING":
        raise UserInputError(f"Target PgSQL node [{node_id}] is not RUNNING")
    return node_id


PARAMS = [
    Param(
        "at_time",
        "AT timestamp",
        lambda ctx, v, text: cat_snap.parse_timestamp(ctx.cat, text),
        default=lambda ctx, v: cat_snap.now_plus_one_minute(ctx.cat),
        placeholder="[AT time]",
        help="Timestamp ('' = now + 1 minute).",
    ),
    Param(
        "backup",
        "BckID",
        _backup,
        complete=K.bck_ids,
        placeholder="[BckID]",
        help="Backup to restore (any backup code; it must have SUCCEEDED).",
    ),
    K.node(
        label="Target NodeID / FQDN",
        placeholder="[Target NodeID|FQDN]",
        help="PgSQL node to restore on (must be RUNNING).",
        parse=_running_node,
    ),
    Param(
        "target",
        "Target DBname",
        lambda ctx, v, text: R.target_name(text, "Target DBname"),
        default=lambda ctx, v: v.backup["dbname"] or "postgres",
        placeholder="[Target DBname]",
        help="'' = the backup's database name.",
    ),
    Param(
        "renamed",
        "Renamed DBname",
        ask=False,
        placeholder="[Renamed DBname]",
        help="Required when the target database exists: the name the existing database "
        "gets before the restore (it must not exist either).",
    ),
    Param(
        "extra",
        "Extra parameters",
        lambda ctx, v, text: validate.extra_parameters(
            "Extra parameters", text, "pg_restore"
        ),
        default=S.from_node("extra_restore_parameters", ""),
        placeholder="[Extra parameters]",
        help="Extra pg_restore parameters ('' = node default).",
    ),
    Param(
        "roles",
        "Roles to restore",
        lambda ctx, v, text: split_list(text),
        ask=False,
        placeholder="[Roles to restore]",
        help=f"Comma list of the backup's roles to create, {R.ALL_ROLES} = every role of the "
        "backup missing on the target, '' = none. A listed role that already exists on the "
        "target is refused.",
    ),
    Param(
        "runner",
        "Backup server",
        lambda ctx, v, text: _restoring_server(ctx, v, text),
        ask=False,
        present_from=8,
        complete=K.servers,
        placeholder="[Backup server]",
        help="Optional 8th parameter: SrvID or FQDN of the backup server that runs the "
        "restore ('' = the one that holds the backup). Another server of the fleet "
        "restores from the backup's offsite copy, which must be UPLOADED (e.g. when the "
        "server that took it is gone).",
    ),
]


@command(
    "register_restore_definition",
    params=PARAMS,
    doc="""
    Defines a restore job of a backup from the catalog, run at [AT time] by the backup
    server that holds the backup.

    Without parameters (interactive, the manual's flow): asks AT timestamp, BckID, Target
    NodeID / FQDN, Target DBname (default: the backup's database) and Extra parameters;
    the target node must be RUNNING. If the target database exists you are asked to rename
    it (default name <target>_<YYYY_MM_DDTHHMMSS>); for every role of the backup that
    already exists on the target you are asked whether to use the existing role (no aborts).
    The rename happens when the restore runs.

    With the 7 parameters (for scripts; nothing is asked):
    """,
    notes="""
    Example:
      register_restore_definition "" 35 2 app1_copy "" "" "#all#"
    """,
    confirm=ALL_CORRECT,
)
def register_restore_definition(ctx: ShellContext, v: Values) -> None:
    plan = R.plan_interactive(ctx, v) if ctx.prompted else R.plan_from_args(ctx, v)
    cat_rst.register_restore_definition(
        ctx.cat,
        plan.at_time,
        plan.server_id,
        plan.node_id,
        plan.bck_id,
        plan.target_dbname,
        plan.renamed,
        plan.extra,
        plan.roles,
    )
    ctx.out.done("Restore definition registered.")


RDEF_COLUMNS = (
    "RestoreDef",
    "Registered",
    "BckID",
    "ID.",
    "Backup server",
    "ID",
    "Target PgSQL node",
    "Target DBname",
    "Renamed database",
    "AT time",
    "Extra parameters",
    "Status",
)
RCAT_COLUMNS = (
    "RestoreID",
    "RestoreDef",
    "BckID",
    "Finished",
    "ID.",
    "Backup server",
    "ID",
    "Target PgSQL node",
    "Target DBname",
    "Renamed DBname",
    "Duration",
    "Status",
)
PROGRESS_COLUMNS = (
    "RestoreDef",
    "Registered",
    "BckID",
    "ID.",
    "Backup server",
    "ID",
    "Target PgSQL node",
    "Target DBname",
    "AT time",
    "Elapsed time",
)
_LEFT = (
    "Backup server",
    "Target PgSQL node",
    "Target DBname",
    "Renamed database",
    "Renamed DBname",
    "Extra parameters",
)


TARGET_FILTERS = K.listing_filters("Target NodeID / FQDN", "Target DBname")


@command(
    "show_restore_definitions",
    params=TARGET_FILTERS,
    doc="""
    Shows the restore definitions. '' server = default backup server; all or * = no filter;
    comma lists allowed.
    """,
    notes="""
    Example:
      show_restore_definitions all all all
    """,
    echo=True,
)
def show_restore_definitions(ctx: ShellContext, v: Values) -> None:
    rows = cat_rst.show_restore_definitions(ctx.cat, v.servers, v.nodes, v.dbnames)
    ctx.out.table("restore_definitions", RDEF_COLUMNS, rows, left=_LEFT)


@command(
    "show_restore_catalog",
    params=TARGET_FILTERS,
    doc="""
    Shows the restores that have been run, newest first. Filters as show_restore_definitions.
    """,
    notes="""
    Example:
      show_restore_catalog all all all
    """,
    echo=True,
)
def show_restore_catalog(ctx: ShellContext, v: Values) -> None:
    rows = cat_rst.show_restore_catalog(ctx.cat, v.servers, v.nodes, v.dbnames)
    ctx.out.table("restore_catalog", RCAT_COLUMNS, rows, left=_LEFT)


@command(
    "show_restore_details",
    params=[
        Param(
            "restore_id",
            "RestoreID",
            K.an_id("RestoreID"),
            complete=K.restore_ids,
            placeholder="[RestoreID]",
        )
    ],
    doc="Shows every detail of one restore in the restore catalog.",
    notes="""
    Example:
      show_restore_details 3
    """,
)
def show_restore_details(ctx: ShellContext, v: Values) -> None:
    d = cat_rst.restore_details(ctx.cat, v.restore_id)
    if d is None:
        raise UserInputError(
            f"Restore RestoreID [{v.restore_id}] does not exist in the catalog"
        )
    ctx.out.keyvalue(
        "restore_details",
        [
            ("RestoreID", d["restore_id"]),
            ("ProcPID", d["procpid"]),
            ("Registered", d["registered"]),
            ("#", ""),
            ("Started", d["started"]),
            ("Finished", d["finished"]),
            ("Duration", d["duration"]),
            ("Execution status", d["execution_status"]),
            ("##", ""),
            ("BckID", d["bck_id"]),
            ("Source DBname", d["source_dbname"]),
            ("Target DBname", d["target_dbname"]),
            ("Renamed DBname", d["renamed_dbname"]),
            ("Roles restored", ", ".join(d["role_list"] or [])),
            ("###", ""),
            ("Backup server", f"[{d['backup_server_id']}] {d['backup_server']}"),
            (
                "Target PgSQL node",
                f"[{d['target_pgsql_node_id']}] {d['target_pgsql_node']}",
            ),
            ("Pg_dump backup release", d["backup_pg_release"]),
            ("Target PgSQL node release", d["target_pgsql_node_release"]),
            ("####", ""),
            ("AT time", d["at_time"]),
            ("Extra parameters", d["extra_restore_parameters"]),
            ("#####", ""),
            ("Restore log file", d["restore_log_file"]),
            ("Global log file", d["global_log_file"]),
            ("######", ""),
            ("Error message", d["error_message"]),
        ],
    )


@command(
    "show_restores_in_progress",
    doc="""
    Shows the restore definitions that have not produced a restore catalog entry yet
    (waiting for their AT time, or running).
    """,
)
def show_restores_in_progress(ctx: ShellContext, v: Values) -> None:
    rows = cat_rst.show_restores_in_progress(ctx.cat)
    ctx.out.table("restores_in_progress", PROGRESS_COLUMNS, rows, left=_LEFT)
