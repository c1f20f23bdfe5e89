"""The parameters of update_backup_definition: the definition (its current values are
the defaults, kept as they are when not changed), every value it may change, and its
compression and encryption. Not a command module.
"""

from __future__ import annotations

from typing import Any

from pgbackman.catalog import definitions as cat_defs
from pgbackman.core import cronfields, validate
from pgbackman.errors import UserInputError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands import _protection as prot
from pgbackman.shell.commands import _selection as S
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Values, as_text


def definition(ctx: ShellContext, v: Values, text: str) -> dict[str, Any]:
    def_id = K.digits(text, "DefID")
    cur = ctx.memo(
        ("definition", def_id), lambda: cat_defs.get_backup_definition(ctx.cat, def_id)
    )
    if cur is None:
        raise UserInputError(f"Backup definition DefID [{def_id}] does not exist")
    return dict(cur)


def _now(key: str) -> Any:
    return lambda ctx, v: str(v.definition[key] or "")


def _changed(key: str, label: str, rule: Any, placeholder: str) -> Param:
    return Param(
        key,
        label,
        K.keep_current(rule, _now(key)),
        default=_now(key),
        placeholder=placeholder,
    )


UPDATABLE = [
    _changed(
        "minutes_cron", "Minutes cron", S.cron_rule(cronfields.MINUTE), "[min_cron]"
    ),
    _changed("hours_cron", "Hours cron", S.cron_rule(cronfields.HOUR), "[hour_cron]"),
    _changed(
        "day_month_cron",
        "Day-month cron",
        S.cron_rule(cronfields.DAY_MONTH),
        "[day-month_cron]",
    ),
    _changed("month_cron", "Month cron", S.cron_rule(cronfields.MONTH), "[month_cron]"),
    _changed(
        "weekday_cron",
        "Weekday cron",
        S.cron_rule(cronfields.WEEKDAY),
        "[weekday_cron]",
    ),
    _changed("retention_period", "Retention period", S.retention, "[retention period]"),
    _changed(
        "retention_redundancy",
        "Retention redundancy",
        lambda ctx, v, text: str(validate.redundancy(text)),
        "[retention redundancy]",
    ),
    _changed(
        "extra_backup_parameters",
        "Extra parameters",
        lambda ctx, v, text: validate.backup_extra_parameters(
            "Extra parameters", text, v.definition["backup_code"]
        ),
        "[extra backup parameters]",
    ),
    _changed(
        "job_status",
        "Job status",
        K.checked(validate.job_status, "Job status"),
        "[job status]",
    ),
    _changed("remarks", "Remarks", as_text, "[remarks]"),
]


PARAMS = [
    Param(
        "definition",
        "DefID",
        definition,
        complete=K.def_ids,
        placeholder="[DefID]",
    ),
    *UPDATABLE,
    prot.compression_param(
        prot.packing(
            lambda ctx, v: S.node_config_of(ctx, v.definition["pgsql_node_id"]),
            code=lambda v: str(v.definition["backup_code"]),
            node=lambda v: int(v.definition["pgsql_node_id"]),
            extra=lambda v: str(v.extra_backup_parameters),
        ),
        present_from=12,
        default=lambda ctx, v: str(
            v.definition["backup_compression"] or prot.DEFAULT_WORD
        ),
        help="As in register_backup_definition (default = the node's "
        "backup_compression again).",
    ),
    prot.encryption_param(
        "this backup definition",
        default=lambda ctx, v: "true" if v.definition["encryption"] else "false",
        present_from=13,
        needed=lambda v, on: on and not v.definition["encryption"],
        help="true/false (true needs the backup server's encryption_recipients; "
        "backups already taken stay as they were written).",
        server=lambda v: int(v.definition["backup_server_id"]),
    ),
]
