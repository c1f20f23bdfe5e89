"""Checks of encryption and compression values shared by the definition, snapshot and
configuration commands (not a command module).

Everything is checked when the value is typed, never at 02:00: a compression value's
syntax, whether the pg_dump that will run can write it (the node's release, learned by
connecting to the node as registration already does; a snapshot's own pg_dump release),
``-Z``/``--compress`` in the extra parameters folded into the setting, and a backup
server with encryption_recipients for anything that must be encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgbackman.catalog import servers as cat_servers
from pgbackman.core import argv as argvmod
from pgbackman.core import compression, pgversion, recipients, validate
from pgbackman.core.compression import CompressionError
from pgbackman.core.pgversion import Release
from pgbackman.errors import ExtraParameterError, NodeUnavailableError, UserInputError
from pgbackman.pgnode import connection as pgnode
from pgbackman.shell.commands._arguments import warn
from pgbackman.shell.context import ShellContext

DEFAULT_WORD = "default"  # a definition without a value of its own: the node's


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
    """The PostgreSQL release of a node (an open session is reused)."""
    try:
        if conn is not None:
            num = pgnode.server_version_num(conn)  # type: ignore[arg-type]
        else:
            target = ctx.node_target(node_id)
            with pgnode.session(target, application_name="pgbackman_cli") as c:
                num = pgnode.server_version_num(c)
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
