"""Fleet-at-a-glance commands: show_alerts and show_backup_status.

Both read the catalog views of ``catalog/monitoring.py`` / ``catalog/alerts.py``; the OK,
STALE and FAILED verdicts are :func:`pgbackman.core.health.judge`'s, the same that
pgbackman_check, pgbackman_metrics and maintenance's stale alerts use. Schedules are read in
the local time zone of the host running the shell (cron's zone on the backup servers).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pgbackman.catalog import alerts as cat_alerts
from pgbackman.catalog import monitoring as mon
from pgbackman.errors import UserInputError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import command

ALERT_COLUMNS = (
    "AlertID",
    "Registered",
    "Type",
    "Backup server",
    "PgSQL node",
    "DBname",
    "RefID",
    "BckID",
    "Message",
    "Sendto",
    "Sent",
    "Sent at",
    "Attempts",
    "Delivery error",
)
STATUS_COLUMNS = (
    "Backup server",
    "NodeID",
    "PgSQL node",
    "Definitions",
    "OK",
    "STALE",
    "FAILED",
    "Inactive",
)
ALERT_LIMIT = 1000


def _one_line(text: Any) -> str:
    return " ".join(str(text).split()) if text is not None else ""


def _servers(help: str) -> Param:
    return Param(
        "servers",
        "SrvID / FQDN",
        lambda ctx, v, text: K.server_filter(ctx, text),
        default=K.this_server,
        complete=K.with_all(K.servers),
        placeholder="[SrvID|FQDN|all]",
        help=help,
    )


def _which(ctx: ShellContext, v: Values, text: str) -> str:
    which = text.strip().lower()
    which = "all" if which == "*" else which
    if which not in cat_alerts.SENT_FILTERS:
        raise UserInputError(f"[{which}] is not valid; use sent, unsent or all")
    return which


@command(
    "show_alerts",
    params=[
        _servers("Backup server ('' = default backup server; all or * = every one)."),
        Param(
            "which",
            "sent / unsent / all",
            _which,
            default="unsent",
            complete=K.words(*cat_alerts.SENT_FILTERS),
            placeholder="[sent|unsent|all]",
            help="Which alerts ('' = unsent).",
            title="Sent",
            echo_parsed=True,
        ),
    ],
    doc="""
    Shows the alerts of a backup server (or of all), newest first: failed backups, snapshots
    and restores, STALE definitions, missing or corrupt backups, locked runs, refused
    configuration values. pgbackman_alerts delivers them (mail to the node's logs_email,
    notify_urls); an unsent alert shows its delivery attempts and last error.
    """,
    notes="""
    At most the newest 1000 alerts are shown.

    Example:
      show_alerts backup01.example.org unsent
    """,
    echo=True,
)
def show_alerts(ctx: ShellContext, v: Values) -> None:
    servers, which = v.servers, v.which
    rows = cat_alerts.list_alerts(ctx.cat, servers, which, ALERT_LIMIT + 1)
    if len(rows) > ALERT_LIMIT:
        rows = rows[:ALERT_LIMIT]
        K.warn(ctx, f"Only the newest {ALERT_LIMIT} alerts are shown")
    table = [
        {
            "AlertID": r["alert_id"],
            "Registered": r["registered"],
            "Type": r["alert_type"],
            "Backup server": r["backup_server_fqdn"],
            "PgSQL node": r["pgsql_node_fqdn"],
            "DBname": r["dbname"],
            "RefID": r["ref_id"],
            "BckID": r["bck_id"],
            "Message": _one_line(r["error_message"]),
            "Sendto": r["sendto"],
            "Sent": r["alert_sent"],
            "Sent at": r["sent_at"],
            "Attempts": r["delivery_attempts"],
            "Delivery error": _one_line(r["last_delivery_error"]),
        }
        for r in rows
    ]
    ctx.out.table(
        "alerts",
        ALERT_COLUMNS,
        table,
        left=("Backup server", "PgSQL node", "DBname", "Message", "Delivery error"),
    )


@command(
    "show_backup_status",
    params=[
        _servers("Backup server ('' = default backup server; all or * = every one).")
    ],
    doc="""
    The fleet at a glance: per PgSQL node, how many backup definitions are OK, STALE (no
    successful backup where the schedule wants one, plus the node's stale_backup_grace) or
    FAILED (the newest run ended in ERROR), and how many are inactive (STOPPED definition
    or node).
    """,
    notes="""
    Example:
      show_backup_status all
    """,
    echo=True,
)
def show_backup_status(ctx: ShellContext, v: Values) -> None:
    servers = v.servers
    # Imported here: croniter (via core.health) costs the shell's start-up ~30 ms otherwise.
    from pgbackman.core import health

    now = mon.now(ctx.cat)
    counts: dict[tuple[str, int, str], dict[str, int]] = defaultdict(
        lambda: {state: 0 for state in health.STATES}
    )
    for r in mon.definition_health(ctx.cat, mon.Scope(server_ids=servers)):
        key = (r["backup_server_fqdn"], int(r["pgsql_node_id"]), r["pgsql_node_fqdn"])
        counts[key][health.judge(r, now).state] += 1
    table = [
        {
            "Backup server": server,
            "NodeID": node_id,
            "PgSQL node": node,
            "Definitions": sum(c.values()),
            "OK": c[health.OK],
            "STALE": c[health.STALE],
            "FAILED": c[health.FAILED],
            "Inactive": c[health.INACTIVE],
        }
        for (server, node_id, node), c in sorted(counts.items())
    ]
    ctx.out.table(
        "backup_status", STATUS_COLUMNS, table, left=("Backup server", "PgSQL node")
    )
