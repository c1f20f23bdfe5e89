"""Catalog access for pgbackman_control: listen channels, the job queue, crontab rows,
WAITING snapshots/restores, their status updates and the node-to-delete queue.

Everything here is bound parameters or schema functions; the daemon logic lives in
:mod:`pgbackman.control`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


from pgbackman.catalog.connection import Catalog

# ---------------------------------------------------------------------------------------
# Backup server and nodes
# ---------------------------------------------------------------------------------------


def node_partitions(cat: Catalog) -> dict[int, str]:
    """node_id -> pgnode_backup_partition of every node (a deleted node's partition is
    removed only when no other node uses it)."""
    rows = cat.query(
        "SELECT node_id, value FROM pgsql_node_config WHERE parameter = 'pgnode_backup_partition'"
    )
    return {int(r["node_id"]): str(r["value"]) for r in rows}


def node_default_config(cat: Catalog) -> dict[str, str]:
    rows = cat.query("SELECT parameter, value FROM pgsql_node_default_config")
    return {r["parameter"]: r["value"] for r in rows}


@dataclass
class NodeInfo:
    node_id: int
    hostname: str
    domain_name: str
    pgport: int
    admin_user: str
    status: str
    config: dict[str, str] = field(default_factory=dict)

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{self.domain_name}"


def get_nodes(cat: Catalog, node_ids: list[int]) -> dict[int, NodeInfo]:
    """The nodes of ``node_ids`` that exist, with their configuration (two queries)."""
    ids = [int(n) for n in node_ids]
    out = {
        int(row["node_id"]): NodeInfo(
            node_id=int(row["node_id"]),
            hostname=row["hostname"],
            domain_name=row["domain_name"],
            pgport=int(row["pgport"]),
            admin_user=row["admin_user"],
            status=row["status"],
        )
        for row in cat.query(
            "SELECT node_id, hostname, domain_name, pgport, admin_user, status"
            " FROM pgsql_node WHERE node_id = ANY(%s)",
            (ids,),
        )
    }
    if out:
        for r in cat.query(
            "SELECT node_id, parameter, value FROM pgsql_node_config"
            " WHERE node_id = ANY(%s)",
            (sorted(out),),
        ):
            out[int(r["node_id"])].config[r["parameter"]] = r["value"]
    return out


def nodes_with_jobs(cat: Catalog, server_id: int) -> list[int]:
    """Nodes that have backup or snapshot definitions on this server (they need files here)."""
    rows = cat.query(
        "SELECT pgsql_node_id FROM backup_definition WHERE backup_server_id = %s"
        " UNION SELECT pgsql_node_id FROM snapshot_definition WHERE backup_server_id = %s"
        " UNION SELECT target_pgsql_node_id FROM restore_definition WHERE backup_server_id = %s"
        " UNION SELECT r.drill_node_id FROM restore_drill r"
        " JOIN backup_definition d ON d.def_id = r.def_id WHERE d.backup_server_id = %s"
        " UNION SELECT target_pgsql_node_id FROM clone_definition WHERE backup_server_id = %s"
        " ORDER BY 1",
        (server_id, server_id, server_id, server_id, server_id),
    )
    return [int(r["pgsql_node_id"]) for r in rows]


# ---------------------------------------------------------------------------------------
# LISTEN channels and the job queue
# ---------------------------------------------------------------------------------------


def listen_channel_names(cat: Catalog, server_id: int) -> list[str]:
    rows = cat.query(
        "SELECT * FROM get_listen_channel_names(%s) AS c(name)", (server_id,)
    )
    return [r["name"] for r in rows]


def pop_job_queue(cat: Catalog, server_id: int) -> list[int]:
    """Delete and return every queued node of this server, in one statement."""
    rows = cat.query("SELECT * FROM pop_job_queue(%s) AS q(node_id)", (server_id,))
    return sorted({int(r["node_id"]) for r in rows})


def requeue_node(cat: Catalog, server_id: int, node_id: int) -> None:
    cat.call("update_job_queue", server_id, node_id)


def crontab_jobs_many(
    cat: Catalog, server_id: int, node_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """get_crontab_backup_jobs of every node of ``node_ids`` in one query, each node's rows
    in the function's order."""
    out: dict[int, list[dict[str, Any]]] = {}
    for r in cat.query(
        "SELECT n.node_id, j.def_id, j.minutes_cron, j.hours_cron, j.day_month_cron,"
        " j.month_cron, j.weekday_cron"
        " FROM unnest(%s::bigint[]) AS n(node_id)"
        " CROSS JOIN LATERAL get_crontab_backup_jobs(%s, n.node_id) WITH ORDINALITY AS j"
        " ORDER BY n.node_id, j.ordinality",
        ([int(n) for n in node_ids], server_id),
    ):
        out.setdefault(int(r.pop("node_id")), []).append(r)
    return out


# ---------------------------------------------------------------------------------------
# at jobs: WAITING snapshots, restores and clones; due restore drills
# ---------------------------------------------------------------------------------------

_WAITING_SQL = {
    "snapshot": (
        "SELECT snapshot_id AS id, at_time FROM snapshot_definition"
        " WHERE backup_server_id = %s AND status = 'WAITING' ORDER BY at_time, snapshot_id"
    ),
    "restore": (
        "SELECT restore_def AS id, at_time FROM restore_definition"
        " WHERE backup_server_id = %s AND status = 'WAITING' ORDER BY at_time, restore_def"
    ),
    "clone": (
        "SELECT clone_id AS id, at_time FROM clone_definition"
        " WHERE backup_server_id = %s AND status = 'WAITING' ORDER BY at_time, clone_id"
    ),
    # Restore drills have no WAITING row: a drill is queued when it is due (its interval
    # since its last run has passed), to run now.
    "drill": ("SELECT d.id, now() AS at_time FROM get_due_restore_drills(%s) AS d(id)"),
}
# Row locks are taken by catalog functions (SECURITY DEFINER: SELECT ... FOR UPDATE would
# need UPDATE rights; NULL: not claimable now).
_CLAIM_FUNC = {
    "snapshot": "claim_waiting_snapshot",
    "restore": "claim_waiting_restore",
    "clone": "claim_waiting_clone",
    "drill": "claim_due_restore_drill",
}
_STATUS_FUNC = {
    "snapshot": "update_snapshot_status",
    "restore": "update_restore_status",
    "clone": "update_clone_status",
    "drill": "update_restore_drill_queue_status",
}
AT_KINDS = ("snapshot", "restore", "clone", "drill")


def waiting_at_jobs(
    cat: Catalog, kind: str, server_id: int
) -> list[tuple[int, _dt.datetime]]:
    rows = cat.query(_WAITING_SQL[kind], (server_id,))
    return [(int(r["id"]), r["at_time"]) for r in rows]


@contextmanager
def claim_at_job(cat: Catalog, kind: str, ident: int) -> Iterator[_dt.datetime | None]:
    """Lock one WAITING row for the time it takes to queue it; yields its at_time, or None
    when another process holds it or it is no longer WAITING. The caller sets the status
    inside the block (same transaction), so two control processes never queue it twice."""
    with cat.transaction():
        at_time: _dt.datetime | None = cat.call(_CLAIM_FUNC[kind], ident)
        yield at_time


def set_at_status(cat: Catalog, kind: str, ident: int, status: str) -> None:
    cat.call(_STATUS_FUNC[kind], ident, status)


# ---------------------------------------------------------------------------------------
# Deleted nodes
# ---------------------------------------------------------------------------------------


def nodes_to_delete(cat: Catalog, server_id: int) -> list[int]:
    rows = cat.query(
        "SELECT pgsql_node_id FROM pgsql_node_to_delete WHERE backup_server_id = %s"
        " ORDER BY pgsql_node_id",
        (server_id,),
    )
    return [int(r["pgsql_node_id"]) for r in rows]


def node_to_delete_done(cat: Catalog, server_id: int, node_id: int) -> None:
    cat.call("delete_pgsql_node_to_delete", server_id, node_id)
