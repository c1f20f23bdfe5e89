"""Snapshot commands: register_snapshot_definition, show_snapshot_definitions,
show_snapshots_in_progress.

A snapshot is a one-off backup run by ``at`` on the backup server. Fixed from upstream: an
invalid pg_dump release is an error (upstream printed it and registered anyway), and all
snapshots of one command are registered in one transaction.
"""

from __future__ import annotations

import secrets

from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import nodes as cat_nodes
from pgbackman.pgnode import connection as pgnode
from pgbackman.catalog import snapshots as cat_snap
from pgbackman.core import dbselect, pgversion, validate
from pgbackman.errors import UserInputError
from pgbackman.shell.commands import _protection as prot
from pgbackman.shell.commands._arguments import (
    server_node_db_filters,
    skipped_warning,
)
from pgbackman.shell.context import ShellContext
from pgbackman.shell.registry import command

SUPPORTED_RELEASES = tuple(str(v) for v in range(12, 19))

SNAP_COLUMNS = (
    "SnapshotID",
    "Registered",
    "ID.",
    "Backup server",
    "ID",
    "PgSQL node",
    "DBname",
    "AT time",
    "Code",
    "Encryption",
    "Compression",
    "Retention",
    "Parameters",
    "Tag",
    "Status",
)
SNAP_LEFT = ("Backup server", "PgSQL node", "DBname", "Parameters", "Tag")
PROGRESS_COLUMNS = (
    "SnapshotID",
    "Registered",
    "ID.",
    "Backup server",
    "ID",
    "PgSQL node",
    "DBname",
    "AT time",
    "Code",
    "Elapsed time",
)


def random_tag() -> str:
    """Upstream's tag: 9 upper-case hexadecimal characters."""
    return secrets.token_hex(5).upper()[:9]


def check_release(value: str) -> str | None:
    v = value.strip()
    if not v:
        return None
    if v not in SUPPORTED_RELEASES:
        raise UserInputError(
            f"pg_dump/all release [{v}] is not supported; use one of "
            f"{', '.join(SUPPORTED_RELEASES)} or empty (same as the PgSQL node)"
        )
    return v


@command(
    "register_snapshot_definition",
    nargs=(8, 9, 10, 11, 12),
    usage="""
    register_snapshot_definition [SrvID|FQDN] [NodeID|FQDN] [DBname] [DBname exceptions]
                                 [AT time] [backup code] [retention period]
                                 [extra backup parameters] [tag] [pg_dump/all release]
                                 [backup compression] [encryption]

    Defines a one-off backup (snapshot) run once at a given time by the backup server.

    Parameters:
      [SrvID|FQDN]     Backup server ('' = default backup server).
      [NodeID|FQDN]    PgSQL node; it must have status RUNNING.
      [DBname]         A database, a comma list, #all_databases#, or '' with code CLUSTER.
      [DBname exceptions]  Comma list of databases left out.
      [AT time]        When to run it (a timestamp; '' = now + 1 minute).
      [backup code]    FULL, SCHEMA, DATA, CLUSTER or RDS ('' = node default).
      [retention period]  How long the snapshot is kept ('' = node default).
      [extra backup parameters]  Extra pg_dump/pg_dumpall parameters ('' = node default).
      [tag]            Label stored with every snapshot of this command ('' = random).
      [pg_dump/all release]  Major release of pg_dump to use: 12..18; '' = the node's.
      [backup compression]   gzip:N, zstd:N, lz4:N or none ('' = the node's
                       backup_compression); zstd and lz4 need pg_dump 16+ except for CLUSTER.
      [encryption]     true/false ('' = the node's encryption default): encrypt the
                       snapshot's files with age (needs the server's encryption_recipients).

    The older forms are accepted too: 1.0 (8 arguments, no [DBname exceptions] and no
    release, [tag] was called remarks) and 1.1 (9 arguments, no [DBname exceptions]); the
    last two arguments may be left out.

    Example:
      register_snapshot_definition "" 1 "app1,app2" "" "2030-01-01 03:00" FULL "30 days" "" before-upgrade ""
    """,
)
def register_snapshot_definition(ctx: ShellContext, args: list[str]) -> None:
    if len(args) in (8, 9):
        # PgBackMan 1.0/1.1 argument lists: no [DBname exceptions]; 1.0 has no release either.
        args = [*args[:3], "", *args[3:], *([""] if len(args) == 8 else [])]
    if args:
        args = [*args, "", ""][:12]
        srv, node, db_text, exc_text, at_text, code, ret, extra, tag, release = args[
            :10
        ]
        comp_text, enc_text = args[10:]
        server_id = ctx.resolve_server(srv or ctx.default_backup_server())
        node_id = ctx.resolve_node(node)
        cfg = cat_nodes.node_config_dict(ctx.cat, node_id)
    else:
        server_id = ctx.resolve_server(
            ctx.prompt("Backup server SrvID / FQDN", ctx.default_backup_server())
        )
        node_id = ctx.resolve_node(ctx.prompt("PgSQL node NodeID / FQDN", ""))
        cfg = cat_nodes.node_config_dict(ctx.cat, node_id)
        db_text = ctx.prompt("DBname", "")
        exc_text = ctx.prompt("DBname exceptions", "")
        at_text = ctx.prompt("AT timestamp", cat_snap.now_plus_one_minute(ctx.cat))
        code = ctx.prompt("Backup code", cfg.get("backup_code", "FULL"))
        ret = ctx.prompt("Retention period", cfg.get("retention_period", "7 days"))
        extra = ctx.prompt("Extra parameters", cfg.get("extra_backup_parameters", ""))
        tag = ctx.prompt("Tag", random_tag())
        release = ctx.prompt("pg_dump/all release", "Same as pgSQL node running dbname")
        if release == "Same as pgSQL node running dbname":
            release = ""
        comp_text = ctx.prompt("Backup compression", prot.DEFAULT_WORD)
        enc_text = ctx.prompt("Encryption", cfg.get("encryption", "false"))
    at_time = cat_snap.parse_timestamp(
        ctx.cat, at_text.strip() or cat_snap.now_plus_one_minute(ctx.cat)
    )
    code = validate.backup_code(code or cfg.get("backup_code", "FULL"))
    retention = cat_defs.check_interval(
        ctx.cat, validate.interval(ret or cfg.get("retention_period", "7 days"))
    )
    extra = validate.backup_extra_parameters("Extra parameters", extra, code)
    tag = validate.no_control_chars("Tag", tag.strip() or random_tag())
    pg_release = check_release(release)
    packing = prot.fold(ctx, code, prot.compression_arg(comp_text), extra)
    comp = prot.effective(packing.own, cfg)
    encryption = validate.boolean(enc_text.strip() or cfg.get("encryption", "false"))
    if encryption:
        prot.require_recipients(ctx, server_id, "this snapshot")
    if cat_defs.node_status(ctx.cat, node_id) != "RUNNING":
        raise UserInputError(
            f"PgSQL node [{node_id}] is not RUNNING; snapshots need a running node"
        )
    spec = dbselect.parse_dbname(db_text, allow_without_definitions=False)
    exceptions = dbselect.parse_exceptions(exc_text)
    if code == "CLUSTER" and spec.kind == dbselect.KIND_CLUSTER:
        dbnames = [""]
    else:
        target = ctx.node_target(node_id)
        with pgnode.session(target, application_name="pgbackman_cli") as conn:
            on_node = pgnode.list_databases(conn, include_system=True)
            node_rel = prot.node_release(ctx, node_id, conn)
        try:
            dump_rel = pgversion.choose_release(node_rel, pg_release)
        except ValueError as exc:
            raise UserInputError(str(exc)) from None
        prot.check_release(comp, code, dump_rel, f"PgSQL node [{node_id}]")
        on_node, unusable = dbselect.registrable(on_node)
        dbnames = dbselect.select_databases(
            spec, exceptions, on_node, node_label=target.fqdn, backup_code=code
        )
        skipped_warning(ctx, spec, unusable)
    if ctx.prompted:
        ctx.confirm_or_abort()
    cat_snap.register_snapshot_definitions(
        ctx.cat,
        server_id,
        node_id,
        dbnames,
        at_time,
        code,
        retention,
        packing.extra,
        tag,
        pg_release,
        packing.own,
        encryption,
    )
    for db in dbnames:
        ctx.out.done(f"Snapshot for dbname: [{db}] and backup code [{code}] defined.")


@command(
    "show_snapshot_definitions",
    nargs=(3,),
    usage="""
    show_snapshot_definitions [SrvID|FQDN] [NodeID|FQDN] [DBname]

    Shows the snapshot definitions (one-off backups). Filters as show_backup_definitions:
    '' server = default backup server; all or * = no filter; comma lists allowed.

    Example:
      show_snapshot_definitions all all all
    """,
)
def show_snapshot_definitions(ctx: ShellContext, args: list[str]) -> None:
    filters = server_node_db_filters(ctx, args)
    rows = cat_snap.show_snapshot_definitions(ctx.cat, *filters)
    ctx.out.table("snapshot_definitions", SNAP_COLUMNS, rows, left=SNAP_LEFT)


@command(
    "show_snapshots_in_progress",
    nargs=(0,),
    usage="""
    show_snapshots_in_progress

    Shows the snapshot definitions that have not produced a backup catalog entry yet
    (waiting for their AT time, or running).
    """,
)
def show_snapshots_in_progress(ctx: ShellContext, args: list[str]) -> None:
    rows = cat_snap.show_snapshots_in_progress(ctx.cat)
    ctx.out.table(
        "snapshots_in_progress",
        PROGRESS_COLUMNS,
        rows,
        left=("Backup server", "PgSQL node", "DBname"),
    )
