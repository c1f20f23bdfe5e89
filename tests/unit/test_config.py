"""Configuration: lookup order, typing, and one clear error naming the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgbackman.config import Config, find_config_file
from pgbackman.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_full_file_is_typed(tmp_path: Path) -> None:
    p = write(
        tmp_path / "c.conf",
        "[backup_server]\nbackup_server = bs1.example.org\n"
        "[pgbackman_database]\nhost = db.example.org\nport = 5433\nuser = u\n"
        "pg_connect_retry_interval = 3\n"
        "[pgbackman_dump]\ntmp_dir = /var/tmp\npause_recovery_process_on_slave = on\n"
        "[pgbackman_maintenance]\nmaintenance_interval = 30\n"
        "[logging]\nlog_level = debug\nlog_file = /tmp/x.log\n"
        "[pgbackman_alerts]\nsmtp_alerts = OFF\n",
    )
    cfg = Config.load(str(p))
    assert cfg.path == str(p)
    assert cfg.backup_server.fqdn == "bs1.example.org"
    assert cfg.database.port == 5433 and cfg.database.host == "db.example.org"
    assert cfg.database.pg_connect_retry_interval == 3
    assert cfg.dump.pause_recovery_process_on_slave is True
    assert cfg.maintenance.maintenance_interval == 30
    assert cfg.maintenance.alert_retention == "90 days"  # the default
    assert cfg.logging.log_level == "debug"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[pgbackman_database]\nport = abc\n", "[pgbackman_database] port"),
        ("[pgbackman_database]\nport = 70000\n", "[pgbackman_database] port"),
        (
            "[pgbackman_database]\nnonsense = 1\n",
            "unknown key [pgbackman_database] nonsense",
        ),
        ("[nosuch]\na = 1\n", "unknown section [nosuch]"),
        (
            "[pgbackman_dump]\npause_recovery_process_on_slave = maybe\n",
            "pause_recovery",
        ),
        ("[logging]\nlog_level = LOUD\n", "log_level"),
        ("no section header\n", "malformed"),
        ("[pgbackman_maintenance]\nmaintenance_interval = 0\n", "maintenance_interval"),
        ("[pgbackman_maintenance]\nalert_retention = forever\n", "alert_retention"),
        ("[pgbackman_maintenance]\nalert_retention = 2 hours\n", "at least 1 day"),
        ("[pgbackman_maintenance]\nalert_retention = 101 years\n", "alert_retention"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    p = write(tmp_path / "bad.conf", text)
    with pytest.raises(ConfigError) as info:
        Config.load(str(p))
    msg = str(info.value)
    assert fragment in msg
    assert "\n" not in msg


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".pgbackman").mkdir(parents=True)
    home_conf = write(
        home / ".pgbackman" / "pgbackman.conf", "[logging]\nlog_level = INFO\n"
    )
    env_conf = write(tmp_path / "env.conf", "[logging]\nlog_level = INFO\n")
    explicit = write(tmp_path / "explicit.conf", "[logging]\nlog_level = INFO\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PGBACKMAN_CONFIG", str(env_conf))
    assert find_config_file(str(explicit)) == explicit
    assert find_config_file() == env_conf
    monkeypatch.delenv("PGBACKMAN_CONFIG")
    assert find_config_file() == home_conf
    monkeypatch.delenv("HOME")  # upstream PR #52: no crash without HOME
    found = find_config_file()
    assert found is None or found == Path("/etc/pgbackman/pgbackman.conf")


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Config.load(str(tmp_path / "nope.conf"))


def test_password_not_in_repr(tmp_path: Path) -> None:
    p = write(tmp_path / "c.conf", "[pgbackman_database]\npassword = s3cret\n")
    cfg = Config.load(str(p))
    assert cfg.database.password == "s3cret"
    assert "s3cret" not in repr(cfg)


def test_alerts_section_upstream_keys_and_new_ones(tmp_path: Path) -> None:
    p = write(
        tmp_path / "a.conf",
        "[pgbackman_alerts]\nsmtp_alerts = ON\nalerts_check_interval = 60\n"
        "smtp_server = mail.example.org\nsmtp_port = 587\nsmtp_ssl = ON\n"
        "smtp_starttls = ON\nsmtp_user = u\nsmtp_password = p\n"
        "smtp_from_address = pgbackman@example.org\n"
        "alerts_template = /etc/pgbackman/t\n"
        "notify_urls = json://h/a  slack://x/y/z\n",
    )
    a = Config.load(str(p)).alerts
    assert a.smtp_alerts and a.alerts_check_interval == 60 and a.smtp_port == 587
    assert a.smtp_mode == "starttls"  # STARTTLS wins over smtp_ssl
    assert a.urls == ["json://h/a", "slack://x/y/z"]
    assert "smtp_password" not in repr(a)


def test_alerts_smtp_modes_follow_upstream() -> None:
    from pgbackman.config import AlertsConfig

    assert AlertsConfig().smtp_mode == "plain"  # localhost: upstream's plain SMTP
    assert AlertsConfig(smtp_server="mail.example.org").smtp_mode == "ssl"
    assert (
        AlertsConfig(smtp_server="mail.example.org", smtp_ssl=False).smtp_mode
        == "plain"
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "smtp_server = mail.example.org\nsmtp_ssl = OFF\nsmtp_user = u\n",
            "not encrypted",
        ),
        ("smtp_alerts = ON\n", "needs smtp_from_address"),
        ("smtp_from_address = not-an-address\n", "smtp_from_address"),
        ("default_recipient = a@b c@d\n", "default_recipient"),
        ("alerts_check_interval = 0\n", "alerts_check_interval"),
        ("smtp_ca_file = relative.pem\n", "smtp_ca_file"),
    ],
)
def test_bad_alerts_values_are_refused(
    tmp_path: Path, text: str, fragment: str
) -> None:
    p = write(tmp_path / "bad.conf", "[pgbackman_alerts]\n" + text)
    with pytest.raises(ConfigError, match=fragment):
        Config.load(str(p))


def test_login_over_plain_smtp_to_this_host_is_allowed(tmp_path: Path) -> None:
    p = write(
        tmp_path / "c.conf",
        "[pgbackman_alerts]\nsmtp_server = 127.0.0.1\nsmtp_ssl = OFF\nsmtp_user = u\n",
    )
    assert Config.load(str(p)).alerts.smtp_user == "u"
