"""Case 16 — catalog hung, not down (SIGSTOP): every program fails or falls back within its
timeouts instead of hanging, and recovers after SIGCONT without a restart.

The shell and a dump started while the whole catalog cluster is frozen are bounded by
libpq's connect_timeout; a dump whose already-open catalog connection hangs at the end is
bounded by the client-side deadline of catalog/deadline.py (statement_timeout alone is
enforced by the frozen server, i.e. never).
"""

from __future__ import annotations

import time

import pytest
from pathlib import Path

from rel_helpers import (
    RelEnv,
    cluster_pids,
    frozen,
    gated_bindir,
    rewrite_config,
    wait_for,
)

from pgbackman.infra import spool

# Each case waits for real connect/statement timeouts of a frozen catalog.
pytestmark = pytest.mark.slow


def _short_timeouts(rel: RelEnv) -> None:
    rewrite_config(
        rel.pgb.config_path,
        "pgbackman_database",
        connect_timeout=2,
        statement_timeout=2,
    )


def test_shell_fails_fast_with_one_error_line_then_recovers(rel: RelEnv) -> None:
    _short_timeouts(rel)
    with frozen(cluster_pids(rel.pgb.catalog_cluster)):
        t0 = time.monotonic()
        res = rel.run("pgbackman", "-C", "show_backup_servers", timeout=60)
        elapsed = time.monotonic() - t0
    assert res.returncode != 0
    assert elapsed < 12, elapsed  # connect_timeout 2 s, one reconnect attempt
    out = (res.stdout + res.stderr).strip().splitlines()
    errors = [ln for ln in out if "[ERROR]" in ln]
    assert len(errors) == 1, out
    assert "catalog" in errors[0].lower() and "Traceback" not in res.stderr
    # SIGCONT: the very same command works, nothing to restart.
    res = rel.run("pgbackman", "-C", "show_backup_servers", timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "backup01.pgbackman.test" in res.stdout


def test_dump_with_catalog_hung_at_start_uses_cache_and_spools(rel: RelEnv) -> None:
    _short_timeouts(rel)
    def_id = rel.define("app1")
    rel.write_cache()
    with frozen(cluster_pids(rel.pgb.catalog_cluster)):
        t0 = time.monotonic()
        res = rel.dump(def_id, timeout=90)
        elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    assert elapsed < 30, elapsed
    pending = list(spool.pending_dir(rel.pgb.root).glob("backup_*.json"))
    assert len(pending) == 1
    assert rel.rows(def_id) == []
    # Catalog back: maintenance ingests the result exactly once.
    res = rel.run("pgbackman_maintenance", "--once", timeout=90)
    assert res.returncode == 0, res.stderr
    rows = rel.rows(def_id)
    assert [r["execution_status"] for r in rows] == ["SUCCEEDED"]
    assert not list(spool.pending_dir(rel.pgb.root).glob("backup_*.json"))


def test_dump_whose_catalog_hangs_before_the_result_spools_it(
    rel: RelEnv, tmp_path: Path
) -> None:
    _short_timeouts(rel)
    def_id = rel.define("app1")
    gate = gated_bindir(rel, tmp_path)
    proc = rel.popen("pgbackman_dump", "--def-id", str(def_id))
    try:
        gate.pid()  # the job was resolved from the catalog; pg_dump waits at the gate
        backend = wait_for(
            lambda: rel.pgb.catalog_cluster.query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbackman_dump'"
                " AND datname = %s",
                (rel.pgb.dbname,),
            )
        )
        with frozen([int(backend[0][0])]):
            t0 = time.monotonic()
            gate.open()
            _, err = proc.communicate(timeout=60)
            elapsed = time.monotonic() - t0
        assert proc.returncode == 0, err
        # deadline = statement_timeout + max(connect_timeout, 5) = 7 s, plus the dump itself
        assert elapsed < 25, elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = Path(rel.pgb.tmp / "pgbackman.log").read_text()
    assert "no answer from the catalog database" in log
    pending = list(spool.pending_dir(rel.pgb.root).glob("backup_*.json"))
    assert len(pending) == 1
    res = rel.run("pgbackman_maintenance", "--once", timeout=90)
    assert res.returncode == 0, res.stderr
    assert [r["execution_status"] for r in rel.rows(def_id)] == ["SUCCEEDED"]
