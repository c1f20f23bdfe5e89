"""Restore drill commands: register_restore_drill, update_restore_drill, delete_restore_drill,
show_restore_drills, show_restore_drill_details.

A drill restores the newest SUCCEEDED backup of a backup definition into a scratch database
on a drill node every [interval], checks it against the facts recorded when the backup was
taken, and drops it again (``pgbackman_restore --drill <DrillID>``, queued by
pgbackman_control of the definition's backup server when the drill is due).
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog import drills as cat_drills
from pgbackman.core import validate
from pgbackman.errors import UserInputError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import ALL_CORRECT, UPDATE_CORRECT, command

DEFAULT_INTERVAL = "7 days"
STATUSES = ("ACTIVE", "STOPPED")


def _drill(ctx: ShellContext, v: Values, text: str) -> dict[str, Any]:
    drill_id = K.digits(text, "DrillID")
    row = cat_drills.get(ctx.cat, drill_id)
    if row is None:
        raise UserInputError(f"Restore drill DrillID [{drill_id}] does not exist")
    return dict(row)


def _interval(ctx: ShellContext, v: Values, text: str) -> str:
    return validate.drill_interval(text, "Interval")


def _status(ctx: ShellContext, v: Values, text: str) -> str:
    status = text.strip().upper()
    if status not in STATUSES:
        raise UserInputError(f"Status [{text.strip()}] must be ACTIVE or STOPPED")
    return status


def _drill_ids(ctx: ShellContext, v: Values, text: str) -> list[str]:
    return [
        str(i) for i in cat_drills.ids(ctx.cat, "show_restore_drills", "drill_id", text)
    ]


def _run_ids(ctx: ShellContext, v: Values, text: str) -> list[str]:
    return [
        str(i)
        for i in cat_drills.ids(
            ctx.cat, "show_restore_drill_details", "drill_run_id", text
        )
    ]


DRILL = Param(
    "drill",
    "DrillID",
    _drill,
    complete=_drill_ids,
    placeholder="[DrillID]",
    help="Restore drill (show_restore_drills).",
)


@command(
    "register_restore_drill",
    params=[
        Param(
            "def_id",
            "DefID",
            K.an_id("DefID"),
            complete=K.def_ids,
            placeholder="[DefID]",
            help="Backup definition (code FULL, SCHEMA or RDS).",
        ),
        K.node(
            label="Drill node NodeID / FQDN",
            placeholder="[NodeID|FQDN]",
            help="PgSQL node the drills restore on (the drill node).",
        ),
        Param(
            "interval",
            "Interval",
            _interval,
            default=DEFAULT_INTERVAL,
            placeholder="[interval]",
            help=f"How often, from 1 hour to 3650 days ('' = {DEFAULT_INTERVAL}).",
        ),
    ],
    doc="""
    Registers a restore drill of a backup definition: every [interval] the newest
    SUCCEEDED backup of the definition is restored into a scratch database on the drill
    node (roles included), checked against the facts recorded when it was taken (its
    tables and their rows) and dropped again. The result goes into the catalog
    (show_restore_drills); a failed drill raises a Restore-drill alert.
    """,
    notes="""
    Example:
      register_restore_drill 12 pg-drill01.example.org "7 days"
    """,
    confirm=ALL_CORRECT,
)
def register_restore_drill(ctx: ShellContext, v: Values) -> None:
    drill_id = cat_drills.register(ctx.cat, v.def_id, v.node, v.interval)
    ctx.out.done(f"Restore drill DrillID: {drill_id} registered for DefID: {v.def_id}.")


@command(
    "update_restore_drill",
    params=[
        DRILL,
        Param(
            "node",
            "Drill node NodeID / FQDN",
            K.node_id,
            default=lambda ctx, v: str(v.drill["drill_node_id"]),
            complete=K.nodes,
            placeholder="[NodeID|FQDN]",
            help="PgSQL node the drills restore on.",
        ),
        Param(
            "interval",
            "Interval",
            K.keep_current(_interval, lambda ctx, v: str(v.drill["drill_interval"])),
            default=lambda ctx, v: str(v.drill["drill_interval"]),
            placeholder="[interval]",
            help="How often, from 1 hour to 3650 days.",
        ),
        Param(
            "status",
            "Status",
            _status,
            default=lambda ctx, v: str(v.drill["status"]),
            complete=K.words(*STATUSES),
            placeholder="[status]",
            help="ACTIVE or STOPPED (a STOPPED drill is not scheduled; it can still be "
            "run by hand with pgbackman_restore --drill <DrillID>).",
        ),
    ],
    doc='Changes a restore drill. "" keeps the current value.',
    notes="""
    Example:
      update_restore_drill 3 "" "1 day" ""
    """,
    confirm=UPDATE_CORRECT,
)
def update_restore_drill(ctx: ShellContext, v: Values) -> None:
    d = v.drill
    drill_id = int(d["drill_id"])
    node = v.node if v.node != int(d["drill_node_id"]) else None
    interval = v.interval if v.interval != str(d["drill_interval"]) else None
    status = v.status if v.status != d["status"] else None
    if node is None and interval is None and status is None:
        ctx.out.unchanged(
            f"Restore drill DrillID: {drill_id} already has these values."
        )
        return
    cat_drills.update(ctx.cat, drill_id, node, interval, status, None)
    ctx.out.done(f"Restore drill DrillID: {drill_id} updated.")


@command(
    "delete_restore_drill",
    params=[DRILL],
    doc="""
    Deletes a restore drill and the record of its runs (their log files are deleted by
    pgbackman_maintenance). The backups it proved are not touched.
    """,
    notes="""
    Example:
      delete_restore_drill 3
    """,
    confirm="Are you sure you want to delete this restore drill? (yes/no)",
)
def delete_restore_drill(ctx: ShellContext, v: Values) -> None:
    drill_id = int(v.drill["drill_id"])
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
    params=[
        K.def_id_filter(
            "[DefID|all]",
            "Backup definition; all, * or '' = every one; comma list allowed.",
        )
    ],
    doc="""
    Shows the restore drills with their newest run: its DrillRunID (see
    show_restore_drill_details), when it finished, its status, and the newest success.
    """,
    notes="""
    Examples:
      show_restore_drills all
      show_restore_drills 12,13
    """,
    echo=True,
)
def show_restore_drills(ctx: ShellContext, v: Values) -> None:
    rows = cat_drills.show(ctx.cat, v.def_ids)
    ctx.out.table("restore_drills", DRILL_COLUMNS, rows, left=DRILL_LEFT)


@command(
    "show_restore_drill_details",
    params=[
        Param(
            "run_id",
            "DrillRunID",
            K.an_id("DrillRunID"),
            complete=_run_ids,
            placeholder="[DrillRunID]",
            help="One run of a restore drill (show_restore_drills: Last DrillRunID).",
        )
    ],
    doc="""
    Shows one run of a restore drill: the backup it restored, where, what it checked,
    the roles it created (and dropped) and the error when it failed.
    """,
    notes="""
    Example:
      show_restore_drill_details 7
    """,
)
def show_restore_drill_details(ctx: ShellContext, v: Values) -> None:
    d = cat_drills.run_details(ctx.cat, v.run_id)
    if d is None:
        raise UserInputError(
            f"Restore drill run DrillRunID [{v.run_id}] does not exist"
        )
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
            ("PgSQL node", _named(d["pgsql_node_id"], d["pgsql_node"])),
            ("Backup server", _named(d["backup_server_id"], d["backup_server"])),
            ("Drill node", _named(d["drill_node_id"], d["drill_node"])),
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


def _named(ident: object, name: object) -> str:
    return f"[{ident}] {name}" if ident is not None else ""
