"""When drills run: pgbackman_control queues a drill that is due as a real at job (atd runs
pgbackman_restore --drill), not again before its interval has passed, and never one whose
definition has no good backup; drills of one node wait for each other; a killed drill's
leftovers go with the next run."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from support.site import (
    VENV_BIN,
    Site,
    control_once,
    databases,
    ensure_atd,
    roles,
    wait_for,
)
from support.richdb import RichDb

from pgbackman.restore.drill import LOCK_KEY, role_marker, scratch_dbname


def test_control_queues_a_due_drill_once_per_interval(site: Site, rich: RichDb) -> None:
    ensure_atd()
    def_id = site.definition(rich.dbname)
    drill_id = site.register_drill(def_id, "1 day")
    control_once(site)
    # No SUCCEEDED backup yet: nothing to drill, nothing queued.
    assert site.pgb.su_query(
        "SELECT queued_at, queue_status FROM restore_drill WHERE drill_id = %s",
        (drill_id,),
    ) == [(None, None)]
    site.backup(def_id)
    control_once(site)
    ((queued_at, status),) = site.pgb.su_query(
        "SELECT queued_at, queue_status FROM restore_drill WHERE drill_id = %s",
        (drill_id,),
    )
    assert status == "DEFINED" and queued_at is not None
    wait_for("the at job recorded a drill run", lambda: site.drill_runs(drill_id))
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "SUCCEEDED", run["error_message"]
    # Within its interval the drill is not due again.
    control_once(site)
    assert site.pgb.su_query(
        "SELECT queued_at FROM restore_drill WHERE drill_id = %s", (drill_id,)
    ) == [(queued_at,)]
    # One interval after its last run it is.
    site.pgb.su(
        "UPDATE restore_drill SET queued_at = queued_at - interval '2 days';"
        "UPDATE restore_drill_run SET started = started - interval '2 days'"
    )
    assert site.pgb.su_query(
        "SELECT d FROM get_due_restore_drills(%s) d", (site.pgb.server_id,)
    ) == [(drill_id,)]
    site.shell(f"update_restore_drill {drill_id} '' '' STOPPED")
    assert (
        site.pgb.su_query(
            "SELECT d FROM get_due_restore_drills(%s) d", (site.pgb.server_id,)
        )
        == []
    )


def test_drills_of_one_node_wait_for_each_other(site: Site, rich: RichDb) -> None:
    def_id = site.definition(rich.dbname)
    site.backup(def_id)
    drill_id = site.register_drill(def_id)
    scratch = scratch_dbname(drill_id)
    holder = site.node2.connect("postgres")  # as if another drill ran on node2
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        proc = subprocess.Popen(
            [str(VENV_BIN / "pgbackman_restore"), "--drill", str(drill_id)],
            env=site.pgb.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(4)
        assert proc.poll() is None  # still waiting for the node
        assert not any(d.startswith(scratch) for d in databases(site.node2))
        assert site.drill_runs(drill_id) == []
    finally:
        holder.close()  # the other drill ends
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "SUCCEEDED", run["error_message"]
    log = Path(run["drill_log_file"]).read_text(encoding="utf-8")
    assert "Another restore drill runs on PgSQL node" in log


def test_leftovers_of_a_killed_drill_are_dropped_by_its_next_run(
    site: Site, rich: RichDb
) -> None:
    def_id = site.definition(rich.dbname)
    site.backup(def_id)
    drill_id = site.register_drill(def_id)
    before_roles, before_dbs = roles(site.node2), databases(site.node2)
    # What a drill killed by kill -9 leaves: its scratch database and the roles it marked.
    site.node2.psql(f"CREATE DATABASE {scratch_dbname(drill_id)}")
    site.node2.psql(
        f"CREATE ROLE drill_leftover_{drill_id} NOLOGIN;"
        f"COMMENT ON ROLE drill_leftover_{drill_id} IS '{role_marker(drill_id)}'"
    )
    res = site.drill(drill_id)
    assert res.returncode == 0, res.stderr
    assert roles(site.node2) == before_roles and databases(site.node2) == before_dbs
