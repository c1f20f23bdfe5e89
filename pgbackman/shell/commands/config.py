"""Configuration and overview commands: server/node config (show, update), PgBackMan config
and statistics, jobs queue."""

from __future__ import annotations

from typing import Any

from pgbackman.catalog import definitions as cat_defs
from pgbackman.catalog import nodes as cat_nodes
from pgbackman.catalog import servers as cat_servers
from pgbackman.catalog import stats as cat_stats
from pgbackman.errors import PgBackManError
from pgbackman.shell.commands import _config_values as C
from pgbackman.shell.commands import _params as K
from pgbackman.shell.commands import _selection as S
from pgbackman.shell.commands._stats import counters
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Values
from pgbackman.shell.registry import UPDATE_CORRECT, command
from pgbackman.version import SCHEMA_TAG, SCHEMA_VERSION, SOFTWARE_VERSION

CONFIG_COLUMNS = ["Parameter", "Value", "Description"]


def _config_table(
    ctx: ShellContext, result_type: str, rows: list[dict[str, Any]]
) -> None:
    ctx.out.table(result_type, CONFIG_COLUMNS, rows, left=CONFIG_COLUMNS)


@command(
    "show_backup_server_config",
    params=[K.server()],
    doc="Shows the configuration parameters of a backup server.",
)
def show_backup_server_config(ctx: ShellContext, v: Values) -> None:
    _config_table(
        ctx, "backup_server_config", cat_servers.server_config(ctx.cat, v.server)
    )


@command(
    "update_backup_server_config",
    params=C.SERVER_PARAMS,
    doc="""
    Updates the configuration of a backup server (9 parameters as upstream, or up to 15
    with the optional last ones). "" keeps the current value.
    """,
    notes="""
    e.g.
      [pgbackman]$ update_backup_server_config 1 "" "" "" "" /opt/pg16/bin "" "" /srv/pgbackman

      [Done] Configuration parameters for SrvID: 1 updated.
    """,
    confirm=UPDATE_CORRECT,
)
def update_backup_server_config(ctx: ShellContext, v: Values) -> None:
    changes = C.changes(v, C.server_config(ctx, v), C.SERVER_CONFIG)
    if not changes:
        ctx.out.unchanged(
            f"Configuration parameters for SrvID: {v.server} are already these values."
        )
        return
    cat_servers.update_server_config(ctx.cat, v.server, changes)
    ctx.out.done(f"Configuration parameters for SrvID: {v.server} updated.")
    if changes.get("encryption_recipients") == "":
        n = cat_defs.encrypted_definitions(ctx.cat, v.server)
        if n:
            K.warn(
                ctx,
                f"SrvID {v.server} has no encryption recipients any more: its {n} "
                "encrypted backup definition(s) will fail (ERROR and an alert) until "
                "recipients are set again; nothing is ever written in plaintext instead",
            )


@command(
    "show_pgsql_node_config",
    params=[K.node()],
    doc="""
    Shows the configuration parameters of a PgSQL node (defaults of its backup
    definitions, directories, crontab file...).
    """,
)
def show_pgsql_node_config(ctx: ShellContext, v: Values) -> None:
    _config_table(ctx, "pgsql_node_config", cat_nodes.node_config(ctx.cat, v.node))


@command(
    "update_pgsql_node_config",
    params=C.NODE_PARAMS,
    doc="""
    Updates the configuration of a PgSQL node (20 parameters as upstream, or 21 to 24 with
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
      moved when they change). The backup dir must lie inside root_backup_partition and the
      crontab file directly inside crontab_dir of the backup servers' configuration file
      ([backup_server] section; this shell checks against its own).
    * [stale backup grace]: interval, e.g. '4 hours': a definition is STALE when its
      schedule fired this long ago without a new successful backup (alerts, checks).
    * [backup timeout]: wall-clock limit of one backup run, an interval from 1 second to
      365 days (default 1 day); a run still going then is stopped and recorded as ERROR.
    * [backup compression]: default compression of the node's definitions and snapshots:
      gzip:N (1-9), zstd:N (1-22), lz4:N (1-12) or none (default gzip:6). zstd and lz4
      need pg_dump 16+: refused for a node older than PostgreSQL 16 (the shell connects to
      the node to check; set them per CLUSTER definition instead).
    * [max parallel backups]: dumps a backup server runs at once against this node (a
      number from 1 to 10000 (default 4), or unlimited); the others wait their turn. The
      time a backup waited counts against its backup timeout.
    """,
    notes="""
    e.g.
      [pgbackman]$ update_pgsql_node_config 1 01-30 01-03 "" "" "" SCHEMA "14 days" 2 "" ""
                   "" "" "" dba@example.org "" "" "" "" ""

      [Done] Configuration parameters for NodeID: 1 updated.
    """,
    confirm=UPDATE_CORRECT,
)
def update_pgsql_node_config(ctx: ShellContext, v: Values) -> None:
    changes = C.changes(v, S.node_config(ctx, v), C.NODE_CONFIG)
    if not changes:
        ctx.out.unchanged(
            f"Configuration parameters for NodeID: {v.node} are already these values."
        )
        return
    cat_nodes.update_node_config(ctx.cat, v.node, changes)
    ctx.out.done(f"Configuration parameters for NodeID: {v.node} updated.")


@command(
    "show_jobs_queue",
    doc="""
    Shows the crontab regenerations waiting to be processed by pgbackman_control.
    """,
)
def show_jobs_queue(ctx: ShellContext, v: Values) -> None:
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
    doc="""
    Shows global statistics: servers and nodes by status, backup definitions by status and
    code, backups in the catalog, queued work.
    """,
)
def show_pgbackman_stats(ctx: ShellContext, v: Values) -> None:
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
    doc="""
    Shows the configuration this shell runs with (configuration file, catalog database,
    software and catalog versions). Passwords are never shown.
    """,
)
def show_pgbackman_config(ctx: ShellContext, v: Values) -> None:
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
        ("Alert retention", cfg.maintenance.alert_retention),
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
