"""Snapshot commands: register_snapshot_definition, show_snapshot_definitions,
show_snapshots_in_progress.

A snapshot is a one-off backup run by ``at`` on the backup server. Fixed from upstream: an
invalid pg_dump release is an error (upstream printed it and registered anyway), and all
snapshots of one command are registered in one transaction.
"""

from __future__ import annotations

import secrets

from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import snapshots as cat_snap
from pgbackman.core import dbselect, pgversion
from pgbackman.core.pgversion import Release
from pgbackman.errors import UserInputError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands import _protection as prot
from pgbackman.shell.commands import _selection as S
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import ALL_CORRECT, command

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


SAME_RELEASE = "Same as pgSQL node running dbname"


def check_release(value: str) -> str | None:
    v = value.strip()
    if not v or v == SAME_RELEASE:
        return None
    if v not in SUPPORTED_RELEASES:
        raise UserInputError(
            f"pg_dump/all release [{v}] is not supported; use one of "
            f"{', '.join(SUPPORTED_RELEASES)} or empty (same as the PgSQL node)"
        )
    return v


def _running_node(ctx: ShellContext, v: Values, text: str) -> int:
    node_id = ctx.resolve_node(text)
    if cat_defs.node_status(ctx.cat, node_id) != "RUNNING":
        raise UserInputError(
            f"PgSQL node [{node_id}] is not RUNNING; snapshots need a running node"
        )
    return node_id


def _dump_release(ctx: ShellContext, v: Values) -> Release:
    """The pg_dump release the snapshot will run: the one asked for, else the node's."""
    try:
        return pgversion.choose_release(prot.node_release(ctx, v.node), v.release)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None


def _at_time(ctx: ShellContext, v: Values, text: str) -> object:
    return cat_snap.parse_timestamp(ctx.cat, text)


@command(
    "register_snapshot_definition",
    params=[
        K.server(
            label="Backup server SrvID / FQDN",
            placeholder="[SrvID|FQDN]",
            help="Backup server ('' = default backup server).",
        ),
        K.node(
            label="PgSQL node NodeID / FQDN",
            placeholder="[NodeID|FQDN]",
            help="PgSQL node; it must have status RUNNING.",
            parse=_running_node,
        ),
        Param(
            "dbname",
            "DBname",
            S.dbname_spec(allow_without_definitions=False),
            complete=K.node_databases(special=(dbselect.ALL_DATABASES,)),
            placeholder="[DBname]",
            help="A database, a comma list, #all_databases#, or '' with code CLUSTER.",
        ),
        S.exceptions_param(10),
        Param(
            "at_time",
            "AT timestamp",
            _at_time,
            default=lambda ctx, v: cat_snap.now_plus_one_minute(ctx.cat),
            placeholder="[AT time]",
            help="When to run it (a timestamp; '' = now + 1 minute).",
        ),
        S.code_param(help="FULL, SCHEMA, DATA, CLUSTER or RDS ('' = node default)."),
        S.retention_param(help="How long the snapshot is kept ('' = node default)."),
        S.extra_param(help="Extra pg_dump/pg_dumpall parameters ('' = node default)."),
        Param(
            "tag",
            "Tag",
            default=lambda ctx, v: random_tag(),
            placeholder="[tag]",
            help="Label stored with every snapshot of this command ('' = random).",
        ),
        Param(
            "release",
            "pg_dump/all release",
            lambda ctx, v, text: check_release(text),
            default=SAME_RELEASE,
            complete=K.words(*SUPPORTED_RELEASES),
            placeholder="[pg_dump/all release]",
            help="Major release of pg_dump to use: 12..18; '' = the node's.",
            present_from=9,
        ),
        prot.compression_param(
            prot.packing(S.node_config, _dump_release),
            present_from=11,
            help="gzip:N, zstd:N, lz4:N or none ('' = the node's backup_compression); "
            "zstd and lz4 need pg_dump 16+ except for CLUSTER.",
        ),
        prot.encryption_param(
            "this snapshot",
            default=S.from_node("encryption", "false"),
            present_from=12,
            help="true/false ('' = the node's encryption default): encrypt the "
            "snapshot's files with age (needs the server's encryption_recipients).",
        ),
    ],
    doc="Defines a one-off backup (snapshot) run once at a given time by the backup server.",
    notes="""
    The older forms are accepted too: 1.0 (8 arguments, no [DBname exceptions] and no
    release, [tag] was called remarks) and 1.1 (9 arguments, no [DBname exceptions]); the
    last two arguments may be left out.

    Example:
      register_snapshot_definition "" 1 "app1,app2" "" "2030-01-01 03:00" FULL "30 days" "" before-upgrade ""
    """,
    confirm=ALL_CORRECT,
    prepare=lambda ctx, v: v.set(
        "dbnames", "", S.selected_databases(ctx, v, with_definitions=False), False
    ),
)
def register_snapshot_definition(ctx: ShellContext, v: Values) -> None:
    cat_snap.register_snapshot_definitions(
        ctx.cat,
        v.server,
        v.node,
        v.dbnames,
        v.at_time,
        v.code,
        v.retention,
        v.compression.extra,
        v.tag,
        v.release,
        v.compression.own,
        v.encryption,
    )
    for db in v.dbnames:
        ctx.out.done(f"Snapshot for dbname: [{db}] and backup code [{v.code}] defined.")


@command(
    "show_snapshot_definitions",
    params=K.listing_filters(),
    doc="""
    Shows the snapshot definitions (one-off backups). Filters as show_backup_definitions:
    '' server = default backup server; all or * = no filter; comma lists allowed.
    """,
    notes="""
    Example:
      show_snapshot_definitions all all all
    """,
    echo=True,
)
def show_snapshot_definitions(ctx: ShellContext, v: Values) -> None:
    rows = cat_snap.show_snapshot_definitions(ctx.cat, v.servers, v.nodes, v.dbnames)
    ctx.out.table("snapshot_definitions", SNAP_COLUMNS, rows, left=SNAP_LEFT)


@command(
    "show_snapshots_in_progress",
    doc="""
    Shows the snapshot definitions that have not produced a backup catalog entry yet
    (waiting for their AT time, or running).
    """,
)
def show_snapshots_in_progress(ctx: ShellContext, v: Values) -> None:
    rows = cat_snap.show_snapshots_in_progress(ctx.cat)
    ctx.out.table(
        "snapshots_in_progress",
        PROGRESS_COLUMNS,
        rows,
        left=("Backup server", "PgSQL node", "DBname"),
    )
