"""kill -9 of pgbackman_dump: its pg_dump dies with it (PR_SET_PDEATHSIG) within a second; a
partial dump that a live process still writes is never removed under it (the job lock is
inherited by the run's children, and /proc is checked); pgbackman_maintenance reports and
removes partials left by killed runs, with an alert."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from rel_helpers import (
    RelEnv,
    alive,
    descendants,
    proc_exe_name,
    scripted_bindir,
    wait_for,
)

from pgbackman.core import naming

# A pg_dump that starts its output directory, then waits; it ignores SIGTERM (the death
# signal), like an orphan that does not die with its parent.
STUBBORN_PG_DUMP = """#!/bin/bash
if [ "$1" = "--version" ]; then exec {real}/pg_dump --version; fi
for a in "$@"; do case "$a" in --file=*) out="${a#--file=}";; esac; done
mkdir -p "$out" && echo partial > "$out/toc.dat"
trap '' TERM
exec sleep 60
"""


def _partials(rel: RelEnv) -> list[Path]:
    d = rel.partition / "dump"
    return sorted(d.glob(".partial-*")) if d.exists() else []


def _alerts(rel: RelEnv, alert_type: str) -> list[dict[str, object]]:
    return list(
        rel.pgb.cat.query(
            "SELECT * FROM alerts WHERE alert_type = %s ORDER BY alert_id",
            (alert_type,),
        )
    )


def test_kill_9_takes_pg_dump_down_within_a_second(rel: RelEnv) -> None:
    def_id = rel.define("app1")
    # A session holding an exclusive lock makes the real pg_dump wait inside the dump.
    blocker = rel.node.connect("app1")
    try:
        with blocker.cursor() as cur:
            cur.execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        p = rel.popen("pgbackman_dump", "--def-id", str(def_id))
        pg_dumps = wait_for(
            lambda: [q for q in descendants(p.pid) if proc_exe_name(q) == "pg_dump"],
            timeout=30,
        )
        wait_for(lambda: _partials(rel))
        p.kill()
        p.communicate(timeout=10)
        t0 = time.monotonic()
        wait_for(lambda: not any(alive(q) for q in pg_dumps), timeout=5)
        assert time.monotonic() - t0 < 1.0
    finally:
        blocker.rollback()
        blocker.close()
    assert rel.rows(def_id) == []  # killed: nothing recorded by the run itself
    # The next run sweeps the dead run's partial and succeeds.
    res = rel.dump(def_id)
    assert res.returncode == 0, res.stderr
    assert _partials(rel) == []
    assert [r["execution_status"] for r in rel.rows(def_id)] == ["SUCCEEDED"]


def test_a_live_orphan_keeps_the_job_locked_and_its_partial(
    rel: RelEnv, tmp_path: Path
) -> None:
    scripted_bindir(rel, tmp_path, STUBBORN_PG_DUMP)
    def_id = rel.define("app1")
    p = rel.popen("pgbackman_dump", "--def-id", str(def_id))
    orphan = wait_for(
        lambda: [q for q in descendants(p.pid) if proc_exe_name(q) == "sleep"],
        timeout=30,
    )[0]
    try:
        [partial] = wait_for(lambda: _partials(rel))
        p.kill()
        p.communicate(timeout=10)
        time.sleep(0.5)
        assert alive(orphan)  # it ignores the death signal: the worst case
        # The orphan holds the inherited job lock: the next run neither dumps nor sweeps.
        res = rel.dump(def_id)
        assert res.returncode == 1
        [line] = res.stderr.splitlines()
        assert "locked" in line and f"backup definition {def_id}" in line
        assert partial.exists()
        [locked] = _alerts(rel, "Backup-locked")
        assert locked["ref_id"] == def_id and "still going" in str(
            locked["error_message"]
        )
        assert rel.dump(def_id).returncode == 1
        assert len(_alerts(rel, "Backup-locked")) == 1  # once per episode
        # Maintenance sees a busy job and leaves the partial alone too.
        res = rel.run("pgbackman_maintenance", "--once")
        assert res.returncode == 0, res.stderr
        assert partial.exists() and _alerts(rel, "Maintenance") == []
    finally:
        subprocess.run(["kill", "-9", str(orphan)], check=False)
    wait_for(lambda: not alive(orphan))
    # Orphan gone: maintenance reports the stale partial (one alert) and removes it.
    res = rel.run("pgbackman_maintenance", "--once")
    assert res.returncode == 0, res.stderr
    assert not partial.exists()
    [alert] = _alerts(rel, "Maintenance")
    assert str(partial) in str(alert["error_message"])
    assert f"backup definition {def_id}" in str(alert["error_message"])
    assert alert["pgsql_node_id"] == rel.node_id
    assert "stale-partials: 1 done" in (rel.pgb.tmp / "pgbackman.log").read_text()


def test_a_partial_another_process_writes_is_never_swept(rel: RelEnv) -> None:
    """No lock holder, but a live process works in the partial (e.g. an orphan of an older
    version): neither the next run nor maintenance removes it."""
    def_id = rel.define("app1")
    dump_dir = rel.partition / "dump"
    dump_dir.mkdir(parents=True, exist_ok=True)
    partial = dump_dir / naming.partial_dir_name(
        naming.job_tag(def_id, None), 999999, "20200101T000000"
    )
    partial.mkdir()
    writer = subprocess.Popen(["sleep", "60"], cwd=partial)
    try:
        res = rel.dump(def_id)
        assert res.returncode == 0, res.stderr
        assert partial.exists()
        log = (rel.pgb.tmp / "pgbackman.log").read_text()
        assert f"Partial output {partial} is still in use" in log
        res = rel.run("pgbackman_maintenance", "--once")
        assert res.returncode == 0 and partial.exists()
        res = rel.run("pgbackman_maintenance", "--dry-run")
        assert "WOULD DELETE stale partial" not in res.stdout
    finally:
        writer.kill()
        writer.wait()
    res = rel.run("pgbackman_maintenance", "--dry-run")
    assert f"WOULD DELETE stale partial dump {partial}" in res.stdout
    assert partial.exists()  # a dry run removes nothing
    assert rel.run("pgbackman_maintenance", "--once").returncode == 0
    assert not partial.exists()
