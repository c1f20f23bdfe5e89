"""Disk space reports: show_backup_server_disk_usage and show_pgsql_node_disk_usage.

The bytes "on disk" are what pgbackman_maintenance of each backup server measured on its
own disks and recorded in the catalog (at most every 10 minutes; the Measured column says
when), so any shell on any host shows every server. The bytes "in the catalog" are the sizes
of the backups' files as their runs recorded them. In table mode sizes are shown for humans
(1.5 GB); csv and json give bytes.
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from typing import Any

from pgbackman.catalog import diskusage as cat_du
from pgbackman.catalog import monitoring as mon
from pgbackman.core import diskusage as core
from pgbackman.errors import UserInputError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.params import Param, Values
from pgbackman.shell.context import ShellContext
from pgbackman.shell.registry import command

SERVER_COLUMNS = (
    "SrvID",
    "Backup server",
    "NodeID",
    "PgSQL node",
    "Partition",
    "Backups",
    "Catalog bytes",
    "Disk bytes",
    "Other bytes",
    "File system",
    "FS size",
    "FS free",
    "Min free",
    "Growth/day",
    "Days until full",
    "Measured",
    "Status",
)
SERVER_LEFT = ("Backup server", "PgSQL node", "Partition", "File system")
NODE_COLUMNS = (
    "NodeID",
    "PgSQL node",
    "SrvID",
    "Backup server",
    "Kind",
    "DefID",
    "SnapshotID",
    "DBname",
    "Code",
    "Backups",
    "Catalog bytes",
    "Disk bytes",
    "Measured",
)
NODE_LEFT = ("PgSQL node", "Backup server", "DBname")
SIZE_COLUMNS = (
    "Catalog bytes",
    "Disk bytes",
    "Other bytes",
    "FS size",
    "FS free",
    "Min free",
    "Growth/day",
)
NOT_MEASURED = "NOT MEASURED"


def _for_humans(ctx: ShellContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if ctx.out.format != "table":
        return rows
    out = []
    for r in rows:
        r = dict(r)
        for c in SIZE_COLUMNS:
            if isinstance(r.get(c), (int, float)):
                r[c] = core.human_bytes(r[c]) + ("/day" if c == "Growth/day" else "")
        if isinstance(r.get("Days until full"), float):
            r["Days until full"] = f"{r['Days until full']:.1f}"
        out.append(r)
    return out


def _growths(
    ctx: ShellContext, server_ids: list[int] | None, now: _dt.datetime
) -> dict[tuple[int, int], float | None]:
    samples: dict[tuple[int, int], list[core.Sample]] = defaultdict(list)
    for h in cat_du.history(ctx.cat, server_ids):
        key = (int(h["backup_server_id"]), int(h["pgsql_node_id"]))
        samples[key].append(core.Sample(h["measured"], int(h["disk_bytes"])))
    return {k: core.growth_per_day(v, now) for k, v in samples.items()}


@command(
    "show_backup_server_disk_usage",
    params=[
        Param(
            "servers",
            "SrvID / FQDN",
            lambda ctx, v, text: K.server_filter(ctx, text),
            default=K.this_server,
            complete=K.with_all(K.servers),
            placeholder="[SrvID|FQDN|all]",
            help="'' = default backup server; all or * = every server; comma list "
            "allowed.",
        )
    ],
    doc="""
    Shows the disk space of backup servers, one line per node partition: backups and
    bytes per the catalog, bytes actually on disk (of which Other bytes belong to no
    backup: restore and drill logs, partial or orphaned files), the file system holding
    it (size, free space, the server's min_free_disk_space), growth per day over the last
    30 days, and the days until the file system is full at the growth of everything this
    server keeps on it. Status LOW: less free space than min_free_disk_space (a
    Disk-space alert is raised by pgbackman_maintenance).

    On-disk figures are measured by pgbackman_maintenance on each backup server and
    recorded in the catalog (Measured); a server without them says NOT MEASURED.
    """,
    notes="""
    Example:
      show_backup_server_disk_usage all
    """,
    echo=True,
)
def show_backup_server_disk_usage(ctx: ShellContext, v: Values) -> None:
    server_ids = v.servers
    growth = _growths(ctx, server_ids, mon.now(ctx.cat))
    latest = {
        (int(r["backup_server_id"]), int(r["pgsql_node_id"])): r
        for r in cat_du.latest(ctx.cat, server_ids, None)
    }
    catalog: dict[tuple[int, int], dict[str, Any]] = {}
    for u in cat_du.catalog_usage(ctx.cat, server_ids, None):
        c = catalog.setdefault(
            (int(u["backup_server_id"]), int(u["pgsql_node_id"])),
            {"Backups": 0, "Catalog bytes": 0, "PgSQL node": u["pgsql_node"]},
        )
        c["Backups"] += int(u["backups"])
        c["Catalog bytes"] += int(u["catalog_bytes"] or 0)
    # A file system grows by what every node partition of the server on it grows.
    on_fs: dict[tuple[int, str], list[float | None]] = defaultdict(list)
    for key, m in latest.items():
        on_fs[(key[0], str(m["fs_id"]))].append(growth.get(key))
    rows: list[dict[str, Any]] = []
    for srv in cat_du.servers(ctx.cat, server_ids):
        sid = int(srv["server_id"])
        minimum = _min_free(srv["min_free_disk_space"])
        nodes = sorted({n for s, n in [*latest, *catalog] if s == sid})
        if not nodes:
            rows.append({"SrvID": sid, "Backup server": srv["fqdn"]})
        for nid in nodes:
            row = {"SrvID": sid, "Backup server": srv["fqdn"], "NodeID": nid}
            row.update(catalog.get((sid, nid), {"Backups": 0, "Catalog bytes": 0}))
            meas = latest.get((sid, nid))
            if meas is not None:
                fs = core.total_growth(on_fs[(sid, str(meas["fs_id"]))])
                row.update(_measured(meas, growth.get((sid, nid)), fs, minimum))
            rows.append(row)
        for row in rows:
            row.setdefault("Status", NOT_MEASURED)
        if any(r["SrvID"] == sid and r["Status"] == NOT_MEASURED for r in rows):
            K.warn(
                ctx,
                f"Backup server {srv['fqdn']}: not every node partition has been measured "
                "yet (pgbackman_maintenance on that server records them)",
            )
    ctx.out.table(
        "backup_server_disk_usage",
        SERVER_COLUMNS,
        _for_humans(ctx, rows),
        left=SERVER_LEFT,
    )


def _min_free(value: Any) -> core.MinFree | None:
    try:
        return core.parse_min_free(str(value or core.DEFAULT_MIN_FREE))
    except UserInputError:
        return None  # refused by the catalog too: cannot happen short of a forged row


def _measured(
    m: Any, growth: float | None, fs_growth: float | None, minimum: core.MinFree | None
) -> dict[str, Any]:
    """The on-disk columns of one measured node partition."""
    free = int(m["fs_free_bytes"])
    need = minimum.bytes_for(int(m["fs_size_bytes"])) if minimum else None
    days = core.days_until_full(free, fs_growth)
    return {
        "PgSQL node": m["pgsql_node"],
        "Partition": m["partition_path"],
        "Disk bytes": int(m["disk_bytes"]),
        "Other bytes": int(m["other_bytes"]),
        "File system": m["fs_path"],
        "FS size": int(m["fs_size_bytes"]),
        "FS free": free,
        "Min free": need,
        "Growth/day": None if growth is None else round(growth),
        "Days until full": None if days is None else round(days, 1),
        "Measured": m["measured"],
        "Status": "LOW" if need is not None and free < need else "OK",
    }


@command(
    "show_pgsql_node_disk_usage",
    params=[
        Param(
            "nodes",
            "NodeID / FQDN",
            lambda ctx, v, text: K.node_filter(ctx, text),
            default="all",
            complete=K.with_all(K.nodes),
            placeholder="[NodeID|FQDN|all]",
            help="all, * or '' = every node; comma list allowed.",
        )
    ],
    doc="""
    Shows the disk space the backups of PgSQL nodes take, one line per backup server and
    backup definition (or snapshot): backups and bytes per the catalog, and bytes on disk
    as pgbackman_maintenance of that server measured them (Measured). A line of Kind
    "other" per node partition holds the files that belong to no backup (restore and
    drill logs, partial or orphaned files): the lines of a node partition add up to
    everything in it.
    """,
    notes="""
    Example:
      show_pgsql_node_disk_usage pg-node01.example.org
    """,
    echo=True,
)
def show_pgsql_node_disk_usage(ctx: ShellContext, v: Values) -> None:
    node_ids = v.nodes
    latest = {
        (int(r["backup_server_id"]), int(r["pgsql_node_id"])): r
        for r in cat_du.latest(ctx.cat, None, node_ids)
    }
    rows: list[dict[str, Any]] = []
    seen: set[tuple[int, int, str]] = set()
    for u in cat_du.catalog_usage(ctx.cat, None, node_ids):
        sid, nid = int(u["backup_server_id"]), int(u["pgsql_node_id"])
        kind, job = _job(u["def_id"], u["snapshot_id"])
        m = latest.get((sid, nid))
        seen.add((sid, nid, job))
        rows.append(
            {
                "NodeID": nid,
                "PgSQL node": u["pgsql_node"],
                "SrvID": sid,
                "Backup server": u["backup_server"],
                "Kind": kind,
                "DefID": u["def_id"],
                "SnapshotID": u["snapshot_id"],
                "DBname": u["dbname"],
                "Code": u["backup_code"],
                "Backups": int(u["backups"]),
                "Catalog bytes": int(u["catalog_bytes"] or 0),
                "Disk bytes": int(m["job_bytes"].get(job, 0)) if m else None,
                "Measured": m["measured"] if m else None,
            }
        )
    for (sid, nid), m in sorted(latest.items()):
        for job, nbytes in sorted(m["job_bytes"].items()):
            if (sid, nid, job) in seen:
                continue  # measured, then deleted from the catalog since
            kind, _, ident = job.partition(":")
            rows.append(_measured_only(m, kind, int(ident), int(nbytes)))
        other = _measured_only(m, "other", None, int(m["other_bytes"]))
        rows.append(other)
    rows.sort(key=lambda r: (r["NodeID"], r["SrvID"], r["Kind"] == "other"))
    ctx.out.table(
        "pgsql_node_disk_usage", NODE_COLUMNS, _for_humans(ctx, rows), left=NODE_LEFT
    )


def _job(def_id: Any, snapshot_id: Any) -> tuple[str, str]:
    if def_id is not None:
        return "definition", f"def:{def_id}"
    return "snapshot", f"snapshot:{snapshot_id}"


def _measured_only(m: Any, kind: str, ident: int | None, nbytes: int) -> dict[str, Any]:
    return {
        "NodeID": int(m["pgsql_node_id"]),
        "PgSQL node": m["pgsql_node"],
        "SrvID": int(m["backup_server_id"]),
        "Backup server": m["backup_server"],
        "Kind": {"def": "definition", "snapshot": "snapshot"}.get(kind, kind),
        "DefID": ident if kind == "def" else None,
        "SnapshotID": ident if kind == "snapshot" else None,
        "Backups": 0,
        "Catalog bytes": 0,
        "Disk bytes": nbytes,
        "Measured": m["measured"],
    }
