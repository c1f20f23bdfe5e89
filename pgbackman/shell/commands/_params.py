"""Parameters several commands share: backup servers, PgSQL nodes, a node's databases, ids,
choices, remarks, and the filters of the ``show_*`` listings (the grammar of upstream §2.2:
``all``/``*`` = no filter, comma lists OR-ed, an empty server meaning the default backup
server).

Each kind is a :class:`~pgbackman.shell.params.Param` factory or a parser/completer for one;
the rules themselves stay in ``core/validate.py`` and ``core/dbselect.py``. Not a command
module (leading underscore: the package does not import it as one).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from pgbackman.catalog import backups as cat_bck
from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import nodes as cat_nodes
from pgbackman.catalog import restores as cat_rst
from pgbackman.catalog import servers as cat_servers
from pgbackman.core import dbselect, validate
from pgbackman.core.dbselect import split_list
from pgbackman.errors import UserInputError
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Completer, Param, Parser, Values

ALL_WORDS = ("all", "*")
EXECUTION_STATUSES = ("SUCCEEDED", "ERROR", "WARNING")


# -- parsers --------------------------------------------------------------------------------
def checked(rule: Callable[[str, str], Any], label: str) -> Parser:
    """A ``core/validate.py`` rule ``(value, field) -> value`` as a parser."""
    return lambda ctx, v, text: rule(text, label)


def server_id(ctx: ShellContext, v: Values, text: str) -> int:
    return ctx.resolve_server(text)


def node_id(ctx: ShellContext, v: Values, text: str) -> int:
    return ctx.resolve_node(text)


def digits(text: str, label: str) -> int:
    """A positive integer id typed by the user (at most a bigint)."""
    value = validate.no_control_chars(label, text.strip())
    n = validate.number(value, label)
    if n is None:
        raise UserInputError(f"{label} must be a number: [{value}]")
    return n


def an_id(label: str) -> Parser:
    return lambda ctx, v, text: digits(text, label)


def yes_no(text: str, label: str) -> bool:
    """Loose y/n answers (``Force deletion (y/n)``)."""
    value = text.strip().lower()
    if value in ("y", "yes"):
        return True
    if value in ("n", "no", ""):
        return False
    raise UserInputError(f"{label} must be y or n: [{text.strip()}]")


def keep_current(
    rule: Parser, current: Callable[[ShellContext, Values], str]
) -> Parser:
    """An update's parser: the current value is kept as it is (not judged again by today's
    rules), anything else must pass ``rule``."""

    def parse(ctx: ShellContext, v: Values, text: str) -> Any:
        now = current(ctx, v)
        return now if text == now else rule(ctx, v, text)

    return parse


# -- the filter grammar of the show_* commands -------------------------------------------
def is_all(text: str) -> bool:
    return text.strip().lower() in ALL_WORDS


def server_filter(ctx: ShellContext, text: str) -> list[int] | None:
    """Server filter: '' = default backup server, all/* = every server, else ids/FQDNs."""
    validate.no_control_chars("SrvID / FQDN", text)
    if is_all(text):
        return None
    if not text.strip():
        return [ctx.resolve_server(ctx.default_backup_server())]
    return [ctx.resolve_server(item) for item in split_list(text)]


def node_filter(ctx: ShellContext, text: str) -> list[int] | None:
    """Node filter: ''/all/* = every node, else NodeIDs/FQDNs (FQDN:port)."""
    validate.no_control_chars("NodeID / FQDN", text)
    if not text.strip() or is_all(text):
        return None
    return [ctx.resolve_node(item) for item in split_list(text)]


def text_filter(text: str, label: str = "DBname") -> list[str] | None:
    validate.no_control_chars(label, text)
    if not text.strip() or is_all(text):
        return None
    return split_list(text)


def id_filter(text: str, label: str) -> list[int] | None:
    validate.no_control_chars(label, text)
    if not text.strip() or is_all(text):
        return None
    return [digits(item, label) for item in split_list(text)]


def status_filter(text: str) -> list[str] | None:
    values = text_filter(text, "Status")
    if values is None:
        return None
    out = [item.upper() for item in values]
    for item in out:
        if item not in EXECUTION_STATUSES:
            raise UserInputError(
                f"Status [{item}] is not valid; use one of {', '.join(EXECUTION_STATUSES)} or all"
            )
    return out


# -- completers -----------------------------------------------------------------------------
def words(*choices: str) -> Completer:
    return lambda ctx, v, text: choices


def servers(ctx: ShellContext, v: Values, text: str) -> list[str]:
    out: list[str] = []
    for row in cat_servers.list_servers(ctx.cat):
        out += [str(row["SrvID"]), row["FQDN"]]
    return out


def nodes(ctx: ShellContext, v: Values, text: str) -> list[str]:
    rows = cat_nodes.list_nodes(ctx.cat)
    fqdns = [row["FQDN"] for row in rows]
    out: list[str] = []
    for row in rows:
        # FQDN:port only where the FQDN alone is ambiguous (several ports on one host).
        fqdn = row["FQDN"]
        name = f"{fqdn}:{row['Pgport']}" if fqdns.count(fqdn) > 1 else fqdn
        out += [str(row["NodeID"]), name]
    return out


def with_list(complete: Completer) -> Completer:
    """Comma lists: the candidates complete the item after the last comma."""

    def candidates(ctx: ShellContext, v: Values, text: str) -> list[str]:
        head, comma, last = text.rpartition(",")
        items = list(complete(ctx, v, last))
        return [f"{head},{item}" for item in items] if comma else items

    return candidates


def with_all(complete: Completer) -> Completer:
    """Listing filters: ``all`` too, and comma lists."""
    listed = with_list(complete)

    def candidates(ctx: ShellContext, v: Values, text: str) -> list[str]:
        items = list(listed(ctx, v, text))
        return items if "," in text else ["all", *items]

    return candidates


def node_databases(
    key: str = "node", special: Iterable[str] = dbselect.SPECIAL_FORMS
) -> Completer:
    """The databases of the node typed before (``v.<key>``), and the special forms."""

    def candidates(ctx: ShellContext, v: Values, text: str) -> list[str]:
        forms = [s for s in special if s.startswith(text)]
        if forms and text.startswith("#"):
            return forms  # no need to ask the node
        names = dbselect.registrable(ctx.node_databases(getattr(v, key)))[0]
        return [*forms, *names]

    return candidates


def databases_with_definitions(
    ctx: ShellContext, v: Values, text: str
) -> Iterable[str]:
    return sorted(cat_defs.dbnames_with_definitions(ctx.cat, v.node))


def def_ids(ctx: ShellContext, v: Values, text: str) -> list[str]:
    return [str(i) for i in cat_defs.def_ids(ctx.cat, text)]


def bck_ids(ctx: ShellContext, v: Values, text: str) -> list[str]:
    return [str(i) for i in cat_bck.bck_ids(ctx.cat, text)]


def restore_ids(ctx: ShellContext, v: Values, text: str) -> list[str]:
    return [str(i) for i in cat_rst.restore_ids(ctx.cat, text)]


# -- parameters -----------------------------------------------------------------------------
def this_server(ctx: ShellContext, v: Values) -> str:
    return ctx.default_backup_server()


def server(
    key: str = "server",
    label: str = "SrvID / FQDN",
    placeholder: str = "[SrvID | FQDN]",
    help: str = "SrvID in PgBackMan or FQDN of the backup server.",
    parse: Parser = server_id,
) -> Param:
    """A backup server (default: the one this shell runs on)."""
    return Param(
        key,
        label,
        parse,
        default=this_server,
        complete=servers,
        placeholder=placeholder,
        help=help,
    )


def node(
    key: str = "node",
    label: str = "NodeID / FQDN",
    placeholder: str = "[NodeID | FQDN]",
    help: str = "NodeID in PgBackMan or FQDN (host.domain or host.domain:port) of the "
    "PgSQL node.",
    parse: Parser = node_id,
) -> Param:
    return Param(key, label, parse, complete=nodes, placeholder=placeholder, help=help)


def remarks(
    default: str | Callable[[ShellContext, Values], str] = "", help: str = "Remarks."
) -> Param:
    return Param(
        "remarks", "Remarks", default=default, placeholder="[remarks]", help=help
    )


def def_id_filter(placeholder: str = "[DefID]", help: str = "") -> Param:
    """``[DefID]`` of the listings: one id, a comma list, or all (``*``, ``''``)."""
    return Param(
        "def_ids",
        "DefID",
        lambda ctx, v, text: id_filter(text, "DefID"),
        default="all",
        complete=with_all(def_ids),
        placeholder=placeholder,
        help=help or "Backup definition id (all, * or '' = every definition).",
    )


def listing_filters(
    node_label: str = "NodeID / FQDN", db_label: str = "DBname"
) -> list[Param]:
    """``[SrvID|FQDN] [NodeID|FQDN] [DBname]`` of the show_* listings, with upstream's
    defaults: this backup server, every node, every database."""
    node_word = node_label.split(" / ")[0]
    return [
        Param(
            "servers",
            "SrvID / FQDN",
            lambda ctx, v, text: server_filter(ctx, text),
            default=this_server,
            complete=with_all(servers),
            placeholder="[SrvID|FQDN]",
            help="SrvID or FQDN of a backup server; '' = default backup server; all or * "
            "= every server; comma list allowed.",
        ),
        Param(
            "nodes",
            node_label,
            lambda ctx, v, text: node_filter(ctx, text),
            default="all",
            complete=with_all(nodes),
            placeholder=f"[{node_word}|FQDN]",
            help=f"{node_word} or FQDN (FQDN:port) of a PgSQL node; all, * or '' = every "
            "node; comma list allowed.",
        ),
        Param(
            "dbnames",
            db_label,
            lambda ctx, v, text: text_filter(text, db_label),
            default="all",
            complete=with_all(lambda ctx, v, text: []),
            placeholder=f"[{db_label}]",
            help="Database name; all, * or '' = every database; comma list allowed.",
        ),
    ]


# -- messages -------------------------------------------------------------------------------
def warn(ctx: ShellContext, msg: str) -> None:
    """A warning that must not break csv/json output: stderr unless the format is table."""
    if ctx.out.format == "table":
        ctx.out.warning(msg)
    else:
        sys.stderr.write(f"[WARNING]: {msg}\n")
        sys.stderr.flush()


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
