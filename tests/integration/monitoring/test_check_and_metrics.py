"""pgbackman_check, pgbackman_metrics and the Zabbix helpers on real catalogs and dumps.

Disk thresholds are switched off except in the test about disks: how full this machine's
partitions are must not decide other tests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from support.alerting import VENV_BIN, AlertEnv, set_config
from support.pgcluster import PgCluster, free_port

from pgbackman.catalog import alerts
from pgbackman.infra import spool

NO_DISK = ("--disk-warning", "0", "--disk-critical", "0")
PERFDATA = re.compile(r"^[a-z_]+=[0-9.]+%?;[0-9.]*;[0-9.]*;[0-9.]*;[0-9.]*$")


def _healthy(alert_env: AlertEnv, node1: PgCluster) -> tuple[int, int]:
    """A node with one definition whose real pgbackman_dump run succeeded."""
    node_id = alert_env.register_node(node1.port, logs_email="dba@example.net")
    def_id = alert_env.define(node_id, "app1")
    res = alert_env.run("pgbackman_dump", "--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    return node_id, def_id


def test_check_is_ok_on_a_healthy_server(alert_env: AlertEnv, node1: PgCluster) -> None:
    _node_id, def_id = _healthy(alert_env, node1)
    res = alert_env.run("pgbackman_check", *NO_DISK)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stderr == ""
    [line] = res.stdout.splitlines()
    status, perf = line.split(" | ")
    assert status.startswith("PGBACKMAN OK - backup01.pgbackman.test: 1 active")
    assert all(PERFDATA.match(p) for p in perf.split()), perf
    assert "failed=0;1;1;0;" in perf and "stale=0;1;1;0;" in perf
    doc = json.loads(alert_env.run("pgbackman_check", "-o", "json", *NO_DISK).stdout)
    assert doc["status"] == "OK" and doc["exit_code"] == 0 and doc["problems"] == []
    [d] = doc["definitions"]
    assert (d["def_id"], d["state"], d["missing"]) == (def_id, "OK", False)


def test_check_failed_run_scope_and_thresholds(
    alert_env: AlertEnv, node1: PgCluster, node2: PgCluster
) -> None:
    node_id, def_id = _healthy(alert_env, node1)
    other = alert_env.register_node(node2.port)
    bad = alert_env.define(other, "app3")
    alert_env.backup_row(
        bad, other, "app3", "ERROR", "1 minute", error="pg_dump: permission denied"
    )
    res = alert_env.run("pgbackman_check", *NO_DISK)
    assert res.returncode == 2
    assert (
        f"FAILED app3@127.0.0.1 (DefID {bad}): last run failed: pg_dump:" in res.stdout
    )
    # Thresholds are options: one failure is only a WARNING with --failed-critical 2.
    res = alert_env.run("pgbackman_check", "--failed-critical", "2", *NO_DISK)
    assert res.returncode == 1 and res.stdout.startswith("PGBACKMAN WARNING - ")
    # Narrowed to the healthy definition, by DefID, by node (id or FQDN:port), by dbname.
    for scope in (
        ("--def-id", str(def_id)),
        ("--node", str(node_id)),
        ("--node", f"127.0.0.1:{node1.port}"),
        ("--dbname", "app1"),
    ):
        res = alert_env.run("pgbackman_check", *scope)
        assert res.returncode == 0, (scope, res.stdout)
        assert "disk_used" not in res.stdout  # server-wide items are not judged
    res = alert_env.run("pgbackman_check", "--node", "nosuch.example.org")
    assert res.returncode == 3 and "not registered" in res.stdout


def test_check_reports_missing_dump_and_integrity_alerts(
    alert_env: AlertEnv, node1: PgCluster
) -> None:
    node_id, def_id = _healthy(alert_env, node1)
    dump = alert_env.pgb.cat.query_one(
        "SELECT pg_dump_file, bck_id FROM backup_catalog WHERE def_id = %s", (def_id,)
    )
    subprocess.run(["rm", "-rf", dump["pg_dump_file"]], check=True)
    res = alert_env.run("pgbackman_check", *NO_DISK)
    assert res.returncode == 2
    assert f"MISSING app1@127.0.0.1 (DefID {def_id}): the dump of BckID" in res.stdout
    alerts.raise_alert(
        alert_env.pgb.cat,
        alerts.Alert(
            alerts.INTEGRITY,
            alert_env.pgb.server_id,
            "checksum mismatch",
            node_id=node_id,
            dbname="app1",
            bck_id=dump["bck_id"],
        ),
    )
    res = alert_env.run("pgbackman_check", "-o", "json", *NO_DISK)
    doc = json.loads(res.stdout)
    assert doc["perfdata"]["missing"] == 2
    assert {p["kind"] for p in doc["problems"]} == {"missing", "integrity"}


def test_check_catalog_unreachable_is_critical_and_bad_usage_unknown(
    alert_env: AlertEnv,
) -> None:
    set_config(alert_env.pgb.config_path, "pgbackman_database", port=free_port())
    res = alert_env.run("pgbackman_check", *NO_DISK)
    assert res.returncode == 2
    assert res.stdout.startswith(
        "PGBACKMAN CRITICAL - backup01.pgbackman.test: catalog"
    )
    assert len(res.stdout.splitlines()) == 1
    res = alert_env.run("pgbackman_check", "--stale-critical", "-1")
    assert res.returncode == 3 and res.stdout.startswith("PGBACKMAN UNKNOWN - ")
    res = alert_env.run("pgbackman_check", "--config", "/nonexistent.conf")
    assert res.returncode == 3


def test_check_pending_results_disk_and_undelivered_alerts(
    alert_env: AlertEnv, node1: PgCluster
) -> None:
    _healthy(alert_env, node1)
    pgb = alert_env.pgb
    path = spool.write_pending(
        pgb.root,
        "alert",
        alerts.Alert(alerts.MAINTENANCE, pgb.server_id, "x").to_record(),
    )
    res = alert_env.run("pgbackman_check", *NO_DISK)
    assert res.returncode == 0 and "pending=1;" in res.stdout  # young: not overdue
    old = time.time() - 3600
    os.utime(path, (old, old))
    res = alert_env.run("pgbackman_check", *NO_DISK)
    assert res.returncode == 1 and "1 pending result(s) not ingested" in res.stdout
    path.unlink()
    # Any used byte is above 0.1 %: the partition check fires.
    res = alert_env.run(
        "pgbackman_check", "--disk-warning", "0.1", "--disk-critical", "0"
    )
    assert res.returncode == 1 and f"partition {pgb.root}" in res.stdout
    # An alert nobody could deliver for more than --unsent-age minutes.
    alerts.raise_alert(
        pgb.cat,
        alerts.Alert(
            alerts.MAINTENANCE,
            pgb.server_id,
            "old trouble",
            registered="2000-01-01T00:00:00+00:00",
        ),
    )
    res = alert_env.run("pgbackman_check", *NO_DISK)
    assert res.returncode == 1 and "1 alert(s) not delivered" in res.stdout


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_parse_and_carry_every_definition(
    alert_env: AlertEnv, node1: PgCluster, tmp_path: Path
) -> None:
    node_id, def_id = _healthy(alert_env, node1)
    never = alert_env.define(node_id, "app2")
    res = alert_env.run("pgbackman_metrics")
    assert res.returncode == 0, res.stderr
    fams = _families(res.stdout)
    last_ok = {
        s.labels["def_id"]: s
        for s in fams["pgbackman_backup_last_success_timestamp_seconds"].samples
    }
    assert last_ok[str(def_id)].labels == {
        "def_id": str(def_id),
        "node": "127.0.0.1",
        "dbname": "app1",
        "server": "backup01.pgbackman.test",
    }
    finished = alert_env.pgb.su_query(
        "SELECT extract(epoch FROM finished) FROM backup_catalog WHERE def_id = %s",
        (def_id,),
    )[0][0]
    assert abs(last_ok[str(def_id)].value - float(finished)) < 1
    assert last_ok[str(never)].value == 0
    status = {
        s.labels["def_id"]: s.value
        for s in fams["pgbackman_backup_last_status"].samples
    }
    assert status == {str(def_id): 0.0, str(never): -1.0}
    [size] = fams["pgbackman_backup_last_size_bytes"].samples
    assert size.value > 0
    for name in (
        "pgbackman_backup_last_duration_seconds",
        "pgbackman_backup_stale",
        "pgbackman_pending_results",
        "pgbackman_backup_partition_free_bytes",
        "pgbackman_backup_partition_used_bytes",
        "pgbackman_alerts_unsent",
    ):
        assert fams[name].samples, name
    [up] = fams["pgbackman_catalog_up"].samples
    assert up.value == 1

    out = tmp_path / "textfile" / "pgbackman.prom"
    out.parent.mkdir()
    assert alert_env.run("pgbackman_metrics", "--output", str(out)).returncode == 0
    assert "pgbackman_catalog_up" in _families(out.read_text())
    assert [p.name for p in out.parent.iterdir()] == ["pgbackman.prom"]


def test_metrics_catalog_down_and_http_listener(alert_env: AlertEnv) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "pgbackman_metrics"), "--listen", f"127.0.0.1:{port}"],
        env=alert_env.pgb.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/metrics", timeout=5
                ) as resp:
                    text = resp.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, proc.stderr
                time.sleep(0.2)
        [up] = _families(text)["pgbackman_catalog_up"].samples
        assert up.value == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0

    set_config(alert_env.pgb.config_path, "pgbackman_database", port=free_port())
    res = alert_env.run("pgbackman_metrics")
    assert res.returncode == 0
    fams = _families(res.stdout)
    [up] = fams["pgbackman_catalog_up"].samples
    assert up.value == 0 and fams["pgbackman_pending_results"].samples


def test_monitoring_works_with_the_read_only_role(
    alert_env: AlertEnv, node1: PgCluster
) -> None:
    _healthy(alert_env, node1)
    set_config(
        alert_env.pgb.config_path, "pgbackman_database", user="pgbackman_role_ro"
    )
    res = alert_env.run("pgbackman_check", *NO_DISK)
    assert res.returncode == 0, res.stdout
    assert alert_env.run("pgbackman_metrics").returncode == 0
    res = alert_env.run("pgbackman_zabbix_autodiscovery")
    assert res.returncode == 0, res.stderr


def test_zabbix_discovery_and_status_info(
    alert_env: AlertEnv, node1: PgCluster
) -> None:
    node_id, def_id = _healthy(alert_env, node1)
    cluster = alert_env.pgb.su_query(
        "SELECT register_backup_definition(%s, %s, '', '0', '1', '*', '*', '*', 'CLUSTER',"
        " false, '7 days', 1, '', 'ACTIVE', '')",
        (alert_env.pgb.server_id, node_id),
    )[0][0]
    stopped = alert_env.define(node_id, "app2")
    alert_env.pgb.su_query(
        "UPDATE backup_definition SET job_status = 'STOPPED' WHERE def_id = %s",
        (stopped,),
    )
    res = alert_env.run(
        "pgbackman_zabbix_autodiscovery", "-b", "backup01.pgbackman.test"
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {
        "data": [
            {"{#DBNAME}": "", "{#DEFID}": cluster, "{#PGSQL_NODE}": "127.0.0.1"},
            {"{#DBNAME}": "app1", "{#DEFID}": def_id, "{#PGSQL_NODE}": "127.0.0.1"},
        ]
    }
    assert (
        res.stdout
        == json.dumps(json.loads(res.stdout), sort_keys=True, indent=2) + "\n"
    )
    res = alert_env.run("pgbackman_zabbix_autodiscovery", "-b", "nosuch.example.org")
    assert res.returncode == 1 and "not registered" in res.stderr

    def info(*args: str) -> tuple[int, str]:
        r = alert_env.run("pgbackman_status_info", *args)
        return r.returncode, r.stdout.strip()

    assert info("-p", "backup_last_status", "-d", str(def_id)) == (0, "succeeded")
    assert info("-p", "backup_last_status", "-d", str(cluster)) == (0, "unknown")
    assert info("-p", "backup_stale", "-d", str(def_id)) == (0, "0")
    assert info("-p", "backup_stale", "-d", "999999") == (0, "unknown")
    assert info("-p", "job_queue") == (0, str(_queue(alert_env, None)))
    assert info("-p", "job_queue", "-b", "backup01.pgbackman.test") == (
        0,
        str(_queue(alert_env, alert_env.pgb.server_id)),
    )
    assert info("-p", "backup_last_status")[0] == 2  # -d is required here
    assert info("-p", "nonsense")[0] == 2


def _queue(alert_env: AlertEnv, server_id: int | None) -> int:
    return int(
        alert_env.pgb.su_query(
            "SELECT count(*) FROM job_queue WHERE %s::int IS NULL OR backup_server_id = %s",
            (server_id, server_id),
        )[0][0]
    )
