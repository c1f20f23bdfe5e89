"""When drills run: pgbackman_control queues a drill that is due as a real at job (atd runs
pgbackman_restore --drill), not again before its interval has passed, and never one whose
definition has no good backup; a clone is queued like a restore; drills of one node wait
for each other; a killed drill's leftovers go with the next run."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from drill_helpers import VENV_BIN, DrillEnv, databases, roles
from support.richdb import RichDb, table_checksums

from pgbackman.restore.drill import LOCK_KEY, role_marker, scratch_dbname


def _ensure_atd() -> None:
    if subprocess.run(
        ["pgrep", "-x", "atd"], capture_output=True, check=False
    ).returncode:
        subprocess.run([shutil.which("atd") or "/usr/sbin/atd"], check=True)


def _control_once(drl: DrillEnv) -> None:
    res = drl.run("pgbackman_control", "--once", timeout=120)
    assert res.returncode == 0, res.stderr


def _wait(what: str, check, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.5)


def test_control_queues_a_due_drill_once_per_interval(
    drl: DrillEnv, rich: RichDb
) -> None:
    _ensure_atd()
    def_id = drl.definition(rich.dbname)
    drill_id = drl.register_drill(def_id, "1 day")
    _control_once(drl)
    # No SUCCEEDED backup yet: nothing to drill, nothing queued.
    assert drl.pgb.su_query(
        "SELECT queued_at, queue_status FROM restore_drill WHERE drill_id = %s",
        (drill_id,),
    ) == [(None, None)]
    drl.backup(def_id)
    _control_once(drl)
    ((queued_at, status),) = drl.pgb.su_query(
        "SELECT queued_at, queue_status FROM restore_drill WHERE drill_id = %s",
        (drill_id,),
    )
    assert status == "DEFINED" and queued_at is not None
    _wait("the at job recorded a drill run", lambda: drl.drill_runs(drill_id))
    (run,) = drl.drill_runs(drill_id)
    assert run["execution_status"] == "SUCCEEDED", run["error_message"]
    # Within its interval the drill is not due again.
    _control_once(drl)
    assert drl.pgb.su_query(
        "SELECT queued_at FROM restore_drill WHERE drill_id = %s", (drill_id,)
    ) == [(queued_at,)]
    # One interval after its last run it is.
    drl.pgb.su(
        "UPDATE restore_drill SET queued_at = queued_at - interval '2 days';"
        "UPDATE restore_drill_run SET started = started - interval '2 days'"
    )
    assert drl.pgb.su_query(
        "SELECT d FROM get_due_restore_drills(%s) d", (drl.pgb.server_id,)
    ) == [(drill_id,)]
    drl.shell(f"update_restore_drill {drill_id} '' '' STOPPED")
    assert (
        drl.pgb.su_query(
            "SELECT d FROM get_due_restore_drills(%s) d", (drl.pgb.server_id,)
        )
        == []
    )


def test_control_queues_a_clone_as_one_at_job(drl: DrillEnv, rich: RichDb) -> None:
    _ensure_atd()
    copy = f"{rich.dbname}_copy"
    res = drl.shell(
        f"clone_database '' {drl.node1_id} {rich.dbname} {drl.node2_id} {copy} '' '#all#' now"
    )
    assert res.returncode == 0, res.stdout + res.stderr
    _control_once(drl)
    ((clone_id, status),) = drl.pgb.su_query(
        "SELECT clone_id, status FROM clone_definition"
    )
    assert status == "DEFINED"

    def restored() -> bool:
        rows = drl.pgb.su_query(
            "SELECT r.execution_status FROM restore_catalog r"
            " JOIN clone_definition c ON c.restore_def = r.restore_def WHERE c.clone_id = %s",
            (clone_id,),
        )
        return bool(rows)

    _wait("the clone's at job recorded its restore", restored, timeout=180)
    assert table_checksums(drl.node2, copy) == table_checksums(drl.node1, rich.dbname)
    # The clone's own snapshot and restore were never queued a second time.
    _control_once(drl)
    assert drl.pgb.su_query(
        "SELECT count(*) FROM restore_catalog r JOIN clone_definition c"
        " ON c.restore_def = r.restore_def"
    ) == [(1,)]


def test_drills_of_one_node_wait_for_each_other(drl: DrillEnv, rich: RichDb) -> None:
    def_id = drl.definition(rich.dbname)
    drl.backup(def_id)
    drill_id = drl.register_drill(def_id)
    scratch = scratch_dbname(drill_id)
    holder = drl.node2.connect("postgres")  # as if another drill ran on node2
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        proc = subprocess.Popen(
            [str(VENV_BIN / "pgbackman_restore"), "--drill", str(drill_id)],
            env=drl.pgb.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(4)
        assert proc.poll() is None  # still waiting for the node
        assert not any(d.startswith(scratch) for d in databases(drl.node2))
        assert drl.drill_runs(drill_id) == []
    finally:
        holder.close()  # the other drill ends
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    (run,) = drl.drill_runs(drill_id)
    assert run["execution_status"] == "SUCCEEDED", run["error_message"]
    log = Path(run["drill_log_file"]).read_text(encoding="utf-8")
    assert "Another restore drill runs on PgSQL node" in log


def test_leftovers_of_a_killed_drill_are_dropped_by_its_next_run(
    drl: DrillEnv, rich: RichDb
) -> None:
    def_id = drl.definition(rich.dbname)
    drl.backup(def_id)
    drill_id = drl.register_drill(def_id)
    before_roles, before_dbs = roles(drl.node2), databases(drl.node2)
    # What a drill killed by kill -9 leaves: its scratch database and the roles it marked.
    drl.node2.psql(f"CREATE DATABASE {scratch_dbname(drill_id)}")
    drl.node2.psql(
        f"CREATE ROLE drill_leftover_{drill_id} NOLOGIN;"
        f"COMMENT ON ROLE drill_leftover_{drill_id} IS '{role_marker(drill_id)}'"
    )
    res = drl.drill(drill_id)
    assert res.returncode == 0, res.stderr
    assert roles(drl.node2) == before_roles and databases(drl.node2) == before_dbs
