"""Backup definition commands: show, register, update, delete (by id / by dbname), move.

Upstream bugs fixed here: arguments and extra parameters are never lower-cased, the
day-of-month and weekday fields are not swapped on update, both spellings of
``#databases_without_backup_definitions#`` work in both modes, an invalid third argument of
``delete_backup_definition_dbname`` is a clean error, and a multi-database registration is
validated completely and then registered in one transaction (all or nothing).
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog import definitions as cat_defs
from pgbackman.core import cronfields, dbselect, validate
from pgbackman.errors import CatalogError, UserInputError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands import _protection as prot
from pgbackman.shell.commands import _definition_update as U
from pgbackman.shell.commands import _selection as S
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import ALL_CORRECT, UPDATE_CORRECT, command

DEF_COLUMNS = (
    "DefID",
    "ID.",
    "Backup server",
    "ID",
    "PgSQL node",
    "DBname",
    "Schedule",
    "Code",
    "Encryption",
    "Compression",
    "Retention",
    "Status",
    "Parameters",
    "Last drill",
)
DEF_LEFT = ("Backup server", "PgSQL node", "DBname", "Schedule", "Parameters")


@command(
    "show_backup_definitions",
    params=K.listing_filters(),
    doc="""
    Shows the backup definitions (periodic backup jobs) in PgBackMan. Last drill: when
    the newest successful restore drill of the definition finished (show_restore_drills).
    """,
    notes="""
    Example:
      show_backup_definitions all all all
      show_backup_definitions backup01.example.org 1,2 test01
    """,
    echo=True,
)
def show_backup_definitions(ctx: ShellContext, v: Values) -> None:
    rows = cat_defs.show_backup_definitions(ctx.cat, v.servers, v.nodes, v.dbnames)
    ctx.out.table("backup_definitions", DEF_COLUMNS, rows, left=DEF_LEFT)


# -- register_backup_definition --------------------------------------------------------------
def _one_database(v: Values) -> bool:
    # Several databases get each a random minute and hour (asked only for one database).
    spec: dbselect.DbSpec = v.dbname
    return not (spec.is_special or "," in v.raw["dbname"])


@command(
    "register_backup_definition",
    params=[
        K.server(
            label="Backup server SrvID / FQDN",
            placeholder="[SrvID|FQDN]",
            help="Backup server that runs the job (default: this backup server).",
        ),
        K.node(
            label="PgSQL node NodeID / FQDN",
            placeholder="[NodeID|FQDN]",
            help="PgSQL node running the database.",
        ),
        Param(
            "dbname",
            "DBname",
            S.dbname_spec(),
            complete=K.node_databases(),
            placeholder="[DBname]",
            help="A database, a comma list, #all_databases# (every database except "
            "template0, template1, postgres), #databases_without_backup_definitions# "
            "(also spelled #databases_without_backups#), or '' with backup code CLUSTER. "
            "Every name must exist on the node or nothing is registered.",
        ),
        S.exceptions_param(16),
        S.cron_param(
            cronfields.MINUTE,
            "minutes",
            lambda ctx, v: cronfields.random_minute(
                S.node_config(ctx, v).get("backup_minutes_interval", "01-59")
            ),
            placeholder="[min_cron]",
            ask_if=_one_database,
            help="Schedule in cron syntax (*, n, a-b, lists, */n, a-b/n, month and "
            "weekday names), here and in the next four. With several databases every one "
            "gets its own random minute and hour inside the node's backup_minutes_interval "
            "and backup_hours_interval (load spreading).",
        ),
        S.cron_param(
            cronfields.HOUR,
            "hours",
            lambda ctx, v: cronfields.random_hour(
                S.node_config(ctx, v).get("backup_hours_interval", "01-06")
            ),
            placeholder="[hour_cron]",
            ask_if=_one_database,
        ),
        S.cron_param(
            cronfields.DAY_MONTH,
            "day_month",
            S.from_node("backup_day_month_cron", "*"),
            placeholder="[day-month_cron]",
        ),
        S.cron_param(
            cronfields.MONTH,
            "month",
            S.from_node("backup_month_cron", "*"),
            placeholder="[month_cron]",
        ),
        S.cron_param(
            cronfields.WEEKDAY,
            "weekday",
            S.from_node("backup_weekday_cron", "*"),
            placeholder="[weekday_cron]",
        ),
        S.code_param(help="FULL, SCHEMA, DATA, CLUSTER or RDS."),
        prot.encryption_param(
            "this backup definition", default=S.from_node("encryption", "false")
        ),
        S.retention_param(help="An interval, e.g. '7 days', '2 weeks', '1 month'."),
        Param(
            "redundancy",
            "Retention redundancy",
            lambda ctx, v, text: validate.redundancy(text),
            default=S.from_node("retention_redundancy", "1"),
            placeholder="[retention redundancy]",
            help="Minimum number of backups kept regardless of the period.",
        ),
        S.extra_param(help="Extra pg_dump/pg_dumpall parameters (kept as typed)."),
        Param(
            "status",
            "Job status",
            K.checked(validate.job_status, "Job status"),
            default=S.from_node("backup_job_status", "ACTIVE"),
            complete=K.words(*validate.JOB_STATUSES),
            placeholder="[job status]",
            help="ACTIVE or STOPPED.",
        ),
        K.remarks(help="Free text."),
        prot.compression_param(prot.packing(S.node_config), present_from=17),
    ],
    doc="Registers a backup definition that will be run periodically (cron) by PgBackMan.",
    notes="""
    An empty value ("") takes the default shown between [] in interactive mode (the node's
    configuration, see show_pgsql_node_config).
    The 1.0 form without [DBname exceptions] (15 arguments) is accepted too, and the
    last argument [backup compression] may be left out (16 arguments).

    Examples:
      register_backup_definition 1 1 test02 "" 41 01 "*" "*" "*" SCHEMA false "7 days" 1 "" ACTIVE "Testing reg"
      register_backup_definition "" pg-node01.example.org "#all_databases#" "test01,test02" "" "" "*" "*" "*" FULL false "" "" "" "" ""
    """,
    confirm=ALL_CORRECT,
    prepare=lambda ctx, v: v.set("definitions", "", _definitions(ctx, v), False),
)
def register_backup_definition(ctx: ShellContext, v: Values) -> None:
    cat_defs.register_backup_definitions(ctx.cat, v.definitions)
    for d in v.definitions:
        ctx.out.done(f"Backup definition for dbname: [{d.dbname}] registered.")


def _definitions(ctx: ShellContext, v: Values) -> list[cat_defs.NewDefinition]:
    """One definition per selected database (validated as a whole before any write)."""
    cfg = S.node_config(ctx, v)
    schedule = dbselect.spread_schedule(
        S.selected_databases(ctx, v),
        v.minutes,
        v.hours,
        cfg.get("backup_minutes_interval", "01-59"),
        cfg.get("backup_hours_interval", "01-06"),
    )
    return [
        cat_defs.NewDefinition(
            v.server,
            v.node,
            db,
            m,
            h,
            v.day_month,
            v.month,
            v.weekday,
            v.code,
            v.encryption,
            v.retention,
            v.redundancy,
            v.compression.extra,
            v.status,
            v.remarks,
            v.compression.own,
        )
        for db, m, h in schedule
    ]


# -- deleting -------------------------------------------------------------------------------
def _force_word(ctx: ShellContext, v: Values, text: str) -> bool:
    if text != "force-deletion":
        raise UserInputError(f"[{text}] is not a valid parameter (use force-deletion)")
    return True


def force_param(present_from: int) -> Param:
    return Param(
        "force",
        "Force deletion (y/n)",
        lambda ctx, v, text: K.yes_no(text, "Force deletion"),
        default="n",
        complete=K.words("y", "n"),
        line_parse=_force_word,
        line_complete=K.words("force-deletion"),
        present_from=present_from,
        placeholder="[force-deletion]",
        help="Needed when there are backups in the catalog: they are removed from the "
        "catalog at once and their files are deleted by pgbackman_maintenance, regardless "
        "of retention.",
    )


DEFID = Param(
    "def_id",
    "DefID",
    K.an_id("DefID"),
    complete=K.def_ids,
    placeholder="[DefID]",
    help="ID of the backup definition.",
)
DELETE_QUESTION = "Are you sure you want to delete this backup definition? (yes/no)"


def _deleted(ctx: ShellContext, what: str, force: bool, delete: Any) -> None:
    try:
        delete()
    except CatalogError as exc:
        raise CatalogError(
            f"Could not delete this backup job definition: {exc}"
        ) from None
    suffix = " with force" if force else ""
    ctx.out.done(f"Backup definition for {what} deleted{suffix}.")


@command(
    "delete_backup_definition_id",
    params=[DEFID, force_param(2)],
    doc="""
    NOTE: Use this command with precaution.
    Deletes the backup definition with this DefID.
    """,
    notes="""
    Examples:
      delete_backup_definition_id 1
      delete_backup_definition_id 1 force-deletion
    """,
    confirm=DELETE_QUESTION,
)
def delete_backup_definition_id(ctx: ShellContext, v: Values) -> None:
    _deleted(
        ctx,
        f"DefID: {v.def_id}",
        v.force,
        lambda: cat_defs.delete_backup_definition_id(ctx.cat, v.def_id, v.force),
    )


@command(
    "delete_backup_definition_dbname",
    params=[
        K.node(placeholder="[NodeID|FQDN]", help="PgSQL node running the database."),
        Param(
            "dbname",
            "DBname",
            complete=K.databases_with_definitions,
            placeholder="[DBname]",
            help="Database name.",
        ),
        force_param(3),
    ],
    doc="""
    NOTE: Use this command with precaution.
    Deletes all backup definitions (on every backup server) of a database.
    """,
    notes="""
    Snapshot backups are left alone.

    Examples:
      delete_backup_definition_dbname 1 testdb
      delete_backup_definition_dbname pg-node01.example.org testdb force-deletion
    """,
    confirm=DELETE_QUESTION,
)
def delete_backup_definition_dbname(ctx: ShellContext, v: Values) -> None:
    _deleted(
        ctx,
        f"DBname: {v.dbname}",
        v.force,
        lambda: cat_defs.delete_backup_definition_dbname(
            ctx.cat, v.node, v.dbname, v.force
        ),
    )


@command(
    "update_backup_definition",
    params=U.PARAMS,
    doc="""
    Updates a backup definition. An empty value ("") keeps the current value (shown between
    [] in interactive mode). Use it e.g. to re-activate a STOPPED definition.
    The last two arguments may be left out.
    """,
    notes="""
    Example:
      update_backup_definition 12 30 02 "*" "*" "1-5" "14 days" 2 "" ACTIVE "weekdays only"
    """,
    confirm=UPDATE_CORRECT,
)
def update_backup_definition(ctx: ShellContext, v: Values) -> None:
    cur = v.definition
    def_id = cur["def_id"]
    new = {p.key: getattr(v, p.key) for p in U.UPDATABLE}
    new["extra_backup_parameters"] = v.compression.extra  # -Z folded
    if (
        all(str(value) == str(cur[k] or "") for k, value in new.items())
        and v.compression.own == cur["backup_compression"]
        and v.encryption == bool(cur["encryption"])
    ):
        ctx.out.unchanged(
            f"Backup definition DefID: {def_id} already has these values."
        )
        return
    cat_defs.update_backup_definition(
        ctx.cat,
        def_id,
        new["minutes_cron"],
        new["hours_cron"],
        new["day_month_cron"],
        new["month_cron"],
        new["weekday_cron"],
        new["retention_period"],
        int(new["retention_redundancy"]),
        new["extra_backup_parameters"],
        new["job_status"],
        new["remarks"],
        v.compression.own or prot.DEFAULT_WORD,
        v.encryption,
    )
    ctx.out.done(f"Backup definition DefID: {def_id} updated.")


# -- move_backup_definition ----------------------------------------------------------------
def _target_server(ctx: ShellContext, v: Values, text: str) -> int:
    target = ctx.resolve_server(text)
    if target == v.source:
        raise UserInputError("From and To backup servers are the same")
    return target


@command(
    "move_backup_definition",
    params=[
        K.server(
            "source",
            "From backup server SrvID / FQDN",
            "[From SrvID|FQDN]",
            "Backup server the definitions are on now ('' = default server).",
        ),
        K.server(
            "target",
            "To Backup server SrvID / FQDN",
            "[To SrvID|FQDN]",
            "Backup server that will run them.",
            _target_server,
        ),
        Param(
            "nodes",
            "PgSQL node NodeID / FQDN",
            lambda ctx, v, text: K.node_filter(ctx, text),
            default="all",
            complete=K.with_all(K.nodes),
            placeholder="[NodeID|FQDN]",
            help="Only definitions of these nodes (all, * or '' = every node).",
        ),
        Param(
            "dbnames",
            "DBname",
            lambda ctx, v, text: K.text_filter(text),
            default="all",
            placeholder="[DBname]",
            help="Only these databases (all, * or '' = every database).",
        ),
        K.def_id_filter(help="Only these DefIDs (all, * or '' = every definition)."),
    ],
    doc="""
    Moves backup definitions from one backup server to another. The crontabs of both servers
    are regenerated; backups already taken stay with (and are expired by) the old server.
    """,
    notes="""
    Example:
      move_backup_definition backup01.example.org backup02.example.org 1 all all
    """,
    confirm=ALL_CORRECT,
)
def move_backup_definition(ctx: ShellContext, v: Values) -> None:
    moved = cat_defs.move_backup_definitions(
        ctx.cat, v.source, v.target, v.nodes, v.dbnames, v.def_ids
    )
    if not moved:
        ctx.out.unchanged("No backup definition matches: nothing moved.")
        return
    ctx.out.done(
        f"{moved} backup definition(s) moved from SrvID {v.source} to SrvID {v.target}."
    )
