"""show_alerts and show_backup_status through the real shell, in table, csv and json."""

from __future__ import annotations

import csv
import io
import json

from support.alerting import AlertEnv
from support.pgcluster import PgCluster

from pgbackman.catalog import alerts


def _shell(alert_env: AlertEnv, command: str, fmt: str = "table") -> str:
    res = alert_env.run("pgbackman", "-o", fmt, "-C", command)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_show_backup_status_counts_ok_stale_failed_inactive_per_node(
    alert_env: AlertEnv, node1: PgCluster, node2: PgCluster
) -> None:
    n1 = alert_env.register_node(node1.port)
    n2 = alert_env.register_node(node2.port)
    ok = alert_env.define(n1, "app1")
    alert_env.backup_row(ok, n1, "app1", "SUCCEEDED", "10 minutes")
    stale = alert_env.define(n1, "app2")
    alert_env.backup_row(stale, n1, "app2", "SUCCEEDED", "2 days")
    failed = alert_env.define(n2, "app3")
    alert_env.backup_row(failed, n2, "app3", "ERROR", "5 minutes", error="disk full")
    stopped = alert_env.define(n2, "app4")
    alert_env.pgb.su_query(
        "UPDATE backup_definition SET job_status = 'STOPPED' WHERE def_id = %s",
        (stopped,),
    )
    rows = json.loads(_shell(alert_env, "show_backup_status all", "json"))
    by_node = {r["nodeid"]: r for r in rows["backup_status"]}
    assert {
        k: (r["ok"], r["stale"], r["failed"], r["inactive"]) for k, r in by_node.items()
    } == {
        n1: (1, 1, 0, 0),
        n2: (0, 0, 1, 1),
    }
    assert by_node[n1]["definitions"] == 2
    table = _shell(alert_env, "show_backup_status ''")
    assert table.count("| backup01.pgbackman.test |") == 2  # one line per node
    parsed = list(
        csv.reader(io.StringIO(_shell(alert_env, "show_backup_status all", "csv")))
    )
    assert parsed[0] == [
        "backup_server",
        "nodeid",
        "pgsql_node",
        "definitions",
        "ok",
        "stale",
        "failed",
        "inactive",
    ]
    assert len(parsed) == 3


def test_show_alerts_filters_sent_and_unsent(
    alert_env: AlertEnv, node1: PgCluster
) -> None:
    node_id = alert_env.register_node(node1.port, logs_email="dba@example.net")
    d = alert_env.define(node_id, "app1")
    alert_env.backup_row(
        d, node_id, "app1", "ERROR", "3 minutes", error="first\nfailure"
    )
    alert_env.backup_row(d, node_id, "app1", "ERROR", "1 minute", error="second")
    first, second = (r["alert_id"] for r in alert_env.alerts())
    alerts.record_delivery(alert_env.pgb.cat, [first], alerts.MAIL, [alerts.MAIL])
    alerts.record_delivery_failure(
        alert_env.pgb.cat, [second], alerts.MAIL, "SMTP server down"
    )

    def ids(which: str) -> list[int]:
        doc = json.loads(_shell(alert_env, f"show_alerts all {which}", "json"))
        return [r["alertid"] for r in doc["alerts"]]

    assert ids("all") == [second, first]  # newest first
    assert ids("sent") == [first]
    assert ids("unsent") == [second]
    [row] = json.loads(_shell(alert_env, "show_alerts '' unsent", "json"))["alerts"]
    assert (row["type"], row["dbname"], row["refid"], row["sent"], row["attempts"]) == (
        "Backup-def",
        "app1",
        d,
        False,
        1,
    )
    assert row["delivery_error"] == "mail: SMTP server down"
    [sent] = json.loads(_shell(alert_env, "show_alerts all sent", "json"))["alerts"]
    assert sent["message"] == "first failure" and sent["sent_at"] is not None
    table = _shell(alert_env, "show_alerts all all")
    assert "SMTP server down" in table and "first failure" in table
    # The filters are echoed as understood: '' and * are unsent and all.
    assert "# Sent: unsent\n" in _shell(alert_env, "show_alerts all ''")
    assert "# Sent: all\n" in _shell(alert_env, "show_alerts all '*'")
    res = alert_env.run("pgbackman", "-C", "show_alerts all maybe")
    assert res.returncode == 1 and "sent, unsent or all" in res.stdout + res.stderr


def test_update_pgsql_node_config_takes_stale_backup_grace_last(
    alert_env: AlertEnv, node1: PgCluster
) -> None:
    node_id = alert_env.register_node(node1.port)
    empty = ['""'] * 19
    res = alert_env.run(
        "pgbackman",
        "-C",
        f"update_pgsql_node_config {node_id} {' '.join(empty)} '6 hours'",
    )
    assert res.returncode == 0, res.stdout + res.stderr
    grace = alert_env.pgb.su_query(
        "SELECT value FROM pgsql_node_config WHERE node_id = %s"
        " AND parameter = 'stale_backup_grace'",
        (node_id,),
    )
    assert grace == [("6 hours",)]
    res = alert_env.run(
        "pgbackman",
        "-C",
        f"update_pgsql_node_config {node_id} {' '.join(empty)} 'soon'",
    )
    assert res.returncode == 1 and "Stale backup grace" in res.stdout + res.stderr
