"""SIGTERM during a restore (forwarded to the client program, temporary database dropped,
ONE ERROR row) and the catalog-down branch of the result recording (pending file, ingested
exactly once)."""

from __future__ import annotations

import pytest

import datetime as dt
import json
import os
import signal
import stat
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from restore_helpers import VENV_BIN, databases
from support.pgcluster import free_port

from pgbackman.catalog import jobs
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.infra import spool
from pgbackman.programs import restore as prog
from pgbackman.restore import spec as specmod
from pgbackman.restore.runner import RestoreRun


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat_line = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            if int(stat_line.rpartition(")")[2].split()[1]) == pid:
                out.append(int(d))
    return out


@pytest.mark.slow
def test_sigterm_drops_the_temporary_database_and_records_one_error(rst) -> None:  # type: ignore[no-untyped-def]
    db = f"slow_{rst.pgb.dbname}"
    rst.node1.psql(f'CREATE DATABASE "{db}"')
    try:
        rst.node1.psql(
            "CREATE TABLE big (id int PRIMARY KEY, v int);"
            "INSERT INTO big SELECT g, g FROM generate_series(1, 1500000) g",
            dbname=db,
        )
        bck = rst.backup(db, "FULL")
        rdef = rst.define(bck["bck_id"], db)
        before = databases(rst.node2)
        env = {**rst.pgb.env, "PGPASSWORD": "topsecret-pw"}
        p = subprocess.Popen(
            [str(VENV_BIN / "pgbackman_restore"), "--restore-def", str(rdef)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not rst.node2.query(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgbackman_restore'"
            " AND query ILIKE 'COPY%%'"
        ):
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # No secret in the argv or the environment of the client program (B.10 case 21).
        (child,) = _children(p.pid)
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        assert cmdline.startswith(b"/") and b"pg_restore" in cmdline
        assert b"topsecret" not in cmdline
        assert b"topsecret" not in Path(f"/proc/{child}/environ").read_bytes()
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 1, err
        row = rst.one_row(rdef)
        assert row["execution_status"] == "ERROR" and "SIGTERM" in row["error_message"]
        assert databases(rst.node2) == before
        assert not rst.node2.query(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgbackman_restore'"
        )
    finally:
        rst.node1.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        rst.node2.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def test_catalog_down_at_the_end_spools_once(rst) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup("app1", "FULL")
    rdef = rst.define(bck["bck_id"], "app1_copy", roles=[])
    cfg = Config.load(str(rst.pgb.config_path))
    run = RestoreRun(
        cfg, specmod.resolve(cfg, rst.pgb.cat, rdef), dt.datetime.now(dt.UTC)
    )
    run.outcome.status = "SUCCEEDED"
    run.outcome.target_release = "15"
    record = run.record(dt.datetime.now(dt.UTC))
    down = Catalog(
        replace(
            cfg.database,
            host="127.0.0.1",
            hostaddr="",
            port=free_port(),
            connect_timeout=2,
        ),
        application_name="pgbackman_restore",
    )
    assert prog.register(down, record, rst.pgb.root) == 0  # SUCCEEDED, spooled
    (path,) = (rst.pgb.root / "pending_updates").glob("restore_*.json")
    assert path.name == f"restore_{record['run_uuid']}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    spooled = json.loads(path.read_text())
    assert spooled["kind"] == "restore" and set(spooled["record"]) == set(
        jobs.RESTORE_FIELDS
    )
    assert rst.rows(rdef) == []
    assert jobs.ingest_pending(rst.pgb.cat, rst.pgb.root) == (1, 0)
    assert jobs.ingest_pending(rst.pgb.cat, rst.pgb.root) == (0, 0)
    assert list(spool.iter_pending(rst.pgb.root, "restore")) == []
    row = rst.one_row(rdef)
    assert (
        str(row["run_uuid"]) == record["run_uuid"]
        and row["execution_status"] == "SUCCEEDED"
    )
    assert (
        row["target_dbname"] == "app1_copy" and row["target_pgsql_node_release"] == "15"
    )
    # Registering the same record again (e.g. a repeated ingest) adds nothing.
    jobs.register_restore_catalog(rst.pgb.cat, record)
    assert len(rst.rows(rdef)) == 1
