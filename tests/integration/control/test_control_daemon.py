"""pgbackman_control running for real (``--foreground`` subprocess) against the test catalog."""

from __future__ import annotations

import pytest

import os
import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

from ctl_helpers import (
    Daemon,
    FakeJobs,
    crontab_path,
    job_lines,
    register_definition,
    rewrite_config,
    set_node_status,
    wait_for,
)

from support.pgbenv import PgbEnv
from pgbackman.core.cron import cron_unescape


def _expected_argv(pgb_env: PgbEnv, fake: FakeJobs, def_id: int) -> list[str]:
    return [
        str(fake.dump),
        "--config",
        str(pgb_env.config_path),
        "--def-id",
        str(def_id),
    ]


def test_definition_line_within_a_second_and_safe_under_sh(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs, control: Daemon
) -> None:
    node_id = pgb_env.register_node(node1, "RUNNING")
    marker = Path(f"/tmp/P{os.getpid()}")  # short: database names are at most 63 bytes
    marker.unlink(missing_ok=True)
    hostile = f"we'ird db; $(touch {marker}) host=evil %x\\z"
    t0 = time.monotonic()
    def_id = register_definition(pgb_env, node_id, hostile)
    path = crontab_path(pgb_env, node_id)
    lines = wait_for(lambda: job_lines(path), timeout=5)
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0, f"crontab line took {elapsed:.2f}s"
    assert lines == [
        (
            ["41", "01", "*", "*", "*"],
            "root",
            _expected_argv(pgb_env, fake_jobs, def_id),
        )
    ]
    assert path.stat().st_mode & 0o7777 == 0o644
    assert hostile not in path.read_text()  # only ids and paths travel through cron

    # Run the command part exactly as cron would: strip 5 fields + user, apply cron's %
    # rules, hand it to /bin/sh -c.
    raw = next(ln for ln in path.read_text().splitlines() if ln.startswith("41 01 "))
    command, stdin = cron_unescape(raw.split(None, 6)[6])
    assert stdin is None
    res = subprocess.run(
        ["/bin/sh", "-c", command],
        env=pgb_env.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert fake_jobs.calls() == [
        [
            "pgbackman_dump",
            "--config",
            str(pgb_env.config_path),
            "--def-id",
            str(def_id),
        ]
    ]
    assert not marker.exists()

    # Directories and cache for the node, with the documented modes.
    part = pgb_env.root / f"pgsql_node_{node_id}"
    for d in (
        pgb_env.root,
        pgb_env.root / "pending_updates",
        pgb_env.root / "cache_dir",
        part,
        part / "dump",
        part / "log",
    ):
        assert d.is_dir() and d.stat().st_mode & 0o7777 == 0o700, d
    assert (pgb_env.root / "cache_dir" / f"pgsql_node_{node_id}.json").exists()
    assert (pgb_env.root / "cache_dir" / "backup_server.json").exists()
    # No temp files left beside the crontab file.
    assert sorted(p.name for p in pgb_env.cron_dir.iterdir()) == [path.name]


def test_stopped_empties_running_restores_delete_removes(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs, control: Daemon
) -> None:
    node_id = pgb_env.register_node(node1, "RUNNING")
    def_id = register_definition(pgb_env, node_id, "app1")
    path = crontab_path(pgb_env, node_id)
    wait_for(lambda: job_lines(path))

    set_node_status(pgb_env, node_id, "STOPPED")
    wait_for(lambda: path.exists() and not job_lines(path))
    assert path.read_text().startswith(f"# File: {path}\n")  # header kept, no job line

    set_node_status(pgb_env, node_id, "RUNNING")
    assert wait_for(lambda: job_lines(path))[0][2][-1] == str(def_id)

    # Definition STOPPED -> line goes; deleted -> file empty of jobs; node deleted -> all gone.
    pgb_env.operator.call("delete_backup_definition_id", def_id)
    wait_for(lambda: not job_lines(path))
    cache_file = pgb_env.root / "cache_dir" / f"pgsql_node_{node_id}.json"
    part = pgb_env.root / f"pgsql_node_{node_id}"
    assert part.is_dir() and cache_file.exists()
    pgb_env.operator.call("delete_pgsql_node", node_id)
    wait_for(
        lambda: not path.exists() and not part.exists() and not cache_file.exists()
    )
    assert pgb_env.su_query(
        "SELECT count(*) FROM pgsql_node_to_delete WHERE pgsql_node_id = %s", (node_id,)
    ) == [(0,)]
    assert (
        pgb_env.root.is_dir()
        and (pgb_env.root / "cache_dir" / "backup_server.json").exists()
    )


def test_snapshot_becomes_an_at_job_that_atd_runs(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs, control: Daemon
) -> None:
    node_id = pgb_env.register_node(node1, "RUNNING")
    snap_id = int(
        pgb_env.operator.call(
            "register_snapshot_definition",
            pgb_env.server_id,
            node_id,
            "app1",
            None,
            "FULL",
            "7 days",
            "",
            "test",
            None,
        )
    )
    wait_for(
        lambda: (
            pgb_env.su_query(
                "SELECT status FROM snapshot_definition WHERE snapshot_id = %s",
                (snap_id,),
            )
            == [("DEFINED",)]
        ),
        timeout=10,
    )
    # atd runs `at now` jobs at once; its granularity is one minute at worst.
    calls = wait_for(fake_jobs.calls, timeout=75, step=0.5)
    assert calls == [
        [
            "pgbackman_dump",
            "--config",
            str(pgb_env.config_path),
            "--snapshot-id",
            str(snap_id),
        ]
    ]


@pytest.mark.slow
def test_catalog_restart_then_definition_gives_one_line(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs, catalog_cluster: Any
) -> None:
    # A long retry interval makes sure the definition is registered while disconnected.
    rewrite_config(pgb_env, "pgbackman_database", pg_connect_retry_interval=4)
    node_id = pgb_env.register_node(node1, "RUNNING")
    d1 = register_definition(pgb_env, node_id, "app1")
    daemon = Daemon(pgb_env).start()
    try:
        path = crontab_path(pgb_env, node_id)
        wait_for(lambda: job_lines(path))
        pgb_env.cat.close()
        pgb_env.operator.close()
        try:
            catalog_cluster.restart()
        finally:
            if not (catalog_cluster.datadir / "postmaster.pid").exists():
                catalog_cluster.start()
        d2 = register_definition(pgb_env, node_id, "app2")
        # Not there yet (daemon still waiting to reconnect) ...
        assert [a[-1] for _f, _u, a in job_lines(path)] == [str(d1)]
        # ... and exactly once after the reconnect's LISTEN + full resync.
        wait_for(lambda: len(job_lines(path)) == 2, timeout=20)
        ids = sorted(a[-1] for _f, _u, a in job_lines(path))
        assert ids == sorted([str(d1), str(d2)])
        assert "reconnecting" in daemon.log()
        # Still listening after the reconnect.
        d3 = register_definition(pgb_env, node_id, "app3")
        wait_for(lambda: str(d3) in [a[-1] for _f, _u, a in job_lines(path)], timeout=3)
    finally:
        assert daemon.stop() == 0


def test_burst_of_1000_definitions(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs, control: Daemon
) -> None:
    nodes = [
        int(
            pgb_env.su_query(
                "SELECT register_pgsql_node(%s, %s, %s, %s, %s, %s)",
                ("burst", "example.org", 20000 + i, "postgres", "RUNNING", "burst"),
            )[0][0]
        )
        for i in range(10)
    ]
    time.sleep(0.5)  # let the daemon LISTEN to the new nodes' channels
    t0 = time.monotonic()
    # One statement (as superuser: login roles write no table directly).
    pgb_env.su_query(
        "INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname, minutes_cron,"
        " hours_cron, backup_code, job_status)"
        " SELECT %s, (%s::bigint[])[1 + g %% 10], 'db' || g, (g %% 60)::text, '01', 'FULL', 'ACTIVE'"
        " FROM generate_series(1, 1000) g",
        (pgb_env.server_id, nodes),
    )

    def complete() -> bool:
        return all(len(job_lines(crontab_path(pgb_env, n))) == 100 for n in nodes)

    wait_for(complete, timeout=10, step=0.1)
    elapsed = time.monotonic() - t0
    assert elapsed < 10
    expected = {
        str(r[0])
        for r in pgb_env.su_query("SELECT def_id FROM backup_definition", None)
    }
    seen = [a[-1] for n in nodes for _f, _u, a in job_lines(crontab_path(pgb_env, n))]
    assert len(seen) == 1000 and set(seen) == expected


@pytest.mark.slow
def test_sigterm_is_prompt_with_a_hung_catalog_and_recovery_after(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs, catalog_cluster: Any
) -> None:
    import signal

    # Resync every second so the daemon is inside a catalog call when the backend hangs.
    rewrite_config(pgb_env, "pgbackman_control", resync_interval=1)
    rewrite_config(
        pgb_env, "pgbackman_database", statement_timeout=2, connect_timeout=2
    )
    node_id = pgb_env.register_node(node1, "RUNNING")
    daemon = Daemon(pgb_env).start()
    stopped: list[int] = []
    try:

        def backend() -> list[tuple[Any, ...]]:
            return catalog_cluster.query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbackman_control'"
                " AND datname = %s",
                (pgb_env.dbname,),
            )

        pid = int(wait_for(backend)[0][0])
        os.kill(pid, signal.SIGSTOP)
        stopped.append(pid)
        # Recovery without a restart: the hung call is abandoned after the client-side
        # deadline (statement_timeout + max(connect_timeout, 5 s)), a new connection is made.
        d1 = register_definition(pgb_env, node_id, "app1")
        path = crontab_path(pgb_env, node_id)
        wait_for(lambda: job_lines(path), timeout=20, step=0.2)
        assert "Catalog" in daemon.log() and "reconnecting" in daemon.log()
        assert job_lines(path)[0][2][-1] == str(d1)

        # Now hang the new backend and stop the daemon while it waits for it.
        pid2 = int(wait_for(lambda: [r for r in backend() if int(r[0]) != pid])[0][0])
        os.kill(pid2, signal.SIGSTOP)
        stopped.append(pid2)
        time.sleep(1.5)  # the next periodic resync is now blocked on the hung backend
        t0 = time.monotonic()
        assert daemon.stop(timeout=10) == 0
        assert time.monotonic() - t0 < 3
        assert "Pgbackman_Control stopped" in daemon.log()
    finally:
        for p in stopped:
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass
        if daemon.proc and daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()


def test_log_and_pidfile(pgb_env: PgbEnv, fake_jobs: FakeJobs, control: Daemon) -> None:
    pid = Path(str(pgb_env.tmp / "control.pid"))
    assert pid.read_text().strip() == str(control.proc.pid if control.proc else "")
    # A second instance refuses to start and says why.
    res = subprocess.run(
        ["pgbackman_control", "--foreground", "--config", str(pgb_env.config_path)],
        env=pgb_env.env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert res.returncode == 1 and "Another instance" in res.stderr
    assert shlex.split("a b") == ["a", "b"]


@pytest.mark.slow
def test_daemonized_mode_pidfile_log_and_sigterm(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs
) -> None:
    import signal

    res = subprocess.run(
        ["pgbackman_control", "--config", str(pgb_env.config_path)],
        env=pgb_env.env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    pidfile = pgb_env.tmp / "control.pid"
    pid = int(
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=10)
    )
    try:
        log = pgb_env.tmp / "pgbackman.log"
        wait_for(lambda: "Full resync of backup server" in log.read_text(), timeout=10)
        node_id = pgb_env.register_node(node1, "RUNNING")
        register_definition(pgb_env, node_id, "app1")
        wait_for(lambda: job_lines(crontab_path(pgb_env, node_id)))
        # umask 027 of the daemon: anything it creates without an explicit mode is not
        # world-readable; its working directory is /.
        status = Path(f"/proc/{pid}/status").read_text()
        assert re.search(r"^Umask:\s+0027$", status, re.MULTILINE), status
        assert os.readlink(f"/proc/{pid}/cwd") == "/"
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), timeout=10)
    assert not pidfile.exists()
    assert "Pgbackman_Control stopped" in (pgb_env.tmp / "pgbackman.log").read_text()


def test_sighup_reloads_config_without_dropping_listen(
    pgb_env: PgbEnv, node1: Any, fake_jobs: FakeJobs, control: Daemon
) -> None:
    import signal

    node_id = pgb_env.register_node(node1, "RUNNING")
    rewrite_config(pgb_env, "pgbackman_control", resync_interval=600)
    assert control.proc is not None
    control.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "Configuration reloaded" in control.log())
    def_id = register_definition(pgb_env, node_id, "app1")
    lines = wait_for(lambda: job_lines(crontab_path(pgb_env, node_id)), timeout=3)
    assert lines[0][2][-1] == str(def_id)
