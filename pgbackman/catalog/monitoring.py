"""What the monitoring side reads from the catalog: pgbackman_check, pgbackman_metrics, the
Zabbix helpers, the stale-definition task of maintenance and ``show_backup_status``.

Only views are read (``backup_definition_health``, ``restore_drill_health``, ``show_alerts``, ``show_backup_servers``,
``show_backup_server_config``, ``show_jobs_queue``), so a monitoring login holding nothing but
``pgbackman_role_ro`` works. Filters are bound parameters. Verdicts (OK, STALE, FAILED) are
not taken here but in :mod:`pgbackman.core.health`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import read_view


@dataclass(frozen=True)
class Scope:
    """Which definitions to look at; None = no filter on that attribute."""

    server_ids: list[int] | None = None
    node_ids: list[int] | None = None
    def_ids: list[int] | None = None
    dbnames: list[str] | None = None


def now(cat: Catalog) -> dt.datetime:
    """The catalog's clock (ages are measured against it, never the local clock)."""
    value: dt.datetime = cat.scalar("SELECT now() AS now")
    return value


def server_by_fqdn(cat: Catalog, fqdn: str) -> int | None:
    """The id of backup server ``fqdn`` (case-insensitive), None when not registered."""
    row = cat.query_one(
        'SELECT "SrvID"::int AS server_id FROM show_backup_servers'
        ' WHERE lower("FQDN") = lower(%s)',
        (fqdn.strip(),),
    )
    return None if row is None else int(row["server_id"])


def server_config_value(cat: Catalog, server_id: int, parameter: str) -> str | None:
    row = cat.query_one(
        'SELECT "Value" AS value FROM show_backup_server_config'
        ' WHERE server_id = %s AND "Parameter" = %s',
        (server_id, parameter),
    )
    return None if row is None else str(row["value"])


def node_ids_by_fqdn(cat: Catalog, text: str) -> list[int]:
    """Node ids named ``host.domain`` or ``host.domain:port`` (several when ambiguous)."""
    fqdn, _, port = text.strip().rpartition(":") if ":" in text else (text, "", "")
    rows = cat.query(
        'SELECT "NodeID"::bigint AS node_id FROM show_pgsql_nodes'
        ' WHERE lower("FQDN") = lower(%s) AND (%s = \'\' OR "Pgport"::text = %s)'
        " ORDER BY 1",
        (fqdn.strip(), port, port),
    )
    return [int(r["node_id"]) for r in rows]


def definition_health(cat: Catalog, scope: Scope) -> list[Row]:
    """Rows of ``backup_definition_health`` in ``scope``, by server, node, dbname, def_id."""
    return read_view(
        cat,
        "backup_definition_health",
        where={
            "backup_server_id": scope.server_ids,
            "pgsql_node_id": scope.node_ids,
            "def_id": scope.def_ids,
            "dbname": scope.dbnames,
        },
        order_by=(
            "backup_server_id",
            "pgsql_node_fqdn",
            "pgsql_node_id",
            "dbname",
            "def_id",
        ),
    )


def drill_health(cat: Catalog, scope: Scope) -> list[Row]:
    """Rows of ``restore_drill_health`` (one per restore drill) of the definitions in
    ``scope`` (server, node and database of the definition, not of the drill node)."""
    return read_view(
        cat,
        "restore_drill_health",
        where={
            "backup_server_id": scope.server_ids,
            "pgsql_node_id": scope.node_ids,
            "def_id": scope.def_ids,
            "dbname": scope.dbnames,
        },
        order_by=(
            "backup_server_id",
            "pgsql_node_fqdn",
            "dbname",
            "def_id",
            "drill_id",
        ),
    )


def unsent_alerts_summary(cat: Catalog, server_id: int, overdue_after: float) -> Row:
    """Unsent alerts of a server: how many, how many registered more than ``overdue_after``
    seconds ago (catalog clock), the oldest one's time and the latest delivery error."""
    row = cat.query_one(
        "SELECT count(*) AS unsent,"
        "       count(*) FILTER (WHERE registered <= now() - make_interval(secs => %s))"
        "         AS overdue,"
        "       min(registered) AS oldest,"
        "       (array_agg(last_delivery_error ORDER BY registered DESC)"
        "          FILTER (WHERE last_delivery_error IS NOT NULL))[1] AS last_error"
        "  FROM show_alerts WHERE backup_server_id = %s AND NOT alert_sent",
        (overdue_after, server_id),
    )
    assert row is not None  # noqa: S101 - an aggregate always returns one row
    return row


def node_partitions(cat: Catalog, node_ids: list[int]) -> dict[int, str]:
    """node_id -> pgnode_backup_partition of these nodes."""
    rows = cat.query(
        'SELECT node_id, "Value" AS value FROM show_pgsql_node_config'
        " WHERE node_id = ANY (%s::bigint[]) AND \"Parameter\" = 'pgnode_backup_partition'",
        (node_ids,),
    )
    return {int(r["node_id"]): str(r["value"]) for r in rows}


def recent_alerts(
    cat: Catalog, server_id: int, alert_type: str, since: dt.datetime, scope: Scope
) -> list[Row]:
    """Alerts of one type registered since ``since`` for the scope's nodes/defs/databases."""
    return cat.query(
        "SELECT * FROM show_alerts"
        " WHERE backup_server_id = %(srv)s AND alert_type = %(type)s"
        "   AND registered >= %(since)s"
        "   AND (%(node)s::bigint[] IS NULL OR pgsql_node_id = ANY (%(node)s::bigint[]))"
        "   AND (%(dbs)s::text[] IS NULL OR dbname = ANY (%(dbs)s::text[]))"
        " ORDER BY registered DESC, alert_id DESC",
        {
            "srv": server_id,
            "type": alert_type,
            "since": since,
            "node": scope.node_ids,
            "dbs": scope.dbnames,
        },
    )


def job_queue_length(cat: Catalog, server_id: int | None) -> int:
    """Crontab regenerations waiting for pgbackman_control (one server, or all)."""
    value = cat.scalar(
        'SELECT count(*) AS n FROM show_jobs_queue WHERE %s::int IS NULL OR "SrvID" = %s',
        (server_id, server_id),
    )
    return int(value)


def last_run_status(cat: Catalog, def_id: int) -> str | None:
    """Status of the newest run of one definition (None: no run, or no such definition)."""
    row = cat.query_one(
        "SELECT last_run_status FROM backup_definition_health WHERE def_id = %s",
        (def_id,),
    )
    return None if row is None else row["last_run_status"]


def offsite_summary(
    cat: Catalog, server_id: int, overdue_after: float
) -> dict[str, int]:
    """Offsite copies of a server per status (view ``offsite_copy_summary``), plus
    ``PENDING_OVERDUE``: PENDING for more than ``overdue_after`` seconds (catalog clock)."""
    rows = cat.query(
        "SELECT offsite_status, copies,"
        " (oldest <= now() - make_interval(secs => %s)) AS overdue"
        " FROM offsite_copy_summary WHERE backup_server_id = %s",
        (overdue_after, server_id),
    )
    out = {str(r["offsite_status"]): int(r["copies"]) for r in rows}
    out["PENDING_OVERDUE"] = int(
        any(r["overdue"] for r in rows if r["offsite_status"] == "PENDING")
    )
    return out
