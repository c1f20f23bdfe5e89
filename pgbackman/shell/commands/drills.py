"""Restore drill commands: register_restore_drill, update_restore_drill, delete_restore_drill,
show_restore_drills, show_restore_drill_details.

A drill restores the newest SUCCEEDED backup of a backup definition into a scratch database
on a drill node every [interval], checks it against the facts recorded when the backup was
taken, and drops it again (``pgbackman_restore --drill <DrillID>``, queued by
pgbackman_control of the definition's backup server when the drill is due).
"""

from __future__ import annotations

from pgbackman.catalog import drills as cat_drills
from pgbackman.core import validate
from pgbackman.errors import UserInputError
from pgbackman.shell.commands._arguments import digits, id_filter, is_all
from pgbackman.shell.context import ShellContext
from pgbackman.shell.registry import command

DEFAULT_INTERVAL = "7 days"
STATUSES = ("ACTIVE", "STOPPED")


def _drill(ctx: ShellContext, text: str) -> dict[str, object]:
    drill_id = digits(text, "DrillID")
    row = cat_drills.get(ctx.cat, drill_id)
    if row is None:
        raise UserInputError(f"Restore drill DrillID [{drill_id}] does not exist")
    return dict(row)


@command(
    "register_restore_drill",
    nargs=(3,),
    usage=f"""
    register_restore_drill [DefID] [NodeID|FQDN] [interval]

    Registers a restore drill of a backup definition: every [interval] the newest
    SUCCEEDED backup of the definition is restored into a scratch database on the drill
    node (roles included), checked against the facts recorded when it was taken (its
    tables and their rows) and dropped again. The result goes into the catalog
    (show_restore_drills); a failed drill raises a Restore-drill alert.

    Parameters:
      [DefID]         Backup definition (code FULL, SCHEMA or RDS).
      [NodeID|FQDN]   PgSQL node the drills restore on (the drill node).
      [interval]      How often, from 1 hour to 3650 days ('' = {DEFAULT_INTERVAL}).

    Example:
      register_restore_drill 12 pg-drill01.example.org "7 days"
    """,
)
def register_restore_drill(ctx: ShellContext, args: list[str]) -> None:
    if args:
        def_text, node_text, interval = args
    else:
        def_text = ctx.prompt("DefID", "")
        node_text = ctx.prompt("Drill node NodeID / FQDN", "")
        interval = ctx.prompt("Interval", DEFAULT_INTERVAL)
        ctx.confirm_or_abort()
    def_id = digits(def_text, "DefID")
    node_id = ctx.resolve_node(node_text)
    value = validate.drill_interval(interval.strip() or DEFAULT_INTERVAL, "Interval")
    drill_id = cat_drills.register(ctx.cat, def_id, node_id, value)
    ctx.out.done(f"Restore drill DrillID: {drill_id} registered for DefID: {def_id}.")


@command(
    "update_restore_drill",
    nargs=(4,),
    usage="""
    update_restore_drill [DrillID] [NodeID|FQDN] [interval] [status]

    Changes a restore drill. "" keeps the current value.

    Parameters:
      [DrillID]       Restore drill to change.
      [NodeID|FQDN]   PgSQL node the drills restore on.
      [interval]      How often, from 1 hour to 3650 days.
      [status]        ACTIVE or STOPPED (a STOPPED drill is not scheduled; it can still
                      be run by hand with pgbackman_restore --drill <DrillID>).

    Example:
      update_restore_drill 3 "" "1 day" ""
    """,
)
def update_restore_drill(ctx: ShellContext, args: list[str]) -> None:
    if args:
        drill_text, node_text, interval, status = args
        drill = _drill(ctx, drill_text)
    else:
        drill = _drill(ctx, ctx.prompt("DrillID", ""))
        node_text = ctx.prompt("Drill node NodeID / FQDN", str(drill["drill_node_id"]))
        interval = ctx.prompt("Interval", str(drill["drill_interval"]))
        status = ctx.prompt("Status", str(drill["status"]))
        ctx.confirm_or_abort()
    node_id = ctx.resolve_node(node_text) if node_text.strip() else None
    value = validate.drill_interval(interval, "Interval") if interval.strip() else None
    new_status = status.strip().upper() or None
    if new_status is not None and new_status not in STATUSES:
        raise UserInputError(f"Status [{status.strip()}] must be ACTIVE or STOPPED")
    drill_id = int(str(drill["drill_id"]))
    cat_drills.update(ctx.cat, drill_id, node_id, value, new_status, None)
    ctx.out.done(f"Restore drill DrillID: {drill_id} updated.")


@command(
    "delete_restore_drill",
    nargs=(1,),
    usage="""
    delete_restore_drill [DrillID]

    Deletes a restore drill and the record of its runs (their log files are deleted by
    pgbackman_maintenance). The backups it proved are not touched.

    Example:
      delete_restore_drill 3
    """,
)
def delete_restore_drill(ctx: ShellContext, args: list[str]) -> None:
    if args:
        drill = _drill(ctx, args[0])
    else:
        drill = _drill(ctx, ctx.prompt("DrillID", ""))
        ctx.confirm_or_abort(
            "Are you sure you want to delete this restore drill? (yes/no)"
        )
    drill_id = int(str(drill["drill_id"]))
    cat_drills.delete(ctx.cat, drill_id)
    ctx.out.done(f"Restore drill DrillID: {drill_id} deleted.")


DRILL_COLUMNS = (
    "DrillID",
    "DefID",
    "DBname",
    "Code",
    "PgSQL node",
    "Drill node",
    "Interval",
    "Status",
    "Last DrillRunID",
    "Last run",
    "Last status",
    "Last success",
)
DRILL_LEFT = ("DBname", "PgSQL node", "Drill node")


@command(
    "show_restore_drills",
    nargs=(1,),
    usage="""
    show_restore_drills [DefID|all]

    Shows the restore drills (of one or more backup definitions; all or * = every one;
    comma list allowed) with their newest run: its DrillRunID (see
    show_restore_drill_details), when it finished, its status, and the newest success.

    Examples:
      show_restore_drills all
      show_restore_drills 12,13
    """,
)
def show_restore_drills(ctx: ShellContext, args: list[str]) -> None:
    text = args[0] if args else ctx.prompt("DefID", "all")
    def_ids = None if is_all(text) else id_filter(text, "DefID")
    if args:
        ctx.out.filters([("DefID", text)])
    rows = cat_drills.show(ctx.cat, def_ids)
    ctx.out.table("restore_drills", DRILL_COLUMNS, rows, left=DRILL_LEFT)


@command(
    "show_restore_drill_details",
    nargs=(1,),
    usage="""
    show_restore_drill_details [DrillRunID]

    Shows one run of a restore drill: the backup it restored, where, what it checked,
    the roles it created (and dropped) and the error when it failed.

    Example:
      show_restore_drill_details 7
    """,
)
def show_restore_drill_details(ctx: ShellContext, args: list[str]) -> None:
    run_id = digits(args[0] if args else ctx.prompt("DrillRunID", ""), "DrillRunID")
    d = cat_drills.run_details(ctx.cat, run_id)
    if d is None:
        raise UserInputError(f"Restore drill run DrillRunID [{run_id}] does not exist")
    ctx.out.keyvalue(
        "restore_drill_details",
        [
            ("DrillRunID", d["drill_run_id"]),
            ("DrillID", d["drill_id"]),
            ("DefID", d["def_id"]),
            ("ProcPID", d["procpid"]),
            ("#", ""),
            ("Started", d["started"]),
            ("Finished", d["finished"]),
            ("Duration", d["duration"]),
            ("Execution status", d["execution_status"]),
            ("##", ""),
            ("BckID", d["bck_id"]),
            ("Backup finished", d["backup_finished"]),
            ("DBname", d["dbname"]),
            ("PgSQL node", _node(d["pgsql_node_id"], d["pgsql_node"])),
            ("Backup server", _node(d["backup_server_id"], d["backup_server"])),
            ("Drill node", _node(d["drill_node_id"], d["drill_node"])),
            ("Scratch DBname", d["scratch_dbname"]),
            ("Roles created", ", ".join(d["roles_created"] or [])),
            ("###", ""),
            ("Checked", list(d["checks"] or [])),
            ("####", ""),
            ("Drill log file", d["drill_log_file"]),
            ("Global log file", d["global_log_file"]),
            ("#####", ""),
            ("Error message", d["error_message"]),
        ],
    )


def _node(node_id: object, name: object) -> str:
    return f"[{node_id}] {name}" if node_id is not None else ""
