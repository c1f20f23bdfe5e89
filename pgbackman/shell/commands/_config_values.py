"""The configuration values of backup servers and PgSQL nodes as parameters of
update_backup_server_config and update_pgsql_node_config: each current value is the default
(kept as it is when not changed), anything typed must pass the value's rule, and the values
newer than upstream's are optional trailing arguments. Not a command module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgbackman.catalog import servers as cat_servers
from pgbackman.core import authority, validate
from pgbackman.errors import PgBackManError
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands import _protection as prot
from pgbackman.shell.commands import _selection as S
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Param, Parser, Values

PG_MAJORS = tuple(range(12, 19))

_Rule = Callable[[str, str], Any]  # (value, field label) -> normalised value


def _cron(value: str, field: str) -> str:
    return validate.required(field, value)


def _extra_backup(value: str, field: str) -> str:
    # Node defaults are used by FULL/SCHEMA/DATA/RDS definitions: pg_dump's allowlist.
    return validate.extra_parameters(field, value, "pg_dump")


def _extra_restore(value: str, field: str) -> str:
    return validate.extra_parameters(field, value, "pg_restore")


_CODES = K.words(*validate.BACKUP_CODES)
# update_pgsql_node_config in the DOCUMENTED argument order (upstream read positions 10-12
# in another order: fixed): (catalog parameter, prompt label, placeholder, rule, completer).
NODE_CONFIG: list[tuple[str, str, str, _Rule, Any]] = [
    (
        "backup_minutes_interval",
        "Minutes cron interval",
        "[min_cron interval]",
        validate.minutes_interval,
        None,
    ),
    (
        "backup_hours_interval",
        "Hours cron interval",
        "[hours_cron interval]",
        validate.hours_interval,
        None,
    ),
    ("backup_day_month_cron", "Day-month cron", "[daymonth_cron]", _cron, None),
    ("backup_month_cron", "Month cron", "[month_cron]", _cron, None),
    ("backup_weekday_cron", "Weekday cron", "[weekday_cron]", _cron, None),
    ("backup_code", "Backup code", "[backup code]", validate.backup_code, _CODES),
    (
        "retention_period",
        "Retention period",
        "[retention period]",
        validate.interval,
        None,
    ),
    (
        "retention_redundancy",
        "Retention redundancy",
        "[retention redundancy]",
        validate.redundancy,
        None,
    ),
    (
        "automatic_deletion_retention",
        "Automatic deletion retention",
        "[automatic deletion retention]",
        validate.interval,
        None,
    ),
    (
        "extra_backup_parameters",
        "Extra backup parameters",
        "[extra backup parameters]",
        _extra_backup,
        None,
    ),
    (
        "extra_restore_parameters",
        "Extra restore parameters",
        "[extra restore parameters]",
        _extra_restore,
        None,
    ),
    (
        "backup_job_status",
        "Backup Job status",
        "[backup job status]",
        validate.job_status,
        K.words(*validate.JOB_STATUSES),
    ),
    ("domain", "Domain", "[domain]", validate.hostname, None),
    ("logs_email", "Logs e-mail", "[logs email]", validate.email, None),
    ("admin_user", "PostgreSQL admin user", "[admin user]", validate.role_name, None),
    ("pgport", "Port", "[pgport]", validate.port, None),
    (
        "pgnode_backup_partition",
        "Backup directory",
        "[pgnode backup dir]",
        validate.absolute_path,
        None,
    ),
    (
        "pgnode_crontab_file",
        "Crontab file",
        "[pgnode crontab file]",
        validate.absolute_path,
        None,
    ),
    (
        "pgsql_node_status",
        "PgSQL node status",
        "[pgnode status]",
        validate.server_status,
        K.words(*validate.SERVER_STATUSES),
    ),
    # Newer than upstream's 19: optional trailing arguments in this order, so that the
    # 1.x command lines keep working unchanged.
    (
        "stale_backup_grace",
        "Stale backup grace",
        "[stale backup grace]",
        validate.duration,
        None,
    ),
    (
        "backup_timeout",
        "Backup timeout",
        "[backup timeout]",
        validate.backup_timeout,
        None,
    ),
    (
        "backup_compression",
        "Backup compression",
        "[backup compression]",
        prot.node_compression,
        K.words(*prot.EXAMPLES),
    ),
    (
        "max_parallel_backups",
        "Max parallel backups",
        "[max parallel backups]",
        validate.max_parallel_backups,
        K.words("unlimited"),
    ),
]
NODE_CONFIG_OPTIONAL = (
    "stale_backup_grace",
    "backup_timeout",
    "backup_compression",
    "max_parallel_backups",
)

# "" keeps a value, so clearing one (offsite copies off, back to AWS) is spelled "none".
CLEAR = "none"


def _clearable(rule: _Rule) -> _Rule:
    def check(value: str, field: str) -> str:
        return "" if value.strip().lower() == CLEAR else str(rule(value, field))

    return check


SERVER_CONFIG: list[tuple[str, str, str, _Rule, Any]] = [
    *(
        (
            f"pgsql_bin_{m}",
            f"PgSQL bindir {m}",
            f"[pgsql_bin_{m}]",
            validate.absolute_path,
            None,
        )
        for m in PG_MAJORS
    ),
    (
        "root_backup_partition",
        "Main backup dir",
        "[root_backup_dir]",
        validate.absolute_path,
        None,
    ),
    # Newer than upstream's 9 arguments: optional trailing ones, in this order.
    (
        "encryption_recipients",
        "Encryption recipients",
        "[encryption recipients]",
        prot.server_recipients,
        None,
    ),
    (
        "offsite_url",
        "Offsite URL",
        "[offsite url]",
        _clearable(validate.offsite_url),
        None,
    ),
    (
        "offsite_endpoint_url",
        "Offsite endpoint URL",
        "[offsite endpoint url]",
        _clearable(validate.offsite_endpoint_url),
        None,
    ),
    (
        "offsite_retention_period",
        "Offsite retention period",
        "[offsite retention]",
        validate.offsite_retention_period,
        None,
    ),
    (
        "min_free_disk_space",
        "Min free disk space",
        "[min free disk space]",
        validate.min_free_disk_space,
        None,
    ),
    (
        "max_parallel_backups",
        "Max parallel backups",
        "[max parallel backups]",
        validate.server_max_parallel_backups,
        K.words("auto", "unlimited"),
    ),
]
SERVER_CONFIG_OPTIONAL = 6


def config_params(
    spec: list[tuple[str, str, str, _Rule, Any]],
    current: Callable[[ShellContext, Values], dict[str, str]],
    first_optional: int = 0,
    helps: dict[str, str] | None = None,
    then: dict[str, Parser] | None = None,
) -> list[Param]:
    """One parameter per configuration value: the current value is the default (kept as it
    is), anything typed must pass the value's rule (and ``then[key]``, which sees the
    values before it). From ``first_optional`` on the parameters are optional trailing
    arguments of the one-line form."""
    out = []
    for n, (key, label, placeholder, rule, complete) in enumerate(spec):

        def now(ctx: ShellContext, v: Values, key: str = key) -> str:
            return current(ctx, v).get(key, "")

        def parse(
            ctx: ShellContext,
            v: Values,
            text: str,
            rule: _Rule = rule,
            label: str = label,
            key: str = key,
        ) -> Any:
            value = rule(text, label)
            extra = (then or {}).get(key)
            return extra(ctx, v, str(value)) if extra else value

        present_from = 2 + n if first_optional and n >= first_optional else 0
        out.append(
            Param(
                key,
                label,
                K.keep_current(parse, now),
                default=now,
                complete=complete,
                placeholder=placeholder,
                present_from=present_from,
                help=(helps or {}).get(key, ""),
            )
        )
    return out


def server_config(ctx: ShellContext, v: Values) -> dict[str, str]:
    return ctx.memo(
        ("server_config", v.server),
        lambda: cat_servers.server_config_dict(ctx.cat, v.server),
    )


def checked_compression(ctx: ShellContext, v: Values, value: str) -> str:
    """A node default the node's pg_dump can write (the shell connects to check)."""
    comp = prot.effective(value, {})
    if prot.needs_release(comp, "FULL"):
        release = prot.node_release(ctx, v.node)
        prot.check_release(comp, "FULL", release, f"PgSQL node [{v.node}]")
    return value


def local_crontab_file(ctx: ShellContext, v: Values, value: str) -> str:
    """Refused as typed where this host's own configuration file would make
    pgbackman_control refuse it (core/authority.py): outside [backup_server] crontab_dir.
    Node paths are the same on every backup server: run the shell with one's config."""
    authority.check_crontab_file(
        "pgnode_crontab_file", value, ctx.cfg.backup_server.crontab_dir
    )
    return value


def local_partition(ctx: ShellContext, v: Values, value: str) -> str:
    """The same for a node's backup partition: inside [backup_server]
    root_backup_partition."""
    authority.check_partition(
        "pgnode_backup_partition", value, ctx.cfg.backup_server.root_backup_partition
    )
    return value


def local_server_root(ctx: ShellContext, v: Values, value: str) -> str:
    """This shell's own backup server: its root_backup_partition in the catalog must be
    the one of its configuration file or inside it (other servers check theirs)."""
    try:
        local = ctx.resolve_server(ctx.default_backup_server())
    except PgBackManError:
        local = None
    if local is not None and v.server == local:
        authority.check_server_root(value, ctx.cfg.backup_server.root_backup_partition)
    return value


def changes(
    v: Values, current: dict[str, str], spec: list[tuple[str, str, str, _Rule, Any]]
) -> dict[str, str]:
    """The values that differ from the current ones (as the catalog stores them: text)."""
    changes: dict[str, str] = {}
    for key, *_ in spec:
        text = str(getattr(v, key))
        if text != current.get(key, ""):
            changes[key] = text
    return changes


SERVER_PARAMS = [
    K.server(),
    *config_params(
        SERVER_CONFIG,
        server_config,
        len(SERVER_CONFIG) - SERVER_CONFIG_OPTIONAL,
        then={"root_backup_partition": local_server_root},
        helps={
            **{
                f"pgsql_bin_{m}": f"Directory with the PostgreSQL {m} client "
                "programs (pg_dump, pg_dumpall, pg_restore, psql). Absolute path."
                for m in PG_MAJORS
            },
            "root_backup_partition": "Main backup directory of the server. "
            "Absolute path: the root_backup_partition of that server's configuration "
            "file or a directory inside it (checked when it is this shell's server).",
            "encryption_recipients": "age public keys (age1..., from age-keygen "
            "-y), separated by spaces or commas: the files of encrypted backups are "
            "encrypted to every one of them. The server never holds a key that "
            "decrypts (restores need [pgbackman_restore] identity_file). none "
            "removes them: encrypted definitions then fail with an ERROR and an "
            "alert.",
            "offsite_url": "s3://bucket/prefix where copies of every new backup are "
            "uploaded; none = offsite copies off (the default).",
            "offsite_endpoint_url": "http(s)://host[:port] of MinIO, Ceph RGW...; "
            "none = AWS S3. Credentials are never stored here: they come from the AWS "
            "configuration of the backup user (environment, ~/.aws, role).",
            "offsite_retention_period": "How long offsite copies are kept, e.g. "
            "'90 days' (may be longer than the local retention).",
            "min_free_disk_space": "Free space every backup partition of the server "
            "must keep: a percentage of its size (10%) or a size (50 GB); less raises a "
            "Disk-space alert (pgbackman_maintenance).",
            "max_parallel_backups": "Dumps the server runs at once (a number from 1 "
            "to 10000, auto = 2 per CPU of the server (default), or unlimited); the runs "
            "beyond it wait their turn in order of start.",
        },
    ),
]


NODE_PARAMS = [
    K.node(placeholder="[NodeID/FQDN]", help=""),
    *config_params(
        NODE_CONFIG,
        S.node_config,
        len(NODE_CONFIG) - len(NODE_CONFIG_OPTIONAL),
        then={
            "backup_compression": checked_compression,
            "pgnode_backup_partition": local_partition,
            "pgnode_crontab_file": local_crontab_file,
        },
    ),
]
