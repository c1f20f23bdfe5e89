"""Restore commands: register_restore_definition (the manual's flow against the real target
node), show_restore_definitions, show_restore_catalog, show_restore_details,
show_restores_in_progress.

Upstream allowed restores of FULL backups only (a non-empty role list was required) and only
interactively. Here every backup code can be restored, and a non-interactive form exists for
scripts; it refuses (nothing registered) where the interactive flow would have asked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import psycopg2.extensions

from pgbackman.catalog import backups as cat_bck
from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import restores as cat_rst
from pgbackman.catalog import snapshots as cat_snap
from pgbackman.core import validate
from pgbackman.core.dbselect import split_list
from pgbackman.errors import Aborted, UserInputError
from pgbackman.pgnode import connection as pgnode
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands import _selection as S
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import ALL_CORRECT, command
from pgbackman.shell.render import RULER

ALL_ROLES = "#all#"
MAX_NAME_BYTES = 63  # PostgreSQL identifiers (NAMEDATALEN - 1)


@dataclass
class RestorePlan:
    """Everything the restore definition will hold, filled step by step."""

    at_time: dt.datetime
    bck_id: int
    server_id: int
    server_fqdn: str
    node_id: int
    node_fqdn: str
    target_dbname: str
    extra: str
    renamed: str | None = None
    roles: list[str] = field(default_factory=list)


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


def _target_name(value: str, label: str) -> str:
    v = validate.no_control_chars(label, value)
    if not v.strip():
        raise UserInputError(f"{label} cannot be empty")
    if len(v.encode()) > MAX_NAME_BYTES:
        raise UserInputError(f"{label} [{v}] is longer than {MAX_NAME_BYTES} bytes")
    return v


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
        lambda ctx, v, text: _target_name(text, "Target DBname"),
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
        help=f"Comma list of the backup's roles to create, {ALL_ROLES} = every role of the "
        "backup missing on the target, '' = none. A listed role that already exists on the "
        "target is refused.",
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
    plan = _plan_interactive(ctx, v) if ctx.prompted else _plan_from_args(ctx, v)
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


def _new_plan(ctx: ShellContext, v: Values, node: pgnode.NodeTarget) -> RestorePlan:
    return RestorePlan(
        v.at_time,
        int(v.backup["bck_id"]),
        int(v.backup["backup_server_id"]),
        str(v.backup["backup_server"]),
        v.node,
        node.fqdn,
        v.target,
        v.extra,
    )


def default_rename(target: str, now: dt.datetime | None = None) -> str:
    """``<target>_<YYYY_MM_DDTHHMMSS>``, cut so that it stays a valid identifier."""
    suffix = "_" + (now or dt.datetime.now()).strftime("%Y_%m_%dT%H%M%S")
    base = target.encode()[: MAX_NAME_BYTES - len(suffix)].decode(errors="ignore")
    return base + suffix


def _plan_from_args(ctx: ShellContext, v: Values) -> RestorePlan:
    bck, target, renamed = v.backup, v.target, v.renamed
    node = ctx.node_target(v.node)
    plan = _new_plan(ctx, v, node)
    backup_roles = list(bck["role_list"])
    with pgnode.session(node, application_name="pgbackman_cli") as conn:
        if bck["backup_code"] == "DATA":
            # A DATA backup is loaded into the EXISTING database (pgbackman_restore).
            _require_existing(conn, target, node.fqdn)
        elif bck["backup_code"] != "CLUSTER" and pgnode.database_exists(conn, target):
            if not renamed.strip():
                raise UserInputError(
                    f"Target DBname [{target}] already exists on target PgSQL node {node.fqdn}: "
                    "give a Renamed DBname or another Target DBname"
                )
            plan.renamed = _target_name(renamed, "Renamed DBname")
            if pgnode.database_exists(conn, plan.renamed):
                raise UserInputError(
                    f"Renamed DBname [{plan.renamed}] already exists on target PgSQL node {node.fqdn}"
                )
        elif renamed.strip():
            ctx.out.warning("Nothing to rename on the target: Renamed DBname ignored.")
        if v.roles == [ALL_ROLES]:
            plan.roles = [r for r in backup_roles if not pgnode.role_exists(conn, r)]
        else:
            for r in v.roles:
                if r not in backup_roles:
                    raise UserInputError(
                        f"Role [{r}] is not in the role list of backup [{bck['bck_id']}]"
                    )
                if pgnode.role_exists(conn, r):
                    raise UserInputError(
                        f"Role [{r}] already exists on target PgSQL node {node.fqdn}"
                    )
                plan.roles.append(r)
    return plan


def _plan_interactive(ctx: ShellContext, v: Values) -> RestorePlan:
    """The manual's flow, after the values were confirmed: rename, roles, summary."""
    bck, target = v.backup, v.target
    ctx.out.info("[Processing restore data]")
    ctx.out.info(RULER)
    node = ctx.node_target(v.node)
    plan = _new_plan(ctx, v, node)
    with pgnode.session(node, application_name="pgbackman_cli") as conn:
        if bck["backup_code"] == "DATA":
            _require_existing(conn, target, node.fqdn)
        elif bck["backup_code"] != "CLUSTER":
            plan.renamed = _ask_rename(ctx, conn, target)
        for role in bck["role_list"]:
            if not pgnode.role_exists(conn, role):
                ctx.out.info(
                    f"[OK]: Role '{role}' does not exist on target PgSQL node."
                )
                ctx.out.info("")
                plan.roles.append(role)
                continue
            ctx.out.warning(f"Role '{role}' already exists on target PgSQL node.")
            if not ctx.confirm("Use the existing role? (yes/no)"):
                raise Aborted()
    _print_summary(ctx, plan)
    ctx.confirm_or_abort()
    return plan


def _require_existing(
    conn: psycopg2.extensions.connection, target: str, fqdn: str
) -> None:
    if not pgnode.database_exists(conn, target):
        raise UserInputError(
            f"Target DBname [{target}] does not exist on target PgSQL node {fqdn}: a DATA "
            "backup is restored into an existing database that has the schema"
        )


def _ask_rename(
    ctx: ShellContext, conn: psycopg2.extensions.connection, target: str
) -> str | None:
    """The manual's rename step; returns the new name of the existing database, or None."""
    if not pgnode.database_exists(conn, target):
        ctx.out.info(
            f"[OK]: Target DBname {target} does not exist on target PgSQL node."
        )
        ctx.out.info("")
        return None
    ctx.out.warning("Target DBname already exists on target PgSQL node.")
    if not ctx.confirm("Rename it? (yes/no)"):
        raise UserInputError(
            "Cannot continue with this restore definition without renaming the existing "
            "database or using another Target DBname value"
        )
    while True:
        name = _target_name(
            ctx.prompt("Rename existing database to", default_rename(target)),
            "Renamed DBname",
        )
        if name != target and not pgnode.database_exists(conn, name):
            return name
        ctx.out.warning(f"Database {name} already exists on target PgSQL node.")


def _print_summary(ctx: ShellContext, plan: RestorePlan) -> None:
    out = ctx.out
    out.info(RULER)
    out.info("[Restore definition accepted]")
    out.info(RULER)
    out.info(f"AT time: {plan.at_time}")
    out.info(f"BckID to restore: {plan.bck_id}")
    out.info(f"Roles to restore: {', '.join(plan.roles)}")
    out.info(f"Backup server: [{plan.server_id}] {plan.server_fqdn}")
    out.info(f"Target PgSQL node: [{plan.node_id}] {plan.node_fqdn}")
    out.info(f"Target DBname: {plan.target_dbname}")
    out.info(f"Extra restore parameters: {plan.extra}")
    out.info(f"Existing database will be renamed to : {plan.renamed}")


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
