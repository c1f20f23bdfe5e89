"""Configuration: the INI file of INTERFACES.md read into frozen dataclasses, validated once.

Lookup order (first existing file wins, no merging): ``--config FILE``, ``$PGBACKMAN_CONFIG``,
``~/.pgbackman/pgbackman.conf`` (only when HOME is set), ``/etc/pgbackman/pgbackman.conf``.
Any unknown section or key, or a malformed value, is a :class:`ConfigError` naming it.
A missing file is not an error: defaults apply (the shell may run before anything is set up).
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import socket
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pgbackman.core import validate
from pgbackman.core.authority import normalised_absolute
from pgbackman.errors import ConfigError, UserInputError

SYSTEM_CONFIG = Path("/etc/pgbackman/pgbackman.conf")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL")
OUTPUT_FORMATS = ("table", "csv", "json")


@dataclass(frozen=True)
class BackupServerConfig:
    """This host as a backup server. This root-owned file, not the catalog, decides what the
    root daemons may touch (pgbackman/core/authority.py)."""

    backup_server: str = ""  # FQDN of this backup server; empty -> socket.getfqdn()
    # Where cache_dir/ and pending_updates/ are found when the catalog is down; every node
    # partition and the catalog's root_backup_partition must lie inside it.
    root_backup_partition: str = "/srv/pgbackman"
    # Crontab files are written only directly inside this directory.
    crontab_dir: str = "/etc/cron.d"
    # Programs named in cron and at lines; empty: the ones installed beside the running
    # pgbackman_control (the catalog's pgbackman_dump/pgbackman_restore are not used).
    pgbackman_dump: str = ""
    pgbackman_restore: str = ""
    # Jobs may run as root (backup_user root or uid 0) only when this is ON.
    allow_root_backup_user: bool = False

    @property
    def fqdn(self) -> str:
        return self.backup_server or socket.getfqdn()


@dataclass(frozen=True)
class DatabaseConfig:
    host: str = ""
    hostaddr: str = ""
    port: int = 5432
    dbname: str = "pgbackman"
    user: str = "pgbackman_role_rw"
    # Discouraged (use ~/.pgpass or PGPASSFILE); accepted because upstream configs have it.
    password: str = field(default="", repr=False)
    pg_connect_retry_interval: int = 10
    connect_timeout: int = 10
    statement_timeout: int = 60  # seconds; 0 = none. A hung catalog must not hang us.
    sslmode: str = ""
    database_source_dir: str = "/usr/share/pgbackman"


@dataclass(frozen=True)
class DumpConfig:
    tmp_dir: str = "/tmp"  # noqa: S108 - upstream default; our files in it are 0600/0700
    pause_recovery_process_on_slave: bool = False
    # Every data file decompressed to its end before SUCCEEDED (backup/dirdump.py).
    read_back_check: bool = True


@dataclass(frozen=True)
class RestoreConfig:
    """``[pgbackman_restore]``: what this server needs to restore encrypted backups."""

    # age identity file (AGE-SECRET-KEY-1... lines, mode 0600) of one of the backup
    # servers' encryption_recipients; only servers that restore encrypted backups have one.
    identity_file: str = ""


@dataclass(frozen=True)
class MaintenanceConfig:
    maintenance_interval: int = 70
    pidfile: str = "/run/pgbackman/pgbackman_maintenance.pid"  # daemon mode only
    # Delivered alerts older than this are deleted (task alert-retention), so the alerts
    # table does not grow forever; unsent alerts and open episodes are always kept.
    alert_retention: str = "90 days"


@dataclass(frozen=True)
class ControlConfig:
    # Full resync period even when no NOTIFY arrives (belt and braces for lost notifications).
    resync_interval: int = 300
    pidfile: str = "/run/pgbackman/pgbackman_control.pid"


@dataclass(frozen=True)
class AlertsConfig:
    """``[pgbackman_alerts]``: upstream 1.1's keys and defaults, plus delivery options."""

    smtp_alerts: bool = False  # OFF: alerts are marked sent without a mail (upstream)
    alerts_check_interval: int = 300
    smtp_server: str = "localhost"
    smtp_port: int = 25
    # Upstream: SMTP over SSL, except for the server named "localhost" (plain, as upstream).
    smtp_ssl: bool = True
    smtp_starttls: bool = False  # new: STARTTLS on the plain port; wins over smtp_ssl
    smtp_user: str = ""  # login only when set
    smtp_password: str = field(default="", repr=False)
    smtp_from_address: str = ""
    smtp_ca_file: str = ""  # new: CA bundle the server certificate is checked against
    smtp_timeout: int = 30  # new: seconds for connect and every SMTP command
    alerts_template: str = "/etc/pgbackman/pgbackman_alerts.template"
    notify_urls: str = ""  # new: apprise URLs (chat, webhooks), whitespace separated
    default_recipient: str = ""  # new: mail address for alerts without a node recipient
    digest_max_items: int = 100  # new: alerts written out in full in one digest
    pidfile: str = "/run/pgbackman/pgbackman_alerts.pid"

    @property
    def urls(self) -> list[str]:
        return self.notify_urls.split()

    @property
    def smtp_mode(self) -> str:
        """``starttls``, ``ssl`` or ``plain``: how the SMTP connection is protected."""
        if self.smtp_starttls:
            return "starttls"
        if self.smtp_ssl and self.smtp_server != "localhost":
            return "ssl"
        return "plain"


@dataclass(frozen=True)
class OffsiteConfig:
    """``[pgbackman_offsite]``: how THIS backup server moves offsite copies (where they go is
    the catalog's backup server config offsite_url; credentials are the backup user's AWS
    configuration, never here)."""

    max_bandwidth: str = "0"  # bytes/s per transfer, K/M/G suffixes; 0 = unlimited
    chunk_size_mb: int = 8  # multipart part size; memory ~ (max_concurrency + 2) parts
    max_concurrency: int = 4
    connect_timeout: int = 10
    read_timeout: int = 60
    # Private 0700 directory for backups fetched by a restore ('' = <root>/offsite_staging).
    staging_dir: str = ""
    # Where this server's backups may go, whatever the catalog says (a catalog that could
    # name any endpoint could send every backup to a stranger): s3:// prefixes, and
    # endpoints ("aws" = AWS S3). Empty = no offsite transfer at all.
    allowed_urls: str = ""
    allowed_endpoints: str = ""

    @property
    def bandwidth(self) -> int:
        from pgbackman.core.offsite import parse_bandwidth

        return parse_bandwidth(self.max_bandwidth)


@dataclass(frozen=True)
class LoggingConfig:
    log_level: str = "INFO"
    log_file: str = "/var/log/pgbackman/pgbackman.log"


@dataclass(frozen=True)
class OutputConfig:
    default_output_format: str = "table"
    history_file: str = "~/.pgbackman/history"


@dataclass(frozen=True)
class Config:
    """The whole configuration; ``path`` is the file it came from (None = defaults)."""

    path: str | None = None
    backup_server: BackupServerConfig = field(default_factory=BackupServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    dump: DumpConfig = field(default_factory=DumpConfig)
    restore: RestoreConfig = field(default_factory=RestoreConfig)
    maintenance: MaintenanceConfig = field(default_factory=MaintenanceConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    offsite: OffsiteConfig = field(default_factory=OffsiteConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    @classmethod
    def load(cls, path: str | None = None) -> Config:
        """Find and parse the configuration file (see module docstring)."""
        found = find_config_file(path)
        if found is None:
            return cls()
        return parse_config_file(found)


# INI section name -> (Config attribute, dataclass)
_SECTIONS: dict[str, tuple[str, type[Any]]] = {
    "backup_server": ("backup_server", BackupServerConfig),
    "pgbackman_database": ("database", DatabaseConfig),
    "pgbackman_dump": ("dump", DumpConfig),
    "pgbackman_restore": ("restore", RestoreConfig),
    "pgbackman_maintenance": ("maintenance", MaintenanceConfig),
    "pgbackman_control": ("control", ControlConfig),
    "pgbackman_alerts": ("alerts", AlertsConfig),
    "pgbackman_offsite": ("offsite", OffsiteConfig),
    "logging": ("logging", LoggingConfig),
    "output": ("output", OutputConfig),
}
# Sections upstream configs carry that we accept and ignore.
_IGNORED_SECTIONS: set[str] = set()
# Addresses where a password may travel without TLS (the mail server is this host).
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def find_config_file(explicit: str | None = None) -> Path | None:
    """Return the first configuration file of the lookup order, or None."""
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise ConfigError(
                f"Configuration file {explicit} does not exist or is not a file"
            )
        return p
    env = os.environ.get("PGBACKMAN_CONFIG")
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(f"PGBACKMAN_CONFIG={env} does not exist or is not a file")
        return p
    candidates = []
    if os.environ.get("HOME"):
        candidates.append(Path(os.environ["HOME"]) / ".pgbackman" / "pgbackman.conf")
    candidates.append(SYSTEM_CONFIG)
    for c in candidates:
        if c.is_file():
            return c
    return None


def _convert(section: str, key: str, raw: str, default: Any) -> Any:
    raw = raw.strip()
    where = f"[{section}] {key}"
    if isinstance(default, bool):
        v = raw.upper()
        if v in ("ON", "TRUE", "YES", "1"):
            return True
        if v in ("OFF", "FALSE", "NO", "0", ""):
            return False
        raise ConfigError(f"Configuration {where} = {raw!r}: expected ON or OFF")
    if isinstance(default, int):
        if raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(
                f"Configuration {where} = {raw!r}: expected an integer"
            ) from None
        if value < 0 or (key == "port" and not 0 < value < 65536):
            raise ConfigError(f"Configuration {where} = {raw!r}: out of range")
        return value
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise ConfigError(f"Configuration {where}: control characters are not allowed")
    return raw


def parse_config_file(path: Path) -> Config:
    """Parse and validate one INI file."""
    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read configuration file {path}: {exc}") from None
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"Configuration file {path} is malformed: {first}") from None

    values: dict[str, Any] = {"path": str(path)}
    for section in parser.sections():
        if section in _IGNORED_SECTIONS:
            continue
        if section not in _SECTIONS:
            raise ConfigError(f"Configuration file {path}: unknown section [{section}]")
        attr, klass = _SECTIONS[section]
        defaults = klass()
        known = {f.name for f in fields(klass)}
        kwargs: dict[str, Any] = {}
        for key, raw in parser.items(section):
            if key not in known:
                raise ConfigError(
                    f"Configuration file {path}: unknown key [{section}] {key}"
                )
            kwargs[key] = _convert(section, key, raw, getattr(defaults, key))
        values[attr] = klass(**kwargs)

    cfg = Config(**values)
    cfg = _normalise_paths(cfg)
    _validate(cfg)
    return cfg


def _normalise_paths(cfg: Config) -> Config:
    """``/srv/pgbackman/`` means ``/srv/pgbackman``: the limits of core/authority.py compare
    normalised paths."""
    bs = cfg.backup_server
    changes = {
        key: os.path.normpath(getattr(bs, key))
        for key in ("root_backup_partition", "crontab_dir")
        if getattr(bs, key).startswith("/") and getattr(bs, key) != "/"
    }
    return dataclasses.replace(cfg, backup_server=dataclasses.replace(bs, **changes))


def _validate(cfg: Config) -> None:
    level = cfg.logging.log_level.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(
            f"Configuration [logging] log_level = {cfg.logging.log_level!r}: "
            f"expected one of {', '.join(LOG_LEVELS)}"
        )
    if cfg.output.default_output_format not in OUTPUT_FORMATS:
        raise ConfigError(
            "Configuration [output] default_output_format: expected table, csv or json"
        )
    if cfg.database.pg_connect_retry_interval < 1:
        raise ConfigError(
            "Configuration [pgbackman_database] pg_connect_retry_interval must be >= 1"
        )
    bs = cfg.backup_server
    for key in ("root_backup_partition", "crontab_dir"):
        value = getattr(bs, key)
        if not normalised_absolute(value):
            raise ConfigError(
                f"Configuration [backup_server] {key} = {value!r}: expected a normalised "
                "absolute path (not /, no . or ..)"
            )
    for key in ("pgbackman_dump", "pgbackman_restore"):
        value = getattr(bs, key)
        if value and not normalised_absolute(value):
            raise ConfigError(
                f"Configuration [backup_server] {key} = {value!r}: expected an absolute path"
                " or nothing (the program installed beside pgbackman_control)"
            )
    if cfg.maintenance.maintenance_interval < 1:
        raise ConfigError(
            "Configuration [pgbackman_maintenance] maintenance_interval must be >= 1"
        )
    _validate_alert_retention(cfg.maintenance.alert_retention)
    identity = cfg.restore.identity_file
    if identity and not Path(identity).is_absolute():
        raise ConfigError(
            "Configuration [pgbackman_restore] identity_file must be an absolute path"
        )
    _validate_alerts(cfg.alerts)
    _validate_offsite(cfg.offsite)


MIN_ALERT_RETENTION_SECONDS = (
    86400  # pgbackman_check reads the last day's integrity alerts
)


def _validate_alert_retention(value: str) -> None:
    """An interval PostgreSQL reads, from 1 day to 100 years (the catalog's function checks
    the upper bound again)."""
    where = "Configuration [pgbackman_maintenance] alert_retention"
    try:
        text = validate.interval(value, where)
    except UserInputError as exc:
        raise ConfigError(str(exc)) from None
    if validate.interval_seconds(text) < MIN_ALERT_RETENTION_SECONDS:
        raise ConfigError(
            f"{where} [{value}] is out of range: it must be at least 1 day"
        )


def _validate_offsite(o: OffsiteConfig) -> None:
    where = "Configuration [pgbackman_offsite]"
    from pgbackman.core.offsite import parse_bandwidth

    try:
        parse_bandwidth(o.max_bandwidth)
    except ValueError as exc:
        raise ConfigError(
            f"{where} max_bandwidth = {o.max_bandwidth!r}: {exc}"
        ) from None
    if not 5 <= o.chunk_size_mb <= 5120:
        # S3 parts are 5 MiB to 5 GiB (the last one excepted).
        raise ConfigError(f"{where} chunk_size_mb must be from 5 to 5120")
    if not 1 <= o.max_concurrency <= 64:
        raise ConfigError(f"{where} max_concurrency must be from 1 to 64")
    if o.connect_timeout < 1 or o.read_timeout < 1:
        raise ConfigError(f"{where} connect_timeout and read_timeout must be >= 1")
    from pgbackman.core.offsite import allowed_endpoints, allowed_urls

    for key, parse in (
        ("allowed_urls", allowed_urls),
        ("allowed_endpoints", allowed_endpoints),
    ):
        try:
            parse(getattr(o, key))
        except ValueError as exc:
            raise ConfigError(f"{where} {key}: {exc}") from None
    if o.staging_dir and not Path(o.staging_dir).is_absolute():
        raise ConfigError(f"{where} staging_dir must be an absolute path")


def _validate_alerts(a: AlertsConfig) -> None:
    where = "Configuration [pgbackman_alerts]"
    if a.alerts_check_interval < 1:
        raise ConfigError(f"{where} alerts_check_interval must be >= 1")
    if not 0 < a.smtp_port < 65536:
        raise ConfigError(f"{where} smtp_port = {a.smtp_port}: out of range")
    if a.smtp_timeout < 1 or a.digest_max_items < 1:
        raise ConfigError(f"{where} smtp_timeout and digest_max_items must be >= 1")
    for key in ("smtp_from_address", "default_recipient"):
        value = getattr(a, key)
        if value and ("@" not in value or any(c.isspace() for c in value)):
            raise ConfigError(f"{where} {key} = {value!r}: expected one e-mail address")
    if a.smtp_alerts and not a.smtp_from_address:
        raise ConfigError(f"{where} smtp_alerts = ON needs smtp_from_address")
    if (
        a.smtp_user
        and a.smtp_mode == "plain"
        and a.smtp_server.strip("[]") not in _LOOPBACK
    ):
        # Upstream logged in over plain SMTP: the password crossed the network in clear.
        raise ConfigError(
            f"{where} smtp_user is set but the connection to {a.smtp_server} is not "
            "encrypted: set smtp_ssl = ON or smtp_starttls = ON"
        )
    if a.smtp_ca_file and not Path(a.smtp_ca_file).is_absolute():
        raise ConfigError(f"{where} smtp_ca_file must be an absolute path")
