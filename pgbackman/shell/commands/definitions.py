"""Backup definition commands: show, register, update, delete (by id / by dbname), move.

Upstream bugs fixed here: arguments and extra parameters are never lower-cased, the
day-of-month and weekday fields are not swapped on update, both spellings of
``#databases_without_backup_definitions#`` work in both modes, an invalid third argument of
``delete_backup_definition_dbname`` is a clean error, and a multi-database registration is
validated completely and then registered in one transaction (all or nothing).
"""

from __future__ import annotations

from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import nodes as cat_nodes
from pgbackman.pgnode import connection as pgnode
from pgbackman.core import cronfields, dbselect, validate
from pgbackman.errors import CatalogError, UserInputError
from pgbackman.shell.commands import _protection as prot
from pgbackman.shell.commands._arguments import (
    digits,
    id_filter,
    node_filter,
    server_node_db_filters,
    skipped_warning,
    text_filter,
    yes_no,
)
from pgbackman.shell.context import ShellContext
from pgbackman.shell.registry import command

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
)
DEF_LEFT = ("Backup server", "PgSQL node", "DBname", "Schedule", "Parameters")


@command(
    "show_backup_definitions",
    nargs=(3,),
    usage="""
    show_backup_definitions [SrvID|FQDN] [NodeID|FQDN] [DBname]

    Shows the backup definitions (periodic backup jobs) in PgBackMan.

    Parameters:
      [SrvID|FQDN]   SrvID or FQDN of a backup server; '' = default backup server;
                     all or * = every server; comma list allowed.
      [NodeID|FQDN]  NodeID or FQDN (FQDN:port) of a PgSQL node; all, * or '' = every node.
      [DBname]       Database name; all, * or '' = every database; comma list allowed.

    Example:
      show_backup_definitions all all all
      show_backup_definitions backup01.example.org 1,2 test01
    """,
)
def show_backup_definitions(ctx: ShellContext, args: list[str]) -> None:
    filters = server_node_db_filters(ctx, args)
    rows = cat_defs.show_backup_definitions(ctx.cat, *filters)
    ctx.out.table("backup_definitions", DEF_COLUMNS, rows, left=DEF_LEFT)


REGISTER_USAGE = """
    register_backup_definition [SrvID|FQDN] [NodeID|FQDN] [DBname] [DBname exceptions]
                               [min_cron] [hour_cron] [day-month_cron] [month_cron]
                               [weekday_cron] [backup code] [encryption]
                               [retention period] [retention redundancy]
                               [extra backup parameters] [job status] [remarks]
                               [backup compression]

    Registers a backup definition that will be run periodically (cron) by PgBackMan.

    Parameters:
      [SrvID|FQDN]    Backup server that runs the job (default: this backup server).
      [NodeID|FQDN]   PgSQL node running the database.
      [DBname]        A database, a comma list, #all_databases# (every database except
                      template0, template1, postgres), #databases_without_backup_definitions#
                      (also spelled #databases_without_backups#), or '' with backup code
                      CLUSTER. Every name must exist on the node or nothing is registered.
      [DBname exceptions]  Comma list of databases left out of the selection.
      [*_cron]        Schedule in cron syntax (*, n, a-b, lists, */n, a-b/n, month and
                      weekday names). With several databases every one gets its own random
                      minute and hour inside the node's backup_minutes_interval and
                      backup_hours_interval (load spreading).
      [backup code]   FULL, SCHEMA, DATA, CLUSTER or RDS.
      [encryption]    true/false: every file of its backups is encrypted with age to the
                      backup server's encryption_recipients (refused when it has none).
      [retention period]     An interval, e.g. '7 days', '2 weeks', '1 month'.
      [retention redundancy] Minimum number of backups kept regardless of the period.
      [extra backup parameters]  Extra pg_dump/pg_dumpall parameters (kept as typed).
      [job status]    ACTIVE or STOPPED.
      [remarks]       Free text.
      [backup compression]  gzip:N (1-9), zstd:N (1-22), lz4:N (1-12) or none; '' or
                      default = the node's backup_compression when the job runs. zstd and
                      lz4 need pg_dump 16+ (PgSQL node 16+), except for CLUSTER. A -Z or
                      --compress in the extra parameters becomes this value.

    An empty value ("") takes the default shown between [] in interactive mode (the node's
    configuration, see show_pgsql_node_config).
    The 1.0 form without [DBname exceptions] (15 arguments) is accepted too, and the
    last argument [backup compression] may be left out (16 arguments).

    Examples:
      register_backup_definition 1 1 test02 "" 41 01 "*" "*" "*" SCHEMA false "7 days" 1 "" ACTIVE "Testing reg"
      register_backup_definition "" pg-node01.example.org "#all_databases#" "test01,test02" "" "" "*" "*" "*" FULL false "" "" "" "" ""
    """


@command("register_backup_definition", nargs=(15, 16, 17), usage=REGISTER_USAGE)
def register_backup_definition(ctx: ShellContext, args: list[str]) -> None:
    if len(args) == 15:
        # PgBackMan 1.0 argument list: no [DBname exceptions] after [DBname].
        args = [*args[:3], "", *args[3:]]
    if len(args) == 16:
        args = [*args, ""]  # no [backup compression]: the node's
    if args:
        srv_text, node_text, db_text, exc_text = args[0:4]
        server_id = ctx.resolve_server(srv_text or ctx.default_backup_server())
        node_id = ctx.resolve_node(node_text)
        cfg = cat_nodes.node_config_dict(ctx.cat, node_id)
        values = [
            a if a.strip() != "" else d
            for a, d in zip(args[4:16], _defaults(cfg), strict=True)
        ] + [args[16]]
    else:
        server_id = ctx.resolve_server(
            ctx.prompt("Backup server SrvID / FQDN", ctx.default_backup_server())
        )
        node_id = ctx.resolve_node(ctx.prompt("PgSQL node NodeID / FQDN", ""))
        cfg = cat_nodes.node_config_dict(ctx.cat, node_id)
        db_text = ctx.prompt("DBname", "")
        exc_text = ctx.prompt("DBname exceptions", "")
        defaults = _defaults(cfg)
        several = dbselect.parse_dbname(db_text).is_special or "," in db_text
        labels = (
            "Minutes cron",
            "Hours cron",
            "Day-month cron",
            "Month cron",
            "Weekday cron",
            "Backup code",
            "Encryption",
            "Retention period",
            "Retention redundancy",
            "Extra parameters",
            "Job status",
            "Remarks",
        )
        values = []
        for i, (label, default) in enumerate(zip(labels, defaults, strict=True)):
            # Minute/hour are drawn per database when several are registered.
            values.append(default if several and i < 2 else ctx.prompt(label, default))
        values.append(ctx.prompt("Backup compression", prot.DEFAULT_WORD))
    defs = _build_definitions(ctx, server_id, node_id, cfg, db_text, exc_text, values)
    if ctx.prompted:
        ctx.confirm_or_abort()
    cat_defs.register_backup_definitions(ctx.cat, defs)
    for d in defs:
        ctx.out.done(f"Backup definition for dbname: [{d.dbname}] registered.")


def _defaults(cfg: dict[str, str]) -> list[str]:
    """Defaults of the 12 value arguments, from the NODE's configuration."""
    return [
        cronfields.random_minute(cfg.get("backup_minutes_interval", "01-59")),
        cronfields.random_hour(cfg.get("backup_hours_interval", "01-06")),
        cfg.get("backup_day_month_cron", "*"),
        cfg.get("backup_month_cron", "*"),
        cfg.get("backup_weekday_cron", "*"),
        cfg.get("backup_code", "FULL"),
        cfg.get("encryption", "false"),
        cfg.get("retention_period", "7 days"),
        cfg.get("retention_redundancy", "1"),
        cfg.get("extra_backup_parameters", ""),
        cfg.get("backup_job_status", "ACTIVE"),
        "",
    ]


def _build_definitions(
    ctx: ShellContext,
    server_id: int,
    node_id: int,
    cfg: dict[str, str],
    db_text: str,
    exc_text: str,
    values: list[str],
) -> list[cat_defs.NewDefinition]:
    """Validate everything (values, then the databases on the node) before any write."""
    minutes, hours, dom, month, dow, code, enc, ret, red, extra, status, remarks = (
        values[:12]
    )
    own = prot.compression_arg(values[12])
    minutes, hours, dom, month, dow = cronfields.validate_schedule(
        minutes, hours, dom, month, dow
    )
    code = validate.backup_code(code)
    encryption = validate.boolean(enc)
    retention = cat_defs.check_interval(ctx.cat, validate.interval(ret))
    redundancy = validate.redundancy(red)
    extra = validate.backup_extra_parameters("Extra parameters", extra, code)
    packing = prot.fold(ctx, code, own, extra)
    comp = prot.effective(packing.own, cfg)
    status = validate.job_status(status)
    remarks = validate.no_control_chars("Remarks", remarks)
    if encryption:
        prot.require_recipients(ctx, server_id, "this backup definition")
    spec = dbselect.parse_dbname(db_text)
    exceptions = dbselect.parse_exceptions(exc_text)
    if code == "CLUSTER" and spec.kind == dbselect.KIND_CLUSTER:
        dbnames = [""]
    else:
        target = ctx.node_target(node_id)
        with pgnode.session(target, application_name="pgbackman_cli") as conn:
            on_node = pgnode.list_databases(conn, include_system=True)
            release = prot.node_release(ctx, node_id, conn)
        prot.check_release(comp, code, release, f"PgSQL node [{node_id}]")
        on_node, unusable = dbselect.registrable(on_node)
        have = cat_defs.dbnames_with_definitions(ctx.cat, node_id)
        dbnames = dbselect.select_databases(
            spec, exceptions, on_node, have, node_label=target.fqdn, backup_code=code
        )
        skipped_warning(ctx, spec, unusable)
    schedule = dbselect.spread_schedule(
        dbnames,
        minutes,
        hours,
        cfg.get("backup_minutes_interval", "01-59"),
        cfg.get("backup_hours_interval", "01-06"),
    )
    return [
        cat_defs.NewDefinition(
            server_id,
            node_id,
            db,
            m,
            h,
            dom,
            month,
            dow,
            code,
            encryption,
            retention,
            redundancy,
            packing.extra,
            status,
            remarks,
            packing.own,
        )
        for db, m, h in schedule
    ]


@command(
    "delete_backup_definition_id",
    nargs=(1, 2),
    usage="""
    delete_backup_definition_id [DefID] [force-deletion]

    NOTE: Use this command with precaution.
    Deletes the backup definition with this DefID.

    Parameters:
      [DefID]           ID of the backup definition to delete.
      [force-deletion]  Needed when the definition has backups in the catalog: they are
                        removed from the catalog at once and their files are deleted by
                        pgbackman_maintenance, regardless of retention.

    Examples:
      delete_backup_definition_id 1
      delete_backup_definition_id 1 force-deletion
    """,
)
def delete_backup_definition_id(ctx: ShellContext, args: list[str]) -> None:
    if args:
        def_id = digits(args[0], "DefID")
        force = _force_arg(args[1:])
    else:
        def_id = digits(ctx.prompt("DefID", ""), "DefID")
        force = yes_no(ctx.prompt("Force deletion (y/n)", "n"), "Force deletion")
        ctx.confirm_or_abort(
            "Are you sure you want to delete this backup definition? (yes/no)"
        )
    try:
        cat_defs.delete_backup_definition_id(ctx.cat, def_id, force)
    except CatalogError as exc:
        raise CatalogError(
            f"Could not delete this backup job definition: {exc}"
        ) from None
    suffix = " with force" if force else ""
    ctx.out.done(f"Backup definition for DefID: {def_id} deleted{suffix}.")


@command(
    "delete_backup_definition_dbname",
    nargs=(2, 3),
    usage="""
    delete_backup_definition_dbname [NodeID|FQDN] [DBname] [force-deletion]

    NOTE: Use this command with precaution.
    Deletes all backup definitions (on every backup server) of a database.

    Parameters:
      [NodeID|FQDN]     PgSQL node running the database.
      [DBname]          Database name.
      [force-deletion]  Needed when the definitions have backups in the catalog (see
                        delete_backup_definition_id). Snapshot backups are left alone.

    Examples:
      delete_backup_definition_dbname 1 testdb
      delete_backup_definition_dbname pg-node01.example.org testdb force-deletion
    """,
)
def delete_backup_definition_dbname(ctx: ShellContext, args: list[str]) -> None:
    if args:
        node_id = ctx.resolve_node(args[0])
        dbname = args[1]
        force = _force_arg(args[2:])
    else:
        node_id = ctx.resolve_node(ctx.prompt("NodeID / FQDN", ""))
        dbname = ctx.prompt("DBname", "")
        force = yes_no(ctx.prompt("Force deletion (y/n)", "n"), "Force deletion")
        ctx.confirm_or_abort(
            "Are you sure you want to delete this backup definition? (yes/no)"
        )
    validate.no_control_chars("DBname", dbname)
    try:
        cat_defs.delete_backup_definition_dbname(ctx.cat, node_id, dbname, force)
    except CatalogError as exc:
        raise CatalogError(
            f"Could not delete this backup job definition: {exc}"
        ) from None
    suffix = " with force" if force else ""
    ctx.out.done(f"Backup definition for DBname: {dbname} deleted{suffix}.")


def _force_arg(rest: list[str]) -> bool:
    if not rest:
        return False
    if rest[0] != "force-deletion":
        raise UserInputError(
            f"[{rest[0]}] is not a valid parameter (use force-deletion)"
        )
    return True


@command(
    "update_backup_definition",
    nargs=(11, 12, 13),
    usage="""
    update_backup_definition [DefID] [min_cron] [hour_cron] [day-month_cron] [month_cron]
                             [weekday_cron] [retention period] [retention redundancy]
                             [extra backup parameters] [job status] [remarks]
                             [backup compression] [encryption]

    Updates a backup definition. An empty value ("") keeps the current value (shown between
    [] in interactive mode). Use it e.g. to re-activate a STOPPED definition.
    The last two arguments may be left out: [backup compression] as in
    register_backup_definition (default = the node's backup_compression again), and
    [encryption] true/false (true needs the backup server's encryption_recipients; backups
    already taken stay as they were written).

    Example:
      update_backup_definition 12 30 02 "*" "*" "1-5" "14 days" 2 "" ACTIVE "weekdays only"
    """,
)
def update_backup_definition(ctx: ShellContext, args: list[str]) -> None:
    def_id = digits(args[0] if args else ctx.prompt("DefID", ""), "DefID")
    cur = cat_defs.get_backup_definition(ctx.cat, def_id)
    if cur is None:
        raise UserInputError(f"Backup definition DefID [{def_id}] does not exist")
    keys = (
        ("Minutes cron", "minutes_cron"),
        ("Hours cron", "hours_cron"),
        ("Day-month cron", "day_month_cron"),
        ("Month cron", "month_cron"),
        ("Weekday cron", "weekday_cron"),
        ("Retention period", "retention_period"),
        ("Retention redundancy", "retention_redundancy"),
        ("Extra parameters", "extra_backup_parameters"),
        ("Job status", "job_status"),
        ("Remarks", "remarks"),
    )
    cur_comp = str(cur["backup_compression"] or prot.DEFAULT_WORD)
    cur_enc = "true" if cur["encryption"] else "false"
    if args:
        given = [*args[1:], "", ""][: len(keys)]
        comp_text, enc_text = [*args[11:], "", ""][:2]
    else:
        given = [ctx.prompt(label, str(cur[key] or "")) for label, key in keys]
        comp_text = ctx.prompt("Backup compression", cur_comp)
        enc_text = ctx.prompt("Encryption", cur_enc)
    new = {
        key: (v if v.strip() != "" else str(cur[key] or ""))
        for (_, key), v in zip(keys, given, strict=True)
    }
    comp_text = comp_text if comp_text.strip() else cur_comp
    encryption = validate.boolean(enc_text if enc_text.strip() else cur_enc)
    sched = cronfields.validate_schedule(
        new["minutes_cron"],
        new["hours_cron"],
        new["day_month_cron"],
        new["month_cron"],
        new["weekday_cron"],
    )
    retention = cat_defs.check_interval(
        ctx.cat, validate.interval(new["retention_period"])
    )
    redundancy = validate.redundancy(new["retention_redundancy"])
    code = str(cur["backup_code"])
    extra = validate.backup_extra_parameters(
        "Extra parameters", new["extra_backup_parameters"], code
    )
    packing = prot.fold(ctx, code, prot.compression_arg(comp_text), extra)
    node_id = int(cur["pgsql_node_id"])
    comp = prot.effective(packing.own, cat_nodes.node_config_dict(ctx.cat, node_id))
    if prot.needs_release(comp, code):
        release = prot.node_release(ctx, node_id)
        prot.check_release(comp, code, release, f"PgSQL node [{node_id}]")
    if encryption and not cur["encryption"]:
        prot.require_recipients(
            ctx, int(cur["backup_server_id"]), f"backup definition [{def_id}]"
        )
    status = new["job_status"].strip().upper()
    if status != cur["job_status"]:
        status = validate.job_status(status)
    remarks = validate.no_control_chars("Remarks", new["remarks"])
    if ctx.prompted:
        ctx.confirm_or_abort("Are all values to update correct (yes/no)")
    cat_defs.update_backup_definition(
        ctx.cat,
        def_id,
        *sched,
        retention,
        redundancy,
        packing.extra,
        status,
        remarks,
        packing.own or prot.DEFAULT_WORD,
        encryption,
    )
    ctx.out.done(f"Backup definition DefID: {def_id} updated.")


@command(
    "move_backup_definition",
    nargs=(5,),
    usage="""
    move_backup_definition [From SrvID|FQDN] [To SrvID|FQDN] [NodeID|FQDN] [DBname] [DefID]

    Moves backup definitions from one backup server to another. The crontabs of both servers
    are regenerated; backups already taken stay with (and are expired by) the old server.

    Parameters:
      [From SrvID|FQDN]  Backup server the definitions are on now ('' = default server).
      [To SrvID|FQDN]    Backup server that will run them.
      [NodeID|FQDN]      Only definitions of these nodes (all, * or '' = every node).
      [DBname]           Only these databases (all, * or '' = every database).
      [DefID]            Only these DefIDs (all, * or '' = every definition).

    Example:
      move_backup_definition backup01.example.org backup02.example.org 1 all all
    """,
)
def move_backup_definition(ctx: ShellContext, args: list[str]) -> None:
    default = ctx.default_backup_server()
    if args:
        src, dst, node, db, ids = args
    else:
        src = ctx.prompt("From backup server SrvID / FQDN", default)
        dst = ctx.prompt("To Backup server SrvID / FQDN", default)
        node = ctx.prompt("PgSQL node NodeID / FQDN", "all")
        db = ctx.prompt("DBname", "all")
        ids = ctx.prompt("DefID", "all")
    from_id = ctx.resolve_server(src or default)
    to_id = ctx.resolve_server(dst or default)
    if from_id == to_id:
        raise UserInputError("From and To backup servers are the same")
    nodes, dbs, def_ids = (
        node_filter(ctx, node),
        text_filter(db),
        id_filter(ids, "DefID"),
    )
    if ctx.prompted:
        ctx.confirm_or_abort()
    moved = cat_defs.move_backup_definitions(
        ctx.cat, from_id, to_id, nodes, dbs, def_ids
    )
    ctx.out.done(
        f"{moved} backup definition(s) moved from SrvID {from_id} to SrvID {to_id}."
    )
