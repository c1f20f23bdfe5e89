"""A STALE definition is told everywhere: one alert per episode (mail), pgbackman_check
exit 2, pgbackman_metrics ``pgbackman_backup_stale 1``, show_backup_status; a new success
ends the episode.

Catalog times are ``now() - interval``; the hourly schedule fires every hour in any zone, so
the verdicts do not depend on the date or the zone.
"""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from support.alerting import AlertEnv
from support.pgcluster import PgCluster
from support.receivers import MailServer

DBA = "dba@example.net"


def _samples(text: str, name: str) -> dict[str, float]:
    """def_id -> value of one per-definition metric."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[s.labels["def_id"]] = s.value
    return out


def _dump_file(alert_env: AlertEnv, name: str) -> Path:
    d = alert_env.pgb.root / "dumps"
    d.mkdir(exist_ok=True)
    f = d / name
    f.mkdir()
    (f / "toc.dat").write_bytes(b"PGDMP")
    return f


def test_three_day_old_only_good_backup_on_hourly_schedule_is_stale(
    alert_env: AlertEnv, smtpd: MailServer, node1: PgCluster
) -> None:
    node_id = alert_env.register_node(node1.port, logs_email=DBA)
    stale_def = alert_env.define(node_id, "app1", minutes="0", hours="*")
    alert_env.backup_row(
        stale_def,
        node_id,
        "app1",
        "SUCCEEDED",
        "3 days",
        dump_file=_dump_file(alert_env, "old"),
    )
    fresh_def = alert_env.define(node_id, "app2", minutes="0", hours="*")
    alert_env.backup_row(
        fresh_def,
        node_id,
        "app2",
        "SUCCEEDED",
        "5 minutes",
        dump_file=_dump_file(alert_env, "new"),
    )
    alert_env.configure(
        smtp_alerts="ON",
        smtp_server="127.0.0.1",
        smtp_port=smtpd.port,
        smtp_ssl="OFF",
        smtp_from_address="pgbackman@example.net",
    )

    # Maintenance raises one Backup-stale alert, and only one however many passes see it.
    for _ in range(2):
        res = alert_env.run("pgbackman_maintenance", "--once")
        assert res.returncode == 0, res.stderr
    [alert] = alert_env.alerts()
    assert (alert["alert_type"], alert["ref_id"], alert["sendto"]) == (
        "Backup-stale",
        stale_def,
        DBA,
    )
    assert "STALE" in alert["error_message"] and "app1" in alert["error_message"]

    # ... by mail,
    assert alert_env.run("pgbackman_alerts", "--once").returncode == 0
    [mail] = smtpd.wait_for(1)
    assert mail.rcpt_tos == [DBA] and "Backup-stale" in mail.subject
    assert "app1" in mail.subject and "no successful backup since" in mail.body

    # ... by pgbackman_check (exit 2, one line naming the definition),
    check = alert_env.run("pgbackman_check")
    assert check.returncode == 2, check.stdout + check.stderr
    [line] = check.stdout.splitlines()
    assert line.startswith("PGBACKMAN CRITICAL - ") and "STALE app1@" in line
    assert f"(DefID {stale_def})" in line and "stale=1;1;1;0;" in line
    detail = json.loads(alert_env.run("pgbackman_check", "-o", "json").stdout)
    states = {d["def_id"]: d["state"] for d in detail["definitions"]}
    assert states == {stale_def: "STALE", fresh_def: "OK"}

    # ... by the metrics (parsed with prometheus_client's own parser),
    metrics = alert_env.run("pgbackman_metrics")
    assert metrics.returncode == 0, metrics.stderr
    stale = _samples(metrics.stdout, "pgbackman_backup_stale")
    assert stale == {str(stale_def): 1.0, str(fresh_def): 0.0}
    last_ok = _samples(
        metrics.stdout, "pgbackman_backup_last_success_timestamp_seconds"
    )
    assert last_ok[str(fresh_def)] - last_ok[str(stale_def)] > 2.9 * 86400

    # ... and in the shell's fleet view.
    shell = alert_env.run("pgbackman", "-o", "json", "-C", "show_backup_status all")
    assert shell.returncode == 0, shell.stderr
    [node] = json.loads(shell.stdout)["backup_status"]
    assert (node["ok"], node["stale"], node["failed"]) == (1, 1, 0)

    # A new success ends the episode: check is OK again, and the next staleness alerts anew.
    alert_env.backup_row(
        stale_def,
        node_id,
        "app1",
        "SUCCEEDED",
        "1 minute",
        dump_file=_dump_file(alert_env, "now"),
    )
    assert alert_env.run("pgbackman_maintenance", "--once").returncode == 0
    assert alert_env.pgb.su_query("SELECT count(*) FROM alert_episode")[0][0] == 0
    # (disk thresholds off: how full this machine's /tmp is is not this test's business)
    check = alert_env.run(
        "pgbackman_check", "--disk-warning", "0", "--disk-critical", "0"
    )
    assert check.returncode == 0, check.stdout
    assert len(alert_env.alerts()) == 1
