"""``pgbackman_control --once``: idempotent full resync, isolation of a bad node, confinement
of node deletion, at jobs in the backup server's local time zone."""

from __future__ import annotations

import json

import datetime as dt
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from ctl_helpers import (
    FakeJobs,
    crontab_path,
    job_lines,
    register_definition,
    rewrite_config,
    run_once,
)

from support.pgbenv import PgbEnv


def _extra_node(pgb_env: PgbEnv, port: int, status: str = "RUNNING") -> int:
    return int(
        pgb_env.su_query(
            "SELECT register_pgsql_node(%s, %s, %s, %s, %s, %s)",
            ("extra", "example.org", port, "postgres", status, "extra"),
        )[0][0]
    )


def test_once_twice_gives_identical_files(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs
) -> None:
    node_id = pgb_env.register_node(node1, "RUNNING")
    d1 = register_definition(pgb_env, node_id, "app1")
    d2 = register_definition(pgb_env, node_id, "50%off", minutes="*/15", hours="*")
    res = run_once(pgb_env)
    assert res.returncode == 0, res.stderr
    path = crontab_path(pgb_env, node_id)
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    assert sorted(a[-1] for _f, _u, a in job_lines(path)) == sorted([str(d1), str(d2)])
    res = run_once(pgb_env)
    assert res.returncode == 0, res.stderr
    assert path.read_bytes() == first and path.stat().st_mtime_ns == mtime
    # The queue was drained by the first run.
    assert pgb_env.su_query("SELECT count(*) FROM job_queue", None) == [(0,)]


def test_unregistered_server_fails_with_one_line(pgb_env: PgbEnv) -> None:
    rewrite_config(pgb_env, "backup_server", backup_server="nothere.example.org")
    res = run_once(pgb_env)
    assert res.returncode == 1
    assert "nothere.example.org is not registered" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_bad_usage_exits_2(pgb_env: PgbEnv) -> None:
    res = run_once(pgb_env, "--foreground")
    assert res.returncode == 2


def test_one_bad_node_does_not_stop_the_others(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs
) -> None:
    good = pgb_env.register_node(node1, "RUNNING")
    bad = _extra_node(pgb_env, 20001)
    register_definition(pgb_env, good, "app1")
    register_definition(pgb_env, bad, "appx")
    # Its crontab file cannot be written: a directory stands in its place.
    (crontab_path(pgb_env, bad)).mkdir()
    res = run_once(pgb_env)
    assert res.returncode == 1
    assert len(job_lines(crontab_path(pgb_env, good))) == 1
    log = (pgb_env.tmp / "pgbackman.log").read_text()
    assert re.search(rf"PgSQL node {bad}: Cannot write crontab file", log), log[-2000:]
    crontab_path(pgb_env, bad).rmdir()
    # A name cron would ignore is refused, not written.
    pgb_env.su_query(
        "UPDATE pgsql_node_config SET value = %s WHERE node_id = %s AND parameter = %s",
        (f"{pgb_env.cron_dir}/pgsql_node_{bad}.conf", bad, "pgnode_crontab_file"),
    )
    assert run_once(pgb_env).returncode == 1
    assert not (pgb_env.cron_dir / f"pgsql_node_{bad}.conf").exists()
    assert "cron ignores file names" in (pgb_env.tmp / "pgbackman.log").read_text()


def test_node_partition_outside_the_root_is_never_used_nor_deleted(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs
) -> None:
    """Issue 11 items 2 and 4: a node partition set outside the local root_backup_partition
    was created (as root) and, with the node deleted, removed. Now it is refused: logged, one
    Config-refused alert, nothing created, nothing deleted; the other node is served."""
    inside = pgb_env.register_node(node1, "RUNNING")
    outside = _extra_node(pgb_env, 20002)
    out_dir = pgb_env.tmp / "elsewhere" / f"pgsql_node_{outside}"
    pgb_env.su_query(
        "UPDATE pgsql_node_config SET value = %s WHERE node_id = %s AND parameter = %s",
        (str(out_dir), outside, "pgnode_backup_partition"),
    )
    defs = [register_definition(pgb_env, n, "app1") for n in (inside, outside)]
    for _ in range(2):
        assert run_once(pgb_env).returncode == 1  # the refusal is reported
    assert not out_dir.exists() and not crontab_path(pgb_env, outside).exists()
    assert len(job_lines(crontab_path(pgb_env, inside))) == 1
    log = (pgb_env.tmp / "pgbackman.log").read_text()
    assert "lie only inside root_backup_partition" in log
    alerts = pgb_env.su_query(
        "SELECT pgsql_node_id, error_message FROM alerts WHERE alert_type = 'Config-refused'"
    )
    assert len(alerts) == 1 and alerts[0][0] == outside  # one alert per episode
    assert "pgnode_backup_partition" in alerts[0][1]

    # As if an earlier version had used it: control remembers it as the node's partition.
    (out_dir / "dump").mkdir(parents=True)
    (out_dir / "dump" / "precious").write_text("keep me")
    state_file = pgb_env.root / "cache_dir" / "control_nodes.json"
    state = json.loads(state_file.read_text())
    state[str(outside)] = {"crontab_file": "", "partition": str(out_dir)}
    state_file.write_text(json.dumps(state))
    in_dir = pgb_env.root / f"pgsql_node_{inside}"
    assert (in_dir / "log").is_dir()
    for d in defs:
        pgb_env.operator.call("delete_backup_definition_id", d)
    for n in (inside, outside):
        pgb_env.operator.call("delete_pgsql_node", n)
    assert run_once(pgb_env).returncode == 1  # the refusal is reported
    assert not in_dir.exists() and not crontab_path(pgb_env, inside).exists()
    assert (out_dir / "dump" / "precious").read_text() == "keep me"
    assert pgb_env.su_query("SELECT count(*) FROM pgsql_node_to_delete", None) == [(0,)]


def test_crontab_file_outside_crontab_dir_is_never_written(
    pgb_env: Any, node1: Any, fake_jobs: FakeJobs
) -> None:
    """Issue 11 item 4: pgnode_crontab_file may name any file (even /etc/passwd would pass
    the name check). Only files directly inside [backup_server] crontab_dir are written."""
    node = pgb_env.register_node(node1, "RUNNING")
    register_definition(pgb_env, node, "app1")
    victim_dir = pgb_env.tmp / "etc"
    victim_dir.mkdir()
    victim = victim_dir / "passwd"
    victim.write_text("root:x:0:0:root:/root:/bin/bash\n")
    for target in (victim, pgb_env.cron_dir / "sub" / "pgsql_node_x"):
        pgb_env.su_query(
            "UPDATE pgsql_node_config SET value = %s WHERE node_id = %s AND parameter = %s",
            (str(target), node, "pgnode_crontab_file"),
        )
        assert run_once(pgb_env).returncode == 1
        assert not target.exists() or target == victim
    assert victim.read_text() == "root:x:0:0:root:/root:/bin/bash\n"
    assert (
        "only directly inside crontab_dir"
        in (pgb_env.tmp / "pgbackman.log").read_text()
    )
    assert pgb_env.su_query(
        "SELECT count(*) FROM alerts WHERE alert_type = 'Config-refused'"
    ) == [(1,)]
    # Back inside crontab_dir: written again, and the refusal episode is over.
    pgb_env.su_query(
        "UPDATE pgsql_node_config SET value = %s WHERE node_id = %s AND parameter = %s",
        (str(crontab_path(pgb_env, node)), node, "pgnode_crontab_file"),
    )
    assert run_once(pgb_env).returncode == 0
    assert len(job_lines(crontab_path(pgb_env, node))) == 1
    assert pgb_env.su_query("SELECT count(*) FROM alert_episode") == [(0,)]


def test_restore_at_job_in_local_time_zone(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs
) -> None:
    node_id = pgb_env.register_node(node1, "RUNNING")
    def_id = register_definition(pgb_env, node_id, "app1")
    bck_id = pgb_env.su_query(
        "INSERT INTO backup_catalog (def_id, backup_server_id, pgsql_node_id, dbname,"
        " global_log_file, execution_status, backup_code) VALUES (%s, %s, %s, 'app1', '/x.log',"
        " 'SUCCEEDED', 'FULL') RETURNING bck_id",
        (def_id, pgb_env.server_id, node_id),
    )[0][0]
    at_time = pgb_env.su_query(
        "SELECT date_trunc('minute', now()) + interval '3 hours'", None
    )[0][0]
    restore_def = int(
        pgb_env.operator.call(
            "register_restore_definition",
            at_time,
            pgb_env.server_id,
            node_id,
            bck_id,
            "app1_copy",
            "",
            "",
            None,
        )
    )
    env = dict(pgb_env.env, TZ="America/New_York")
    res = subprocess.run(
        ["pgbackman_control", "--once", "--config", str(pgb_env.config_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert pgb_env.su_query(
        "SELECT status FROM restore_definition WHERE restore_def = %s", (restore_def,)
    ) == [("DEFINED",)]
    # The config path is unique to this test: never touch another at job on the machine.
    job = _find_at_job(f"--config {pgb_env.config_path} --restore-def {restore_def}")
    try:
        assert job is not None
        _number, when = job
        # atq (in UTC here) shows the instant asked for, whatever the daemon's zone was.
        # atq pads the day with a space ("Dec  2"): compare instants, never strings.
        queued = dt.datetime.strptime(when, "%a %b %d %H:%M:%S %Y").replace(
            tzinfo=dt.UTC
        )
        assert queued == at_time.astimezone(dt.UTC), (when, at_time)
    finally:
        if job is not None:
            subprocess.run(["atrm", job[0]], check=False)


def _find_at_job(needle: str) -> tuple[str, str] | None:
    env = dict(os.environ, TZ="UTC")
    out = subprocess.run(
        ["atq"], capture_output=True, text=True, env=env, check=False
    ).stdout
    for line in out.splitlines():
        parts = line.split("\t")
        number = parts[0].strip()
        body = subprocess.run(
            ["at", "-c", number], capture_output=True, text=True, check=False
        ).stdout
        if needle in body:
            when = parts[1].rsplit(" ", 2)[0] if len(parts) > 1 else ""
            return number, when
    return None


def test_help_shows_options() -> None:
    res = subprocess.run(
        ["pgbackman_control", "--help"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PATH=f"{Path(os.sys.executable).parent}:/usr/bin:/bin"),
        check=False,
    )
    assert res.returncode == 0
    for opt in ("--config", "--foreground", "--once"):
        assert opt in res.stdout
