"""Restore drills on real clusters: the newest SUCCEEDED backup of a definition restored
into a scratch database on the drill node (node2), checked against the facts recorded at
dump time, dropped again, and recorded; failures recorded and alerted."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

from support.site import (
    VENV_BIN,
    Site,
    add_big_table,
    databases,
    roles,
    wait_for,
)
from support.agekeys import new_key, set_identity_file
from support.damage import flip_a_byte
from support.richdb import RichDb

from pgbackman.core.facts import FACTS_FILE


def test_drill_of_a_full_backup_succeeds_leaves_nothing_behind_and_is_recorded(
    site: Site, rich: RichDb
) -> None:
    add_big_table(site.node1, rich.dbname)
    def_id = site.definition(rich.dbname)
    bck = site.backup(def_id)
    facts = json.loads((Path(bck["pg_dump_file"]) / FACTS_FILE).read_text())
    assert facts["in_dump_snapshot"] is True
    by_name = {t["qualified"]: t for t in facts["tables"]}
    assert by_name["app.customers"]["rows"] is not None
    assert by_name["public.big"]["rows"] is None  # larger than the exact-count limit
    manifest = Path(bck["pg_dump_manifest_file"]).read_text()
    assert f"/{FACTS_FILE}" in manifest  # covered by the backup's checksums
    drill_id = site.register_drill(def_id)
    before_roles, before_dbs = roles(site.node2), databases(site.node2)

    res = site.drill(drill_id)

    assert res.returncode == 0, res.stderr
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "SUCCEEDED", run["error_message"]
    assert run["bck_id"] == bck["bck_id"] and run["def_id"] == def_id
    assert run["scratch_dbname"] == f"pgbackman_drill_{drill_id}"
    assert sorted(run["roles_created"]) == rich.roles  # node2 had none of them
    checks = "\n".join(run["checks"])
    assert "checksums" in checks
    assert f"tables: {len(facts['tables'])} of {len(facts['tables'])} present" in checks
    assert "1 larger table(s) that held rows at dump time checked for rows" in checks
    assert Path(run["drill_log_file"]).is_file()
    # Nothing left on the drill node: no scratch or temporary database, no role.
    assert roles(site.node2) == before_roles
    assert databases(site.node2) == before_dbs
    assert site.alerts("Restore-drill") == []
    # The last successful drill: a column of show_backup_definitions and a metric.
    (d,) = [
        r
        for r in site.shell_json("show_backup_definitions all all all")[
            "backup_definitions"
        ]
        if int(r["defid"]) == def_id
    ]
    assert d["last_drill"] is not None
    metrics = site.run("pgbackman_metrics")
    assert metrics.returncode == 0, metrics.stderr
    line = next(
        ln
        for ln in metrics.stdout.splitlines()
        if ln.startswith("pgbackman_restore_drill_last_success_timestamp_seconds{")
        and f'def_id="{def_id}"' in ln
    )
    assert float(line.rsplit(" ", 1)[1]) == run["finished"].timestamp()
    details = site.shell_json(f"show_restore_drill_details {run['drill_run_id']}")
    (det,) = details["restore_drill_details"]
    assert det["execution_status"] == "SUCCEEDED" and det["bckid"] == bck["bck_id"]
    # Deleting the drill takes its runs; maintenance deletes the run's log, which it
    # recognises as the log pgbackman_restore wrote for that drill (D42), and nothing else.
    log_file = Path(run["drill_log_file"])
    res = site.shell(f"delete_restore_drill {drill_id}")
    assert res.returncode == 0, res.stdout + res.stderr
    res = site.run("pgbackman_maintenance", "--once")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not log_file.exists() and log_file.parent.is_dir()
    assert site.pgb.su_query("SELECT count(*) FROM restore_logs_to_delete") == [(0,)]


def test_drill_of_a_corrupted_backup_fails_is_recorded_and_alerts(
    site: Site, rich: RichDb
) -> None:
    def_id = site.definition(rich.dbname)
    bck = site.backup(def_id)
    victim = flip_a_byte(Path(bck["pg_dump_file"]))
    drill_id = site.register_drill(def_id)
    before_roles, before_dbs = roles(site.node2), databases(site.node2)

    res = site.drill(drill_id)

    assert res.returncode == 1
    assert (
        f"restore drill {drill_id}" in res.stderr and "Checksum mismatch" in res.stderr
    )
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "ERROR"
    assert "Checksum mismatch" in run["error_message"]
    assert victim.name in run["error_message"]
    assert run["bck_id"] == bck["bck_id"]
    (alert,) = site.alerts("Restore-drill")
    assert alert["ref_id"] == drill_id and alert["bck_id"] == bck["bck_id"]
    assert alert["pgsql_node_id"] == site.node1_id and alert["dbname"] == rich.dbname
    assert "Checksum mismatch" in alert["error_message"]
    assert roles(site.node2) == before_roles and databases(site.node2) == before_dbs


def test_drill_catches_a_table_whose_rows_the_backup_lost(
    site: Site, rich: RichDb
) -> None:
    add_big_table(site.node1, rich.dbname)
    # The archive holds no rows of these two tables: pg_dump left them out.
    def_id = site.definition(
        rich.dbname,
        extra="--exclude-table-data=app.customers --exclude-table-data=public.big",
    )
    bck = site.backup(def_id)
    assert sorted(bck["excluded_tables"]) == ["app.customers", "public.big"]
    drill_id = site.register_drill(def_id)
    before_roles, before_dbs = roles(site.node2), databases(site.node2)

    res = site.drill(drill_id)

    assert res.returncode == 1
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "ERROR"
    error = run["error_message"]
    assert "Restore drill check failed" in error
    # The small table by its exact count, the large one because it came back empty.
    assert "app.customers (0 rows restored," in error
    assert "public.big (about 160000 rows at dump time)" in error
    assert "extra backup parameters leave it out" in error
    assert "Weird Schema" not in error  # complete tables are not reported
    (alert,) = site.alerts("Restore-drill")
    assert alert["ref_id"] == drill_id
    assert roles(site.node2) == before_roles and databases(site.node2) == before_dbs


def test_exact_counts_are_those_of_the_dump_on_a_busy_database(
    site: Site, rich: RichDb
) -> None:
    # A writer commits rows into a small table all through the dump: counts taken outside
    # pg_dump's snapshot would not match the archive, and the drill would fail.
    stop = threading.Event()

    def write() -> None:
        conn = site.node1.connect(rich.dbname)
        try:
            while not stop.is_set():
                with conn.cursor() as cur:
                    cur.execute(
                        "INSERT INTO public.docs (id) SELECT coalesce(max(id), 0) + 1 FROM public.docs"
                    )
                time.sleep(0.002)
        finally:
            conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        def_id = site.definition(rich.dbname)
        bck = site.backup(def_id)
    finally:
        stop.set()
        writer.join()
    facts = json.loads((Path(bck["pg_dump_file"]) / FACTS_FILE).read_text())
    (docs,) = [t for t in facts["tables"] if t["qualified"] == "public.docs"]
    assert docs["rows"] > 1  # rows were inserted while the dump ran
    drill_id = site.register_drill(def_id)
    res = site.drill(drill_id)
    assert res.returncode == 0, res.stderr
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "SUCCEEDED", run["error_message"]


def test_facts_never_wait_for_a_locked_table(site: Site, rich: RichDb) -> None:
    def_id = site.definition(rich.dbname)
    blocker = site.node1.connect(rich.dbname)
    try:
        with blocker.cursor() as cur:
            cur.execute("BEGIN; LOCK TABLE app.customers IN ACCESS EXCLUSIVE MODE")
        proc = subprocess.Popen(
            [str(VENV_BIN / "pgbackman_dump"), "--def-id", str(def_id)],
            env=site.pgb.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # pg_dump itself waits for the lock; the facts step before it must not.
        wait_for(
            "pg_dump waiting for the lock",
            lambda: site.node1.query(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgbackman_dump'"
                " AND wait_event_type = 'Lock'"
            ),
            timeout=60,
        )
    finally:
        blocker.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    bck = site.pgb.cat.query_one(
        "SELECT pg_dump_file FROM backup_catalog WHERE def_id = %s", (def_id,)
    )
    facts = json.loads((Path(bck["pg_dump_file"]) / FACTS_FILE).read_text())
    (customers,) = [t for t in facts["tables"] if t["qualified"] == "app.customers"]
    assert customers["rows"] is None
    assert any("locked by another session" in n for n in facts["notes"])


def test_drill_of_an_encrypted_backup_reads_its_facts_from_the_decrypted_copy(
    site: Site, rich: RichDb, tmp_path: Path
) -> None:
    key = new_key(tmp_path)
    site.pgb.su_query(
        "SELECT update_backup_server_config(%s, 'encryption_recipients', %s)",
        (site.pgb.server_id, key.recipient),
    )
    def_id = site.definition(rich.dbname, encryption=True)
    bck = site.backup(def_id)
    archive = Path(bck["pg_dump_file"])
    assert not (archive / FACTS_FILE).exists()  # encrypted like every file of the dump
    assert (archive / f"{FACTS_FILE}.age").is_file()
    set_identity_file(site.pgb.config_path, key.identity_file)
    drill_id = site.register_drill(def_id)
    before_roles, before_dbs = roles(site.node2), databases(site.node2)
    res = site.drill(drill_id)
    assert res.returncode == 0, res.stderr
    (run,) = site.drill_runs(drill_id)
    assert run["execution_status"] == "SUCCEEDED", run["error_message"]
    assert any("exact count of" in c for c in run["checks"])
    assert roles(site.node2) == before_roles and databases(site.node2) == before_dbs
    partition = site.pgb.root / f"pgsql_node_{site.node2_id}"
    assert not list(partition.glob(".decrypted-*"))
