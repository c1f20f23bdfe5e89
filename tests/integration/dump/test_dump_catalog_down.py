"""Catalog unreachable: pgbackman_dump runs from the local cache, spools its result, and
catalog/jobs.ingest_pending ingests it exactly once (also when run twice or interrupted
between the insert and the unlink). Plus snapshots and the cache builders."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

from support.pgcluster import free_port

from pgbackman.catalog import jobs
from pgbackman.infra import cache, spool


def _write_cache(dump_env) -> None:  # type: ignore[no-untyped-def]
    cat, pgb = dump_env.pgb.cat, dump_env.pgb
    cache.write_server_cache(pgb.root, jobs.build_server_cache(cat, pgb.server_id))
    data = jobs.build_node_cache(cat, pgb.server_id, dump_env.node_id)
    assert data is not None
    cache.write_node_cache(pgb.root, dump_env.node_id, data)


def _dead_catalog_env(dump_env, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A second config file identical to the test's, except the catalog port is closed."""
    text = dump_env.pgb.config_path.read_text()
    port = str(dump_env.pgb.catalog_cluster.port)
    dead = tmp_path / "dead.conf"
    dead.write_text(text.replace(f"port = {port}", f"port = {free_port()}"))
    env = dict(dump_env.pgb.env)
    env["PGBACKMAN_CONFIG"] = str(dead)
    return env


def test_build_caches(dump_env) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define("app1")
    snap = dump_env.snapshot("app2")
    srv = jobs.build_server_cache(dump_env.pgb.cat, dump_env.pgb.server_id)
    assert srv["backup_server_id"] == dump_env.pgb.server_id
    assert srv["config"]["root_backup_partition"] == str(dump_env.pgb.root)
    node = jobs.build_node_cache(
        dump_env.pgb.cat, dump_env.pgb.server_id, dump_env.node_id
    )
    assert node is not None
    assert (
        node["node"]["fqdn"] == "127.0.0.1"
        and node["node"]["pgport"] == dump_env.node.port
    )
    assert node["definitions"][str(def_id)]["dbname"] == "app1"
    assert node["snapshots"][str(snap)]["dbname"] == "app2"
    assert (
        jobs.build_node_cache(dump_env.pgb.cat, dump_env.pgb.server_id, 999999) is None
    )
    json.dumps(node)  # JSON-serialisable as is


def test_catalog_down_spools_and_ingests_exactly_once(dump_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define("app1")
    _write_cache(dump_env)
    res = dump_env.run(
        "--def-id", str(def_id), env=_dead_catalog_env(dump_env, tmp_path)
    )
    assert res.returncode == 0, res.stderr
    assert dump_env.rows(def_id) == []
    pending = list(spool.pending_dir(dump_env.pgb.root).glob("backup_*.json"))
    assert len(pending) == 1
    assert stat.S_IMODE(pending[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(pending[0].parent.stat().st_mode) == 0o700
    record = json.loads(pending[0].read_text())["record"]
    assert (
        record["execution_status"] == "SUCCEEDED"
        and Path(record["pg_dump_file"]).is_dir()
    )

    # Killed between INSERT and unlink: the insert half runs twice, then a full pass.
    jobs.ingest_one(dump_env.pgb.cat, "backup", record)
    jobs.ingest_one(dump_env.pgb.cat, "backup", record)
    assert jobs.ingest_pending(dump_env.pgb.cat, dump_env.pgb.root) == (1, 0)
    assert jobs.ingest_pending(dump_env.pgb.cat, dump_env.pgb.root) == (0, 0)
    [row] = dump_env.rows(def_id)
    assert (
        row["execution_status"] == "SUCCEEDED"
        and str(row["run_uuid"]) == record["run_uuid"]
    )
    assert (
        row["checksum"] == record["checksum"]
        and row["pg_dump_file"] == record["pg_dump_file"]
    )
    assert list(spool.pending_dir(dump_env.pgb.root).glob("*.json")) == []


def test_catalog_down_without_cache_fails_cleanly(dump_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define("app1")
    res = dump_env.run(
        "--def-id", str(def_id), env=_dead_catalog_env(dump_env, tmp_path)
    )
    assert res.returncode == 1 and "cache" in res.stderr


def test_unusable_pending_records_are_rejected_not_retried(dump_env) -> None:  # type: ignore[no-untyped-def]
    root = dump_env.pgb.root
    good_restore_def = None  # restore records go through register_restore_catalog too
    bad = {
        "run_uuid": str(uuid.uuid4()),
        "def_id": 987654,
        "server_id": dump_env.pgb.server_id,
        "node_id": dump_env.node_id,
        "dbname": "x",
        "global_log_file": "/x",
        "execution_status": "ERROR",
        "execution_method": "CRON",
    }
    spool.write_pending(root, "backup", bad)  # FK: definition 987654 does not exist
    garbage = spool.pending_dir(root) / f"restore_{uuid.uuid4()}.json"
    garbage.write_text("{not json")
    restore = {
        "run_uuid": str(uuid.uuid4()),
        "restore_def": good_restore_def,
        "server_id": dump_env.pgb.server_id,
        "target_node_id": dump_env.node_id,
        "source_dbname": "a",
        "target_dbname": "b",
        "global_log_file": "/x",
        "execution_status": "ERROR",
        "error_message": "boom",
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:00:05+00:00",
        "duration": 5.0,
        "role_list": ["r1"],
    }
    spool.write_pending(root, "restore", restore)
    ingested, failed = jobs.ingest_pending(dump_env.pgb.cat, root)
    assert (ingested, failed) == (1, 2)
    rejected = sorted(p.name for p in (spool.pending_dir(root) / "rejected").iterdir())
    assert len(rejected) == 2
    assert list(spool.pending_dir(root).glob("*.json")) == []
    assert jobs.ingest_pending(dump_env.pgb.cat, root) == (0, 0)
    rows = dump_env.pgb.cat.query(
        "SELECT * FROM restore_catalog WHERE run_uuid = %s", (restore["run_uuid"],)
    )
    assert (
        len(rows) == 1
        and rows[0]["role_list"] == ["r1"]
        and rows[0]["duration"].total_seconds() == 5
    )


def test_snapshot_and_pg_dump_release(dump_env) -> None:  # type: ignore[no-untyped-def]
    ok = dump_env.snapshot("app1", "FULL", "15")
    res = dump_env.run("--snapshot-id", str(ok))
    assert res.returncode == 0, res.stderr
    [row] = dump_env.rows(snapshot_id=ok)
    assert row["execution_status"] == "SUCCEEDED" and row["execution_method"] == "AT"
    assert f"-snapid{ok}-cFULL-" in row["pg_dump_file"] and row["def_id"] is None
    old = dump_env.snapshot("app2", "SCHEMA", "14")
    res = dump_env.run("--snapshot-id", str(old))
    assert res.returncode == 1
    [row] = dump_env.rows(snapshot_id=old)
    assert row["execution_status"] == "ERROR" and "older than" in row["error_message"]
