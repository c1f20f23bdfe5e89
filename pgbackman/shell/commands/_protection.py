"""Encryption and compression parameters shared by the definition, snapshot and
configuration commands (not a command module).

Everything is checked when the value is typed, never at 02:00: a compression value's
syntax, whether the pg_dump that will run can write it (the node's release, learned by
connecting to the node as registration already does; a snapshot's own pg_dump release),
``-Z``/``--compress`` in the extra parameters folded into the setting, and a backup
server with encryption_recipients for anything that must be encrypted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pgbackman.catalog import servers as cat_servers
from pgbackman.core import argv as argvmod
from pgbackman.core import compression, pgversion, recipients, validate
from pgbackman.core.compression import CompressionError
from pgbackman.core.pgversion import Release
from pgbackman.errors import ExtraParameterError, NodeUnavailableError, UserInputError
from pgbackman.pgnode import connection as pgnode
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands._params import warn
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values

DEFAULT_WORD = "default"  # a definition without a value of its own: the node's
EXAMPLES = ("gzip:6", "zstd:3", "lz4:1", "none")


def compression_arg(text: str, label: str = "Backup compression") -> str | None:
    """A typed compression value: None for '' or 'default' (the node's), else canonical."""
    value = validate.no_control_chars(label, text).strip()
    if value == "" or value.lower() == DEFAULT_WORD:
        return None
    try:
        return compression.normalise(value)
    except CompressionError as exc:
        raise UserInputError(f"{label} [{value}]: {exc}") from None


@dataclass
class Packing:
    """The compression a definition keeps (None: the node's) and its extra parameters."""

    own: str | None
    extra: str


def fold(ctx: ShellContext, code: str, own: str | None, extra: str) -> Packing:
    """Fold ``-Z``/``--compress`` of the extra parameters into the compression setting."""
    if code.upper() == "CLUSTER" or not extra.strip():
        return Packing(own, extra)
    try:
        tokens = argvmod.tokenize_extra(extra, "pg_dump")
        folded, rest = compression.fold_extra(tokens, own)
    except (ExtraParameterError, CompressionError) as exc:
        raise UserInputError(f"Extra parameters [{extra}]: {exc}") from None
    if folded is None:
        return Packing(own, extra)
    warn(
        ctx,
        f"{' '.join(t for t in tokens if t not in rest)} moved from the extra parameters "
        f"to the backup compression: {folded}",
    )
    return Packing(str(folded), compression.join_extra(rest))


def effective(own: str | None, node_cfg: dict[str, str]) -> compression.Compression:
    try:
        return compression.effective(own, node_cfg.get("backup_compression"))
    except CompressionError as exc:
        raise UserInputError(f"Backup compression: {exc}") from None


def node_release(ctx: ShellContext, node_id: int, conn: object = None) -> Release:
    """The PostgreSQL release of a node (an open session is reused; asked once per
    command)."""

    def fetch() -> int:
        target = ctx.node_target(node_id)
        with pgnode.session(target, application_name="pgbackman_cli") as c:
            return pgnode.server_version_num(c)

    try:
        if conn is not None:
            num = pgnode.server_version_num(conn)  # type: ignore[arg-type]
        else:
            num = ctx.memo(("node_release", node_id), fetch)
    except NodeUnavailableError as exc:
        raise UserInputError(
            f"Cannot check the backup compression against the pg_dump release of PgSQL "
            f"node [{node_id}]: {exc}"
        ) from None
    return pgversion.release_from_version_num(num)


def check_release(
    comp: compression.Compression, code: str, release: Release, where: str
) -> None:
    try:
        compression.check_release(comp, code, release)
    except CompressionError as exc:
        raise UserInputError(
            f"Backup compression {comp} refused for {where}: {exc}"
        ) from None


def needs_release(comp: compression.Compression, code: str) -> bool:
    """Whether a value depends on the pg_dump release (gzip and none never do)."""
    return code.upper() != "CLUSTER" and comp.method not in ("gzip", "none")


def require_recipients(ctx: ShellContext, server_id: int, what: str) -> None:
    """Refuse encryption on a backup server without encryption_recipients."""
    try:
        keys = recipients.parse(
            cat_servers.server_config_dict(ctx.cat, server_id).get(
                "encryption_recipients"
            )
        )
    except recipients.RecipientsError as exc:
        raise UserInputError(f"Encryption refused for {what}: {exc}") from None
    if not keys:
        raise UserInputError(
            f"Encryption refused for {what}: backup server [{server_id}] has no "
            "encryption_recipients (age public keys, set them with "
            "update_backup_server_config); it could not encrypt anything"
        )


# -- parameters -----------------------------------------------------------------------------
def packing(
    node_cfg: Callable[[ShellContext, Values], dict[str, str]],
    release: Callable[[ShellContext, Values], Release | None] = lambda ctx, v: None,
    code: Callable[[Values], str] = lambda v: str(v.code),
    node: Callable[[Values], int] = lambda v: int(v.node),
    extra: Callable[[Values], str] = lambda v: str(v.extra),
) -> Callable[[ShellContext, Values, str], Packing]:
    """The [backup compression] of a definition or snapshot, checked when typed: its
    syntax, a -Z/--compress of the extra parameters typed before folded into it, and
    whether the pg_dump that will run can write it (``release``: None = the node's)."""

    def parse(ctx: ShellContext, v: Values, text: str) -> Packing:
        packed = fold(ctx, code(v), compression_arg(text), extra(v))
        comp = effective(packed.own, node_cfg(ctx, v))
        if needs_release(comp, code(v)):
            rel = release(ctx, v) or node_release(ctx, node(v))
            check_release(comp, code(v), rel, f"PgSQL node [{node(v)}]")
        return packed

    return parse


def compression_param(
    parse: Callable[[ShellContext, Values, str], Any],
    present_from: int,
    default: Any = DEFAULT_WORD,
    help: str = "gzip:N (1-9), zstd:N (1-22), lz4:N (1-12) or none; '' or default = the "
    "node's backup_compression when the job runs. zstd and lz4 need pg_dump 16+ (PgSQL "
    "node 16+), except for CLUSTER. A -Z or --compress in the extra parameters becomes "
    "this value.",
) -> Param:
    return Param(
        "compression",
        "Backup compression",
        parse,
        default=default,
        complete=K.words(DEFAULT_WORD, *EXAMPLES),
        placeholder="[backup compression]",
        help=help,
        present_from=present_from,
    )


def encryption_param(
    what: str,
    default: Any = "false",
    present_from: int = 0,
    needed: Callable[[Values, bool], bool] = lambda v, on: on,
    help: str = "true/false: every file of its backups is encrypted with age to the "
    "backup server's encryption_recipients (refused when it has none).",
    server: Callable[[Values], int] = lambda v: int(v.server),
) -> Param:
    """true/false; true is refused at once on a backup server without recipients
    (``needed`` says when to check, e.g. only when an update switches it on)."""

    def parse(ctx: ShellContext, v: Values, text: str) -> bool:
        on = validate.boolean(text)
        if needed(v, on):
            require_recipients(ctx, server(v), what)
        return on

    return Param(
        "encryption",
        "Encryption",
        parse,
        default=default,
        complete=K.words("true", "false"),
        placeholder="[encryption]",
        help=help,
        present_from=present_from,
    )


def node_compression(value: str, field: str) -> str:
    """A node's backup_compression: a value of its own is required."""
    comp = compression_arg(value, field)
    if comp is None:
        raise UserInputError(
            f"{field} [{value}]: a node needs a value: gzip:N, zstd:N, lz4:N or none"
        )
    return comp


def server_recipients(value: str, field: str) -> str:
    """age public keys; ``none`` removes them all (encrypted definitions then fail,
    loudly)."""
    if value.strip().lower() == "none":
        return ""
    try:
        keys = recipients.parse(validate.no_control_chars(field, value))
    except recipients.RecipientsError as exc:
        raise UserInputError(f"{field}: {exc}") from None
    return recipients.render(keys)
