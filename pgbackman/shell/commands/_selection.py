"""What backup definitions and snapshots share: the node's configuration as defaults, the
DBname / DBname exceptions selection (checked against the node as soon as it is typed), and
the backup code, retention period and extra parameters. Not a command module.
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import nodes as cat_nodes
from pgbackman.core import cronfields, dbselect, validate
from pgbackman.shell.commands import _params as K
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values


def node_config_of(ctx: ShellContext, node_id: int) -> dict[str, str]:
    """A node's configuration (asked once per command)."""
    return ctx.memo(
        ("node_config", node_id), lambda: cat_nodes.node_config_dict(ctx.cat, node_id)
    )


def node_config(ctx: ShellContext, v: Values) -> dict[str, str]:
    """The configuration of the node typed before: the defaults of its definitions and
    snapshots."""
    return node_config_of(ctx, int(v.node))


def from_node(parameter: str, fallback: str) -> Any:
    """A default from the node's configuration."""
    return lambda ctx, v: node_config(ctx, v).get(parameter, fallback)


def dbname_spec(allow_without_definitions: bool = True) -> Any:
    """The DBname argument; the databases it names must exist on the node (checked as
    soon as it is typed)."""

    def parse(ctx: ShellContext, v: Values, text: str) -> dbselect.DbSpec:
        spec = dbselect.parse_dbname(text, allow_without_definitions)
        if spec.kind == dbselect.KIND_NAMES:
            dbselect.check_names(
                spec,
                dbselect.registrable(ctx.node_databases(v.node))[0],
                ctx.node_row(v.node)["fqdn"],
            )
        return spec

    return parse


def exceptions_param(present_from: int) -> Param:
    return Param(
        "exceptions",
        "DBname exceptions",
        lambda ctx, v, text: dbselect.parse_exceptions(text),
        complete=K.with_list(K.node_databases(special=())),
        placeholder="[DBname exceptions]",
        help="Comma list of databases left out of the selection.",
        present_from=present_from,
    )


def selected_databases(
    ctx: ShellContext, v: Values, with_definitions: bool = True
) -> list[str]:
    """The databases a DBname / exceptions / backup code selection means on the node."""
    spec: dbselect.DbSpec = v.dbname
    if v.code == "CLUSTER" and spec.kind == dbselect.KIND_CLUSTER:
        return [""]
    on_node, unusable = dbselect.registrable(ctx.node_databases(v.node))
    have = (
        cat_defs.dbnames_with_definitions(ctx.cat, v.node) if with_definitions else ()
    )
    dbnames = dbselect.select_databases(
        spec,
        v.exceptions,
        on_node,
        have,
        node_label=ctx.node_row(v.node)["fqdn"],
        backup_code=v.code,
    )
    K.skipped_warning(ctx, spec, unusable)
    return dbnames


def retention(ctx: ShellContext, v: Values, text: str) -> str:
    """A retention period PostgreSQL accepts, as the catalog will store it."""
    return cat_defs.check_interval(ctx.cat, validate.interval(text))


def code_param(help: str) -> Param:
    return Param(
        "code",
        "Backup code",
        K.checked(validate.backup_code, "Backup code"),
        default=from_node("backup_code", "FULL"),
        complete=K.words(*validate.BACKUP_CODES),
        placeholder="[backup code]",
        help=help,
    )


def retention_param(help: str) -> Param:
    return Param(
        "retention",
        "Retention period",
        retention,
        default=from_node("retention_period", "7 days"),
        placeholder="[retention period]",
        help=help,
    )


def extra_param(help: str) -> Param:
    """Extra pg_dump/pg_dumpall parameters, judged for the backup code typed before."""
    return Param(
        "extra",
        "Extra parameters",
        lambda ctx, v, text: validate.backup_extra_parameters(
            "Extra parameters", text, v.code
        ),
        default=from_node("extra_backup_parameters", ""),
        placeholder="[extra backup parameters]",
        help=help,
    )


def cron_rule(field: cronfields.CronField) -> Any:
    """A cron field of a schedule (core/cronfields.py)."""
    return lambda ctx, v, text: cronfields.validate_field(field, text)


def cron_param(field: cronfields.CronField, key: str, default: Any, **kw: Any) -> Param:
    return Param(key, field.label, cron_rule(field), default=default, **kw)
