"""pgbackman_alerts against a real SMTP server (aiosmtpd) and a real HTTP receiver.

A failed dump becomes exactly one mail to the node's logs_email; 50 failures are one digest;
delivery failures are retried; login happens only when smtp_user is set; STARTTLS and SMTP
over TLS check the server certificate; alerts without a recipient go to default_recipient
or stay unsent with their reason.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from support.alerting import VENV_BIN, AlertEnv
from support.pgcluster import PgCluster
from support.receivers import HttpReceiver, MailServer

from pgbackman.catalog import alerts

DBA = "dba-team@example.net"


def _mail_config(alert_env: AlertEnv, smtpd: MailServer, **extra: Any) -> None:
    values: dict[str, Any] = {
        "smtp_alerts": "ON",
        "smtp_server": "127.0.0.1",
        "smtp_port": smtpd.port,
        "smtp_ssl": "OFF",
        "smtp_from_address": "pgbackman@backup01.example.net",
        "smtp_timeout": 10,
    }
    values.update(extra)
    alert_env.configure(**values)


def _errors(alert_env: AlertEnv, node_id: int, def_id: int, n: int) -> None:
    for i in range(n):
        alert_env.backup_row(
            def_id, node_id, "app1", "ERROR", f"{n - i} minutes", error=f"failure {i}"
        )


def test_failed_dump_on_stopped_node_is_one_mail_then_nothing(
    alert_env: AlertEnv, smtpd: MailServer, stopped_node: PgCluster
) -> None:
    node_id = alert_env.register_node(stopped_node.port, logs_email=DBA)
    def_id = alert_env.define(node_id, "sales")
    _mail_config(alert_env, smtpd)

    dump = alert_env.run("pgbackman_dump", "--def-id", str(def_id))
    assert dump.returncode == 1, dump.stderr
    [row] = alert_env.alerts()
    assert (row["alert_type"], row["sendto"], row["alert_sent"]) == (
        "Backup-def",
        DBA,
        False,
    )

    first = alert_env.run("pgbackman_alerts", "--once")
    assert first.returncode == 0, first.stderr
    [mail] = smtpd.wait_for(1)
    assert mail.rcpt_tos == [DBA]
    assert mail.mail_from == "pgbackman@backup01.example.net"
    assert "sales" in mail.subject and "Backup-def" in mail.subject
    assert "Connection refused" in mail.body, mail.body
    assert mail.message["User-Agent"].startswith("pgbackman_alerts (v.")
    assert not mail.encrypted and mail.login is None  # no smtp_user: no login

    [row] = alert_env.alerts()
    assert row["alert_sent"] and row["sent_at"] is not None
    assert row["delivered"] == ["mail"]

    second = alert_env.run("pgbackman_alerts", "--once")
    assert second.returncode == 0, second.stderr
    time.sleep(0.5)
    assert len(smtpd.messages) == 1


def test_fifty_failures_are_one_digest_per_recipient_and_one_webhook_post(
    alert_env: AlertEnv, smtpd: MailServer, webhook: HttpReceiver, node1: PgCluster
) -> None:
    node_id = alert_env.register_node(node1.port, logs_email=DBA)
    def_id = alert_env.define(node_id, "app1")
    _errors(alert_env, node_id, def_id, 50)
    _mail_config(
        alert_env,
        smtpd,
        notify_urls=f"json://127.0.0.1:{webhook.port}/hook",
        digest_max_items=10,
    )
    res = alert_env.run("pgbackman_alerts", "--once")
    assert res.returncode == 0, res.stderr
    [mail] = smtpd.wait_for(1)
    assert mail.rcpt_tos == [DBA]
    assert "50 alerts" in mail.subject and "50 Backup-def" in mail.subject
    body = mail.body
    for r in alert_env.alerts():  # one summary line per alert
        assert f"\n#{r['alert_id']} " in body
    assert body.count("Reason:") == 10  # digest_max_items alerts in full
    assert "40 more alerts are listed above only" in body
    [post] = webhook.json_posts()
    assert "50 alerts" in post["title"]
    assert post["message"].count("Backup-def") >= 50
    assert all(r["alert_sent"] for r in alert_env.alerts())
    assert {tuple(r["delivered"]) for r in alert_env.alerts()} == {("mail", "urls")}
    assert alert_env.run("pgbackman_alerts", "--once").returncode == 0
    time.sleep(0.5)
    assert len(smtpd.messages) == 1 and len(webhook.posts) == 1


def test_delivery_failure_is_recorded_and_retried(
    alert_env: AlertEnv, node1: PgCluster
) -> None:
    node_id = alert_env.register_node(node1.port, logs_email=DBA)
    _errors(alert_env, node_id, alert_env.define(node_id, "app1"), 2)
    server = MailServer()  # not started yet: its port refuses connections
    _mail_config(alert_env, server)
    res = alert_env.run("pgbackman_alerts", "--once")
    assert res.returncode == 1
    assert "Connection refused" in res.stderr
    rows = alert_env.alerts()
    assert [r["alert_sent"] for r in rows] == [False, False]
    assert all(r["delivery_attempts"] == 1 for r in rows)
    assert all("mail: SMTP server 127.0.0.1" in r["last_delivery_error"] for r in rows)

    server.start()
    try:
        res = alert_env.run("pgbackman_alerts", "--once")
        assert res.returncode == 0, res.stderr
        assert len(server.wait_for(1)) == 1
    finally:
        server.stop()
    rows = alert_env.alerts()
    assert all(r["alert_sent"] and r["last_delivery_error"] is None for r in rows)


def test_starttls_with_login_checks_the_certificate(
    alert_env: AlertEnv, node1: PgCluster, smtp_cert: tuple[Path, Path]
) -> None:
    node_id = alert_env.register_node(node1.port, logs_email=DBA)
    _errors(alert_env, node_id, alert_env.define(node_id, "app1"), 1)
    server = MailServer(
        starttls=True, user="mailer", password="s3cret-word", cert=smtp_cert
    ).start()
    try:
        _mail_config(
            alert_env,
            server,
            smtp_starttls="ON",
            smtp_user="mailer",
            smtp_password="s3cret-word",
        )
        # The system CAs do not know our self-signed certificate: refused, not sent.
        res = alert_env.run("pgbackman_alerts", "--once")
        assert res.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in res.stderr
        assert server.messages == []
        alert_env.configure(smtp_ca_file=smtp_cert[0])
        res = alert_env.run("pgbackman_alerts", "--once")
        assert res.returncode == 0, res.stderr
        [mail] = server.wait_for(1)
        assert mail.encrypted and mail.login == "mailer"
    finally:
        server.stop()
    log = (alert_env.pgb.tmp / "pgbackman.log").read_text()
    assert "s3cret-word" not in log


def test_smtp_over_tls_without_user_does_not_log_in(
    alert_env: AlertEnv, node1: PgCluster, smtp_cert: tuple[Path, Path]
) -> None:
    node_id = alert_env.register_node(node1.port, logs_email=DBA)
    _errors(alert_env, node_id, alert_env.define(node_id, "app1"), 1)
    server = MailServer(implicit_tls=True, cert=smtp_cert).start()
    try:
        _mail_config(alert_env, server, smtp_ssl="ON", smtp_ca_file=smtp_cert[0])
        res = alert_env.run("pgbackman_alerts", "--once")
        assert res.returncode == 0, res.stderr
        [mail] = server.wait_for(1)
        assert mail.encrypted and mail.login is None and server.logins == []
    finally:
        server.stop()


def test_smtp_alerts_off_marks_sent_without_mail(
    alert_env: AlertEnv, smtpd: MailServer, node1: PgCluster
) -> None:
    node_id = alert_env.register_node(node1.port, logs_email=DBA)
    _errors(alert_env, node_id, alert_env.define(node_id, "app1"), 3)
    _mail_config(alert_env, smtpd, smtp_alerts="OFF")
    assert alert_env.run("pgbackman_alerts", "--once").returncode == 0
    rows = alert_env.alerts()
    assert all(r["alert_sent"] and r["delivered"] == [] for r in rows)
    time.sleep(0.3)
    assert smtpd.messages == []


def test_server_wide_alert_goes_to_default_recipient_or_stays_unsent(
    alert_env: AlertEnv, smtpd: MailServer
) -> None:
    pgb = alert_env.pgb
    alerts.raise_alert(
        pgb.cat, alerts.Alert(alerts.CONFIG_REFUSED, pgb.server_id, "bad crontab path")
    )
    _mail_config(alert_env, smtpd)
    res = alert_env.run("pgbackman_alerts", "--once")
    assert res.returncode == 1 and "no recipient" in res.stderr
    [row] = alert_env.alerts()
    assert not row["alert_sent"] and "no recipient" in row["last_delivery_error"]

    alert_env.configure(default_recipient="oncall@example.net")
    assert alert_env.run("pgbackman_alerts", "--once").returncode == 0
    [mail] = smtpd.wait_for(1)
    assert mail.rcpt_tos == ["oncall@example.net"]
    assert "bad crontab path" in mail.body and "Config-refused" in mail.subject
    assert alert_env.alerts()[0]["alert_sent"]


def test_daemon_in_foreground_sends_and_stops_on_sigterm(
    alert_env: AlertEnv, smtpd: MailServer, node1: PgCluster
) -> None:
    node_id = alert_env.register_node(node1.port, logs_email=DBA)
    def_id = alert_env.define(node_id, "app1")
    _mail_config(
        alert_env,
        smtpd,
        alerts_check_interval=1,
        pidfile=alert_env.pgb.tmp / "alerts.pid",
    )
    proc = subprocess.Popen(
        [str(VENV_BIN / "pgbackman_alerts"), "--foreground"],
        env=alert_env.pgb.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _errors(alert_env, node_id, def_id, 1)
        assert len(smtpd.wait_for(1)) == 1
        _errors(alert_env, node_id, def_id, 1)  # a later failure: a later mail
        assert len(smtpd.wait_for(2)) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert not (alert_env.pgb.tmp / "alerts.pid").exists()


def test_each_channel_is_retried_alone_until_all_delivered(
    alert_env: AlertEnv, smtpd: MailServer, node1: PgCluster
) -> None:
    node_id = alert_env.register_node(node1.port, logs_email=DBA)
    _errors(alert_env, node_id, alert_env.define(node_id, "app1"), 1)
    broken = HttpReceiver(status=500).start()
    try:
        _mail_config(
            alert_env, smtpd, notify_urls=f"json://127.0.0.1:{broken.port}/hook"
        )
        res = alert_env.run("pgbackman_alerts", "--once")
        assert res.returncode == 1 and "notification failed" in res.stderr
        assert len(smtpd.wait_for(1)) == 1 and len(broken.posts) == 1
        [row] = alert_env.alerts()
        assert row["delivered"] == ["mail"] and not row["alert_sent"]
        assert row["last_delivery_error"].startswith("urls: notification failed")
        # Next cycle: only the webhook is tried again, the mail is not sent twice.
        assert alert_env.run("pgbackman_alerts", "--once").returncode == 1
        assert len(broken.posts) == 2
    finally:
        broken.stop()
    # The webhook is removed from the configuration: what was needed is done.
    alert_env.configure(notify_urls="")
    assert alert_env.run("pgbackman_alerts", "--once").returncode == 0
    [row] = alert_env.alerts()
    assert row["alert_sent"] and row["delivered"] == ["mail"]
    time.sleep(0.3)
    assert len(smtpd.messages) == 1


def test_alert_spooled_while_catalog_down_is_mailed_once_after_ingestion(
    alert_env: AlertEnv, smtpd: MailServer, node1: PgCluster
) -> None:
    import dataclasses

    from pgbackman.catalog.connection import Catalog
    from pgbackman.config import Config

    pgb = alert_env.pgb
    node_id = alert_env.register_node(node1.port, logs_email=DBA)
    cfg = Config.load(str(pgb.config_path))
    down = Catalog(dataclasses.replace(cfg.database, port=1), "tests")
    alert = alerts.Alert(
        alerts.LOCKED,
        pgb.server_id,
        "previous run of DefID 7 still going",
        node_id=node_id,
        dbname="app1",
    )
    assert alerts.raise_or_spool(down, pgb.root, alert) is None
    _mail_config(alert_env, smtpd)
    assert alert_env.run("pgbackman_alerts", "--once").returncode == 0
    assert alert_env.alerts() == []  # not in the catalog yet: nothing to send
    for _ in range(2):
        assert alert_env.run("pgbackman_maintenance", "--once").returncode == 0
        assert alert_env.run("pgbackman_alerts", "--once").returncode == 0
    [mail] = smtpd.wait_for(1)
    assert mail.rcpt_tos == [DBA] and "still going" in mail.body
    assert "Backup-locked" in mail.subject
    time.sleep(0.3)
    assert len(smtpd.messages) == 1
