"""A hung node (its postgres SIGSTOPped mid-dump) no longer hangs pgbackman_dump: the node's
``backup_timeout`` ends the run as one ERROR row within the timeout plus a few seconds, with
no process left behind; a run that finds the job locked meanwhile raises a Backup-locked
alert. Bad backup_timeout values are refused by the shell and by the catalog."""

from __future__ import annotations

import time

import psycopg2
import pytest
from rel_helpers import (
    RelEnv,
    alive,
    cluster_pids,
    descendants,
    frozen,
    proc_exe_name,
    wait_for,
)

TIMEOUT = 4


def _set_timeout(rel: RelEnv, value: str) -> None:
    rel.pgb.su_query(
        "SELECT update_pgsql_node_config(%s::bigint, 'backup_timeout', %s)",
        (rel.node_id, value),
    )


def _waiting_on_lock(rel: RelEnv) -> bool:
    rows = rel.node.query(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbackman_dump'"
        " AND wait_event_type = 'Lock'",
        dbname="app1",
    )
    return bool(rows[0][0])


def test_hung_node_gives_one_error_row_within_the_timeout(rel: RelEnv) -> None:
    _set_timeout(rel, f"{TIMEOUT} seconds")
    def_id = rel.define("app1")
    blocker = rel.node.connect("app1")
    try:
        with blocker.cursor() as cur:
            cur.execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        t0 = time.monotonic()
        p = rel.popen("pgbackman_dump", "--def-id", str(def_id))
        wait_for(lambda: _waiting_on_lock(rel), timeout=30)
        pg_dumps = [q for q in descendants(p.pid) if proc_exe_name(q) == "pg_dump"]
        assert pg_dumps
        with frozen(cluster_pids(rel.node)):
            # Meanwhile the next run of the job finds it locked, and says so.
            second = rel.dump(def_id, timeout=60)
            assert second.returncode == 1 and "locked" in second.stderr
            _out, err = p.communicate(timeout=60)
            elapsed = time.monotonic() - t0
            assert p.returncode == 1
            assert elapsed < TIMEOUT + 10, elapsed
            assert not any(alive(q) for q in pg_dumps)
    finally:
        try:
            blocker.rollback()
        except psycopg2.Error:
            pass
        blocker.close()
    [row] = rel.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "backup_timeout of 4 s exceeded" in row["error_message"]
    assert row["pg_dump_file"] is None
    [line] = err.splitlines()
    assert f"backup definition {def_id}" in line and "backup_timeout" in line
    assert not list((rel.partition / "dump").glob(".partial-*"))
    [locked] = rel.pgb.cat.query(
        "SELECT * FROM alerts WHERE alert_type = 'Backup-locked'"
    )
    assert locked["ref_id"] == def_id and locked["dbname"] == "app1"
    # Node back: the next run takes the lock, closes the episode and succeeds.
    _set_timeout(rel, "1 hour")
    assert rel.dump(def_id).returncode == 0
    assert [r["execution_status"] for r in rel.rows(def_id)] == ["ERROR", "SUCCEEDED"]
    assert rel.pgb.cat.query("SELECT * FROM alert_episode") == []


@pytest.mark.parametrize("value", ["0 seconds", "-1 hour", "2 years", "soon"])
def test_bad_backup_timeout_is_refused(rel: RelEnv, value: str) -> None:
    before = rel.pgb.su_query(
        "SELECT value FROM pgsql_node_config WHERE node_id = %s"
        " AND parameter = 'backup_timeout'",
        (rel.node_id,),
    )
    assert before == [("1 day",)]
    args = " ".join(["''"] * 20)  # 19 upstream values + stale backup grace
    res = rel.run(
        "pgbackman", "-C", f"update_pgsql_node_config {rel.node_id} {args} '{value}'"
    )
    assert res.returncode == 1 and "[ERROR]: Backup timeout" in res.stdout
    with pytest.raises(psycopg2.Error, match="Invalid backup_timeout"):
        _set_timeout(rel, value)
    res = rel.run(
        "pgbackman", "-C", f"update_pgsql_node_config {rel.node_id} {args} '6 hours'"
    )
    assert res.returncode == 0, res.stdout
    assert rel.pgb.su_query(
        "SELECT value FROM pgsql_node_config WHERE node_id = %s"
        " AND parameter = 'backup_timeout'",
        (rel.node_id,),
    ) == [("6 hours",)]
