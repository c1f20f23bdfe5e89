"""Backup catalog commands: show_backup_catalog, show_backup_details,
show_empty_backup_catalogs, show_databases_without_backup_definitions.

Fixed from upstream: every filter is a bound parameter (no SQL injection through DBname or
status lists) and an unreachable node is reported as a warning instead of being skipped
silently.
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog import backups as cat_bck
from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import nodes as cat_nodes
from pgbackman.pgnode import connection as pgnode
from pgbackman.errors import NodeUnavailableError, UserInputError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands.definitions import DEF_LEFT
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import command

CATALOG_COLUMNS = (
    "BckID",
    "DefID",
    "SnapshotID",
    "Finished",
    "ID.",
    "Backup server",
    "ID",
    "PgSQL node",
    "DBname",
    "Duration",
    "Size",
    "Code",
    "Execution",
    "Status",
    "Offsite",
    "Integrity",
)
EMPTY_COLUMNS = (
    "DefID",
    "Registered",
    "ID.",
    "Backup server",
    "ID",
    "PgSQL node",
    "DBname",
    "Schedule",
    "Code",
    "Retention",
    "Status",
    "Parameters",
)


@command(
    "show_backup_catalog",
    params=[
        *K.listing_filters(),
        K.def_id_filter(),
        Param(
            "statuses",
            "Status",
            lambda ctx, v, text: K.status_filter(text),
            default="all",
            complete=K.with_all(K.words(*K.EXECUTION_STATUSES)),
            placeholder="[Status]",
            help="SUCCEEDED, ERROR or WARNING (all, * or '' = every status).",
        ),
    ],
    doc="""
    Shows the backups in the catalog, newest first. The Offsite column is the status of
    the backup's offsite copy (PENDING, UPLOADED, ERROR, EXPIRED; empty = none).
    """,
    notes="""
    Every parameter accepts a comma list (values OR-ed).

    Example:
      show_backup_catalog all 1 app1,app2 all ERROR
    """,
    echo=True,
)
def show_backup_catalog(ctx: ShellContext, v: Values) -> None:
    rows = cat_bck.show_backup_catalog(
        ctx.cat, v.servers, v.nodes, v.dbnames, v.def_ids, v.statuses
    )
    ctx.out.table(
        "backup_catalog",
        CATALOG_COLUMNS,
        rows,
        left=("Backup server", "PgSQL node", "DBname"),
    )


@command(
    "show_backup_details",
    params=[
        Param(
            "bck_id",
            "BckID",
            K.an_id("BckID"),
            complete=K.bck_ids,
            placeholder="[BckID]",
            help="ID of the backup in the catalog.",
        )
    ],
    doc="""
    Shows every detail of one backup in the catalog: times, sizes, files, roles, schedule,
    retention ("On disk until"), its offsite copy (status PENDING, UPLOADED, ERROR or
    EXPIRED, location, time, error) and error message. "Tables without data" lists the tables
    of a FULL, DATA or RDS backup whose data the archive does not hold (excluded by its
    extra parameters; checked against the archive when the backup was taken).
    "Compression" is the method the backup was written with, "Encrypted" whether its files
    are encrypted with age and to which recipients (public keys). "Waited for a slot" is
    the part of the duration the run waited for its turn (max_parallel_backups of the node
    and of the backup server).
    """,
    notes="""
    Example:
      show_backup_details 35
    """,
)
def show_backup_details(ctx: ShellContext, v: Values) -> None:
    d = cat_bck.backup_details(ctx.cat, v.bck_id)
    if d is None:
        raise UserInputError(f"Backup BckID [{v.bck_id}] does not exist in the catalog")
    ctx.out.keyvalue("backup_details", _detail_pairs(d))


def _file(path: Any, size: Any) -> str:
    return f"{path} ({size})" if path and path != "None" else ""


def _without_data(tables: list[str] | None, shown: int = 20) -> str:
    """The data exclusions a FULL/DATA/RDS backup recorded ("" when not checked: other
    codes, older backups)."""
    if tables is None:
        return ""
    if not tables:
        return "none"
    more = f" (+{len(tables) - shown} more)" if len(tables) > shown else ""
    return f"{len(tables)}: {', '.join(tables[:shown])}{more}"


def _encrypted(d: dict[str, Any]) -> str:
    """yes (age, to which recipients) or no: what the files on disk are."""
    if not d["encrypted"]:
        return "no"
    keys = d["encryption_recipients"] or []
    return f"yes (age, {len(keys)} recipient(s): {', '.join(keys)})"


def _detail_pairs(d: dict[str, Any]) -> list[tuple[str, Any]]:
    schedule = (
        f"{d['schedule']} [min hour day_month month weekday]" if d["schedule"] else ""
    )
    return [
        ("BckID", d["bck_id"]),
        ("ProcPID", d["procpid"]),
        ("Registered", d["registered"]),
        ("#", ""),
        ("Started", d["started"]),
        ("Finished", d["finished"]),
        ("Duration", d["duration"]),
        ("Waited for a slot", d["wait_duration"] or ""),
        ("Total size", d["total_size"]),
        ("Execution method", d["execution_method"]),
        ("Execution status", d["execution_status"]),
        ("##", ""),
        ("DefID", d["def_id"]),
        ("SnapshotID", d["snapshot_id"]),
        ("DBname", d["dbname"]),
        ("Backup server", f"[{d['backup_server_id']}] {d['backup_server']}"),
        ("PgSQL node", f"[{d['pgsql_node_id']}] {d['pgsql_node']}"),
        ("PgSQL node release", d["pgsql_node_release"]),
        ("Pg_dump release", d["pg_dump_release"]),
        ("###", ""),
        ("Schedule", schedule),
        ("AT time", d["at_time"]),
        ("Retention", d["retention"]),
        ("Backup code", d["backup_code"]),
        ("Compression", d["compression"] or ""),
        ("Encrypted", _encrypted(d)),
        ("Extra parameters", d["extra_parameters"]),
        ("Tables without data", _without_data(d["excluded_tables"])),
        ("####", ""),
        ("DB dump file", _file(d["pg_dump_file"], d["pg_dump_file_size"])),
        ("DB log file", d["pg_dump_log_file"]),
        ("#####", ""),
        ("Role list", ", ".join(d["role_list"] or [])),
        ("######", ""),
        ("DB roles dump file", _file(d["pg_dump_roles_file"], d["roles_size"])),
        ("DB roles log file", d["pg_dump_roles_log_file"]),
        ("#######", ""),
        ("DB config dump file", _file(d["pg_dump_dbconfig_file"], d["dbconfig_size"])),
        ("DB config log file", d["pg_dump_dbconfig_log_file"]),
        ("########", ""),
        # SHA-256 of every file is in the manifest; this is the manifest's own SHA-256.
        ("Manifest file", d["pg_dump_manifest_file"]),
        ("Manifest checksum", d["checksum"]),
        # What the last check of the files found (pgbackman_dump when written, then
        # maintenance): INTACT, MISSING, CORRUPT, UNVERIFIED or LEGACY.
        ("Integrity", d["integrity"]),
        ("Integrity checked", d["integrity_checked"]),
        ("Integrity detail", d["integrity_detail"]),
        ("#########", ""),
        ("On disk until", _on_disk(d)),
        ("##########", ""),
        # The offsite copy (object storage): PENDING, UPLOADED, ERROR or EXPIRED.
        ("Offsite status", d["offsite_status"] or ""),
        ("Offsite location", d["offsite_location"] or ""),
        (
            "Offsite endpoint",
            d["offsite_endpoint"] or ("AWS" if d["offsite_location"] else ""),
        ),
        ("Offsite time", d["offsite_updated"] or ""),
        ("Offsite error", d["offsite_error"] or ""),
        ("###########", ""),
        ("Error message", d["error_message"]),
    ]


def _on_disk(d: dict[str, Any]) -> Any:
    if d["local_deleted_at"]:
        return f"removed {d['local_deleted_at']} (offsite copy kept)"
    return d["on_disk_until"]


@command(
    "show_empty_backup_catalogs",
    doc="Shows the backup definitions that have not produced any backup in the catalog yet.",
)
def show_empty_backup_catalogs(ctx: ShellContext, v: Values) -> None:
    rows = cat_defs.show_empty_backup_catalogs(ctx.cat)
    ctx.out.table("empty_backup_catalogs", EMPTY_COLUMNS, rows, left=DEF_LEFT)


def _nodes_or_running(ctx: ShellContext, v: Values, text: str) -> list[int]:
    if K.is_all(text) or not text.strip():
        return [
            int(n["NodeID"])
            for n in cat_nodes.list_nodes(ctx.cat)
            if n["Status"] == "RUNNING"
        ]
    return K.node_filter(ctx, text) or []


@command(
    "show_databases_without_backup_definitions",
    params=[
        Param(
            "nodes",
            "NodeID / FQDN",
            _nodes_or_running,
            default="all",
            complete=K.with_all(K.nodes),
            placeholder="[NodeID|FQDN|all|*]",
        )
    ],
    doc="""
    Connects to the PgSQL node(s) and lists the databases (except template0, template1 and
    postgres) that have no active or stopped backup definition on any backup server.
    all or * = every RUNNING node. An unreachable node is reported as a warning.
    """,
    notes="""
    Example:
      show_databases_without_backup_definitions all
    """,
)
def show_databases_without_backup_definitions(ctx: ShellContext, v: Values) -> None:
    node_ids: list[int] = v.nodes
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for node_id in sorted(node_ids):
        target = ctx.node_target(node_id)
        try:
            with pgnode.session(target, application_name="pgbackman_cli") as conn:
                on_node = pgnode.list_databases(conn)
        except NodeUnavailableError as exc:
            warnings.append(f"PgSQL node [{node_id}] {target.fqdn} skipped: {exc}")
            continue
        have = cat_defs.dbnames_with_definitions(ctx.cat, node_id)
        rows.extend(
            {"NodeID": node_id, "PgSQL node": target.fqdn, "DBname": db}
            for db in on_node
            if db not in have
        )
    ctx.out.table(
        "databases_without_backup_definitions",
        ("NodeID", "PgSQL node", "DBname"),
        rows,
        left=("PgSQL node", "DBname"),
    )
    for w in warnings:
        K.warn(ctx, w)
