"""Argument helpers shared by the definition, snapshot, catalog and restore commands.

Owns the filter grammar of upstream §2.2 for ``show_*`` commands (``all``/``*`` = no filter,
comma lists OR-ed, an empty server meaning the default backup server) and the small checks
(digits, yes/no) that several commands repeat. Not a command module (leading underscore:
the package does not import it as one).
"""

from __future__ import annotations

import sys

from pgbackman.core import validate
from pgbackman.core import dbselect
from pgbackman.core.dbselect import split_list
from pgbackman.errors import UserInputError
from pgbackman.shell.context import ShellContext

ALL_WORDS = ("all", "*")
EXECUTION_STATUSES = ("SUCCEEDED", "ERROR", "WARNING")


def is_all(text: str) -> bool:
    return text.strip().lower() in ALL_WORDS


def digits(text: str, label: str) -> int:
    """A positive integer id typed by the user (at most a bigint)."""
    value = validate.no_control_chars(label, text.strip())
    n = validate.number(value, label)
    if n is None:
        raise UserInputError(f"{label} must be a number: [{value}]")
    return n


def server_filter(ctx: ShellContext, text: str) -> list[int] | None:
    """Server filter: '' = default backup server, all/* = every server, else ids/FQDNs."""
    validate.no_control_chars("SrvID / FQDN", text)
    if is_all(text):
        return None
    if not text.strip():
        return [ctx.resolve_server(ctx.default_backup_server())]
    return [ctx.resolve_server(v) for v in split_list(text)]


def node_filter(ctx: ShellContext, text: str) -> list[int] | None:
    """Node filter: ''/all/* = every node, else NodeIDs/FQDNs (FQDN:port)."""
    validate.no_control_chars("NodeID / FQDN", text)
    if not text.strip() or is_all(text):
        return None
    return [ctx.resolve_node(v) for v in split_list(text)]


def text_filter(text: str, label: str = "DBname") -> list[str] | None:
    validate.no_control_chars(label, text)
    if not text.strip() or is_all(text):
        return None
    return split_list(text)


def id_filter(text: str, label: str) -> list[int] | None:
    validate.no_control_chars(label, text)
    if not text.strip() or is_all(text):
        return None
    return [digits(v, label) for v in split_list(text)]


def status_filter(text: str) -> list[str] | None:
    values = text_filter(text, "Status")
    if values is None:
        return None
    out = [v.upper() for v in values]
    for v in out:
        if v not in EXECUTION_STATUSES:
            raise UserInputError(
                f"Status [{v}] is not valid; use one of {', '.join(EXECUTION_STATUSES)} or all"
            )
    return out


def yes_no(text: str, label: str) -> bool:
    """Loose y/n answers (``Force deletion (y/n)``)."""
    v = text.strip().lower()
    if v in ("y", "yes"):
        return True
    if v in ("n", "no", ""):
        return False
    raise UserInputError(f"{label} must be y or n: [{text.strip()}]")


def warn(ctx: ShellContext, msg: str) -> None:
    """A warning that must not break csv/json output: stderr unless the format is table."""
    if ctx.out.format == "table":
        ctx.out.warning(msg)
    else:
        sys.stderr.write(f"[WARNING]: {msg}\n")
        sys.stderr.flush()


def server_node_db_filters(
    ctx: ShellContext,
    args: list[str],
    node_label: str = "NodeID / FQDN",
    db_label: str = "DBname",
) -> tuple[list[int] | None, list[int] | None, list[str] | None]:
    """The [SrvID|FQDN] [NodeID|FQDN] [DBname] filters of the show_* commands: from the
    arguments (echoed in table mode, as upstream) or from prompts with upstream's defaults."""
    if args:
        srv, node, db = args
    else:
        srv = ctx.prompt("SrvID / FQDN", ctx.default_backup_server())
        node = ctx.prompt(node_label, "all")
        db = ctx.prompt(db_label, "all")
    filters = (
        server_filter(ctx, srv),
        node_filter(ctx, node),
        text_filter(db, db_label),
    )
    if args:
        ctx.out.filters([("SrvID / FQDN", srv), (node_label, node), (db_label, db)])
    return filters


def skipped_warning(
    ctx: ShellContext, spec: dbselect.DbSpec, skipped: list[str]
) -> None:
    """Say which databases of the node a special DBname form left out, and why."""
    if not spec.is_special:
        return
    for name in skipped:
        ctx.out.warning(
            f"Database [{name}] skipped: its name contains control characters, which "
            "PgBackMan does not back up (rename it to back it up)"
        )
