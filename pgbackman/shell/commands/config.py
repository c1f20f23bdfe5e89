"""Configuration and overview commands: server/node config (show, update), PgBackMan config
and statistics, jobs queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import nodes as cat_nodes
from pgbackman.catalog import servers as cat_servers
from pgbackman.catalog import stats as cat_stats
from pgbackman.core import recipients, validate
from pgbackman.errors import PgBackManError, UserInputError
from pgbackman.shell.commands import _protection as prot
from pgbackman.shell.commands._arguments import warn
from pgbackman.shell.commands._stats import counters
from pgbackman.shell.context import ShellContext
from pgbackman.shell.registry import command
from pgbackman.version import SCHEMA_TAG, SCHEMA_VERSION, SOFTWARE_VERSION

CONFIG_COLUMNS = ["Parameter", "Value", "Description"]
PG_MAJORS = tuple(range(12, 19))

# update_pgsql_node_config: (catalog parameter, prompt label, validator) in the DOCUMENTED
# argument order (upstream read positions 10-12 in another order: fixed).
_Validator = Callable[[str, str], Any]  # (value, field label) -> normalised value


def _cron(value: str, field: str) -> str:
    return validate.required(field, value)


def _text(value: str, field: str) -> str:
    return validate.no_control_chars(field, value)


def _extra_backup(value: str, field: str) -> str:
    # Node defaults are used by FULL/SCHEMA/DATA/RDS definitions: pg_dump's allowlist.
    return validate.extra_parameters(field, value, "pg_dump")


def _extra_restore(value: str, field: str) -> str:
    return validate.extra_parameters(field, value, "pg_restore")


def _compression(value: str, field: str) -> str:
    comp = prot.compression_arg(value, field)
    if comp is None:
        raise UserInputError(
            f"{field} [{value}]: a node needs a value: gzip:N, zstd:N, lz4:N or none"
        )
    return comp


def _recipients(value: str, field: str) -> str:
    """age public keys; ``none`` removes them all (encrypted definitions then fail, loudly)."""
    if value.strip().lower() == "none":
        return ""
    try:
        keys = recipients.parse(validate.no_control_chars(field, value))
    except recipients.RecipientsError as exc:
        raise UserInputError(f"{field}: {exc}") from None
    return recipients.render(keys)


NODE_CONFIG_ARGS: list[tuple[str, str, _Validator]] = [
    ("backup_minutes_interval", "Minutes cron interval", validate.minutes_interval),
    ("backup_hours_interval", "Hours cron interval", validate.hours_interval),
    ("backup_day_month_cron", "Day-month cron", _cron),
    ("backup_month_cron", "Month cron", _cron),
    ("backup_weekday_cron", "Weekday cron", _cron),
    ("backup_code", "Backup code", validate.backup_code),
    ("retention_period", "Retention period", validate.interval),
    ("retention_redundancy", "Retention redundancy", validate.redundancy),
    ("automatic_deletion_retention", "Automatic deletion retention", validate.interval),
    ("extra_backup_parameters", "Extra backup parameters", _extra_backup),
    ("extra_restore_parameters", "Extra restore parameters", _extra_restore),
    ("backup_job_status", "Backup Job status", validate.job_status),
    ("domain", "Domain", validate.hostname),
    ("logs_email", "Logs e-mail", validate.email),
    ("admin_user", "PostgreSQL admin user", validate.role_name),
    ("pgport", "Port", validate.port),
    ("pgnode_backup_partition", "Backup directory", validate.absolute_path),
    ("pgnode_crontab_file", "Crontab file", validate.absolute_path),
    ("pgsql_node_status", "PgSQL node status", validate.server_status),
]
# Parameters newer than upstream's 19, accepted as optional trailing arguments in this
# order, so that the 1.x command lines keep working unchanged.
NODE_CONFIG_EXTRA_ARGS: list[tuple[str, str, _Validator]] = [
    ("stale_backup_grace", "Stale backup grace", validate.interval),
    ("backup_timeout", "Backup timeout", validate.backup_timeout),
    ("backup_compression", "Backup compression", _compression),
]

SERVER_CONFIG_ARGS: list[tuple[str, str]] = [
    *((f"pgsql_bin_{m}", f"PgSQL bindir {m}") for m in PG_MAJORS),
    ("root_backup_partition", "Main backup dir"),
]
# "" keeps a value, so clearing one (offsite copies off, back to AWS) is spelled "none".
CLEAR = "none"


def _clearable(check: Callable[[str, str], str]) -> _Validator:
    def validator(value: str, field: str) -> str:
        return "" if value.strip().lower() == CLEAR else check(value, field)

    return validator


# Newer than upstream's 9 arguments: optional trailing ones, in this order.
SERVER_CONFIG_EXTRA_ARGS: list[tuple[str, str, _Validator]] = [
    ("encryption_recipients", "Encryption recipients", _recipients),
    ("offsite_url", "Offsite URL", _clearable(validate.offsite_url)),
    (
        "offsite_endpoint_url",
        "Offsite endpoint URL",
        _clearable(validate.offsite_endpoint_url),
    ),
    (
        "offsite_retention_period",
        "Offsite retention period",
        validate.offsite_retention_period,
    ),
]


def _config_table(
    ctx: ShellContext, result_type: str, rows: list[dict[str, Any]]
) -> None:
    ctx.out.table(result_type, CONFIG_COLUMNS, rows, left=CONFIG_COLUMNS)


def _changes(
    ctx: ShellContext,
    args: list[str],
    current: dict[str, str],
    spec: list[tuple[str, str, _Validator]],
    question: str,
) -> dict[str, str]:
    """Values from args or prompts, validated; only those that differ from the current ones."""
    if args:
        raw = dict(zip((p for p, _, _ in spec), args, strict=True))
    else:
        raw = {p: ctx.prompt(label, current.get(p, "")) for p, label, _ in spec}
        ctx.confirm_or_abort(question)
    changes: dict[str, str] = {}
    for parameter, label, check in spec:
        value = raw[parameter]
        if value.strip() == "":
            continue  # empty keeps the current value
        normalised = check(value, label)
        text = str(normalised)
        if text != current.get(parameter):
            changes[parameter] = text
    return changes


@command(
    "show_backup_server_config",
    nargs=(1,),
    usage="""
    show_backup_server_config [SrvID | FQDN]

    Shows the configuration parameters of a backup server.
    """,
)
def show_backup_server_config(ctx: ShellContext, args: list[str]) -> None:
    server_id = ctx.resolve_server(
        args[0] if args else ctx.prompt("SrvID / FQDN", ctx.default_backup_server())
    )
    _config_table(
        ctx, "backup_server_config", cat_servers.server_config(ctx.cat, server_id)
    )


@command(
    "update_backup_server_config",
    nargs=tuple(
        1 + len(SERVER_CONFIG_ARGS) + n
        for n in range(len(SERVER_CONFIG_EXTRA_ARGS) + 1)
    ),
    usage="""
    update_backup_server_config [SrvID | FQDN] [pgsql_bin_12] [pgsql_bin_13] [pgsql_bin_14]
                                [pgsql_bin_15] [pgsql_bin_16] [pgsql_bin_17] [pgsql_bin_18]
                                [root_backup_dir] [encryption recipients]
                                [offsite url] [offsite endpoint url] [offsite retention]

    Updates the configuration of a backup server (9 parameters as upstream, or up to 13
    with the optional last ones). "" keeps the current value.

    Parameters:
    * [SrvID | FQDN]:     SrvID in PgBackMan or FQDN of the backup server.
    * [pgsql_bin_<N>]:    directory with the PostgreSQL <N> client programs (pg_dump,
                          pg_dumpall, pg_restore, psql), N = 12 ... 18. Absolute path.
    * [root_backup_dir]:  main backup directory of the server. Absolute path.
    * [encryption recipients]: age public keys (age1..., from age-keygen -y), separated by
                          spaces or commas: the files of encrypted backups are encrypted to
                          every one of them. The server never holds a key that decrypts
                          (restores need [pgbackman_restore] identity_file). none removes
                          them: encrypted definitions then fail with an ERROR and an alert.
    * [offsite url]:      s3://bucket/prefix where copies of every new backup are
                          uploaded; none = offsite copies off (the default).
    * [offsite endpoint url]: http(s)://host[:port] of MinIO, Ceph RGW...; none = AWS S3.
                          Credentials are never stored here: they come from the AWS
                          configuration of the backup user (environment, ~/.aws, role).
    * [offsite retention]: how long offsite copies are kept, e.g. '90 days' (may be
                          longer than the local retention).

    e.g.
      [pgbackman]$ update_backup_server_config 1 "" "" "" "" /opt/pg16/bin "" "" /srv/pgbackman

      [Done] Configuration parameters for SrvID: 1 updated.
    """,
)
def update_backup_server_config(ctx: ShellContext, args: list[str]) -> None:
    server_id = ctx.resolve_server(
        args[0] if args else ctx.prompt("SrvID / FQDN", ctx.default_backup_server())
    )
    current = cat_servers.server_config_dict(ctx.cat, server_id)
    spec: list[tuple[str, str, _Validator]] = [
        (p, label, validate.absolute_path) for p, label in SERVER_CONFIG_ARGS
    ] + SERVER_CONFIG_EXTRA_ARGS
    if args:
        spec = spec[: len(args) - 1]
    changes = _changes(
        ctx, args[1:], current, spec, "Are all values to update correct (yes/no)"
    )
    cat_servers.update_server_config(ctx.cat, server_id, changes)
    ctx.out.done(f"Configuration parameters for SrvID: {server_id} updated.")
    if changes.get("encryption_recipients") == "":
        n = cat_defs.encrypted_definitions(ctx.cat, server_id)
        if n:
            warn(
                ctx,
                f"SrvID {server_id} has no encryption recipients any more: its {n} "
                "encrypted backup definition(s) will fail (ERROR and an alert) until "
                "recipients are set again; nothing is ever written in plaintext instead",
            )


@command(
    "show_pgsql_node_config",
    nargs=(1,),
    usage="""
    show_pgsql_node_config [NodeID | FQDN]

    Shows the configuration parameters of a PgSQL node (defaults of its backup
    definitions, directories, crontab file...).
    """,
)
def show_pgsql_node_config(ctx: ShellContext, args: list[str]) -> None:
    node_id = ctx.resolve_node(args[0] if args else ctx.prompt("NodeID / FQDN"))
    _config_table(ctx, "pgsql_node_config", cat_nodes.node_config(ctx.cat, node_id))


@command(
    "update_pgsql_node_config",
    nargs=tuple(
        1 + len(NODE_CONFIG_ARGS) + n for n in range(len(NODE_CONFIG_EXTRA_ARGS) + 1)
    ),
    usage="""
    update_pgsql_node_config [NodeID/FQDN] [min_cron interval] [hours_cron interval]
                             [daymonth_cron] [month_cron] [weekday_cron] [backup code]
                             [retention period] [retention redundancy]
                             [automatic deletion retention] [extra backup parameters]
                             [extra restore parameters] [backup job status] [domain]
                             [logs email] [admin user] [pgport] [pgnode backup dir]
                             [pgnode crontab file] [pgnode status]
                             [stale backup grace] [backup timeout] [backup compression]

    Updates the configuration of a PgSQL node (20 parameters as upstream, or 21 to 23 with
    the optional last ones). "" keeps the current value.
    Every value is validated; a bad one is an error and nothing is changed.

    * [min_cron interval] / [hours_cron interval]: 'a-b' within 0-59 / 0-23, the interval
      the minute / hour of new backup definitions is picked from, e.g. 01-59, 01-06.
    * [daymonth_cron] [month_cron] [weekday_cron]: cron fields, default '*'.
    * [backup code]: FULL, SCHEMA, DATA, CLUSTER or RDS.
    * [retention period] / [automatic deletion retention]: intervals, e.g. '7 days'.
    * [retention redundancy]: integer from 1 to 999999.
    * [backup job status]: ACTIVE or STOPPED. [pgnode status]: RUNNING or STOPPED.
    * [pgnode backup dir] / [pgnode crontab file]: absolute paths (existing files are not
      moved when they change).
    * [stale backup grace]: interval, e.g. '4 hours': a definition is STALE when its
      schedule fired this long ago without a new successful backup (alerts, checks).
    * [backup timeout]: wall-clock limit of one backup run, an interval from 1 second to
      365 days (default 1 day); a run still going then is stopped and recorded as ERROR.
    * [backup compression]: default compression of the node's definitions and snapshots:
      gzip:N (1-9), zstd:N (1-22), lz4:N (1-12) or none (default gzip:6). zstd and lz4
      need pg_dump 16+: refused for a node older than PostgreSQL 16 (the shell connects to
      the node to check; set them per CLUSTER definition instead).

    e.g.
      [pgbackman]$ update_pgsql_node_config 1 01-30 01-03 "" "" "" SCHEMA "14 days" 2 "" ""
                   "" "" "" dba@example.org "" "" "" "" ""

      [Done] Configuration parameters for NodeID: 1 updated.
    """,
)
def update_pgsql_node_config(ctx: ShellContext, args: list[str]) -> None:
    node_id = ctx.resolve_node(args[0] if args else ctx.prompt("NodeID / FQDN"))
    current = cat_nodes.node_config_dict(ctx.cat, node_id)
    spec = NODE_CONFIG_ARGS + NODE_CONFIG_EXTRA_ARGS
    if args:
        spec = spec[: len(args) - 1]
    changes = _changes(
        ctx, args[1:], current, spec, "Are all values to update correct (yes/no)"
    )
    if "backup_compression" in changes:
        comp = prot.effective(changes["backup_compression"], {})
        if prot.needs_release(comp, "FULL"):
            release = prot.node_release(ctx, node_id)
            prot.check_release(comp, "FULL", release, f"PgSQL node [{node_id}]")
    cat_nodes.update_node_config(ctx.cat, node_id, changes)
    ctx.out.done(f"Configuration parameters for NodeID: {node_id} updated.")


@command(
    "show_jobs_queue",
    nargs=(0,),
    usage="""
    show_jobs_queue

    Shows the crontab regenerations waiting to be processed by pgbackman_control.
    """,
)
def show_jobs_queue(ctx: ShellContext, args: list[str]) -> None:
    cols = [
        "JobID",
        "Registered",
        "SrvID",
        "Backup server",
        "NodeID",
        "PgSQL node",
        "Assigned",
    ]
    ctx.out.table(
        "jobs_queue",
        cols,
        cat_stats.jobs_queue(ctx.cat),
        left=("Backup server", "PgSQL node"),
    )


@command(
    "show_pgbackman_stats",
    nargs=(0,),
    usage="""
    show_pgbackman_stats

    Shows global statistics: servers and nodes by status, backup definitions by status and
    code, backups in the catalog, queued work.
    """,
)
def show_pgbackman_stats(ctx: ShellContext, args: list[str]) -> None:
    s = cat_stats.global_stats(ctx.cat)
    pairs = [
        ("Running Backup servers", s["running_servers"]),
        ("Stopped Backup servers", s["stopped_servers"]),
        ("#", ""),
        ("Running PgSQL nodes", s["running_nodes"]),
        ("Stopped PgSQL nodes", s["stopped_nodes"]),
        ("##", ""),
        *counters(s),
        ("####", ""),
        ("Jobs waiting to be processed by pgbackman_control", s["jobs_waiting"]),
        ("Forced deletion of backups waiting to be processed", s["forced_deletions"]),
    ]
    ctx.out.keyvalue("pgbackman_stats", pairs)


@command(
    "show_pgbackman_config",
    nargs=(0,),
    usage="""
    show_pgbackman_config

    Shows the configuration this shell runs with (configuration file, catalog database,
    software and catalog versions). Passwords are never shown.
    """,
)
def show_pgbackman_config(ctx: ShellContext, args: list[str]) -> None:
    cfg = ctx.cfg
    try:
        row = cat_stats.schema_version_row(ctx.cat)
        db_installed = row["registered"] if row else None
        db_version = f"[{row['version']}]:{row['tag']}" if row else "not installed"
    except PgBackManError as exc:
        db_installed, db_version = None, f"unavailable ({exc})"
    pairs = [
        ("Running modus", "Interactive" if ctx.interactive else "Non-interactive"),
        ("Backup server", ctx.default_backup_server()),
        ("Software version", f"[{SCHEMA_VERSION}]:{SCHEMA_TAG} ({SOFTWARE_VERSION})"),
        ("Configuration file used", cfg.path or "None (defaults)"),
        ("#", ""),
        ("#PGBACKMAN DATABASE", ""),
        ("DBhost", cfg.database.host),
        ("DBhostaddr", cfg.database.hostaddr),
        ("DBport", cfg.database.port),
        ("DBname", cfg.database.dbname),
        ("DBuser", cfg.database.user),
        ("Connection retry interval", f"{cfg.database.pg_connect_retry_interval} sec."),
        ("##", ""),
        ("Database source dir", cfg.database.database_source_dir),
        ("DB version installed", db_installed),
        ("DB version", db_version),
        ("###", ""),
        ("#PGBACKMAN_DUMP", ""),
        ("Temp directory", cfg.dump.tmp_dir),
        (
            "Pause recovery on slave node",
            "ON" if cfg.dump.pause_recovery_process_on_slave else "OFF",
        ),
        ("####", ""),
        ("#PGBACKMAN_MAINTENANCE", ""),
        ("Maintenance interval", f"{cfg.maintenance.maintenance_interval} sec."),
        ("#####", ""),
        ("#PGBACKMAN_ALERTS", ""),
        ("SMTP alerts activated", "ON" if cfg.alerts.smtp_alerts else "OFF"),
        ("Alerts check interval", f"{cfg.alerts.alerts_check_interval} sec."),
        ("SMTP server", cfg.alerts.smtp_server),
        ("SMTP port", cfg.alerts.smtp_port),
        ("Use SMTP SSL", "ON" if cfg.alerts.smtp_ssl else "OFF"),
        ("Use SMTP STARTTLS", "ON" if cfg.alerts.smtp_starttls else "OFF"),
        ("SMTP user", cfg.alerts.smtp_user),
        ("Default From address", cfg.alerts.smtp_from_address),
        ("Alerts e-mail template", cfg.alerts.alerts_template),
        ("Notify URLs", f"{len(cfg.alerts.urls)} configured"),
        ("Default recipient", cfg.alerts.default_recipient),
        ("######", ""),
        ("#LOGGING", ""),
        ("Log level", cfg.logging.log_level),
        ("Log file", cfg.logging.log_file),
        ("#######", ""),
        ("#OUTPUT", ""),
        ("Default output format", cfg.output.default_output_format),
    ]
    ctx.out.keyvalue("pgbackman_config", pairs)
