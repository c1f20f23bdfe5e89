"""pgbackman_dump for each backup code: the real program dumps the rich database, the dump
is restored by hand into node2 (none of the roles exist there) and compared."""

from __future__ import annotations

import gzip
import os
import re
import stat
import subprocess
from pathlib import Path

from dump_helpers import pg_restore, psql_file, restore_full
from support.pgcluster import PgCluster
from support.richdb import (
    RichDb,
    database_fingerprint,
    role_fingerprint,
    table_checksums,
)

from pgbackman.archive import files


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _assert_modes(partition: Path) -> None:
    for dirpath, _dirs, names in os.walk(partition / "dump"):
        assert _mode(Path(dirpath)) == 0o700, dirpath
        for n in names:
            assert _mode(Path(dirpath) / n) == 0o600, n
    for n in os.listdir(partition / "log"):
        assert _mode(partition / "log" / n) == 0o600


def _succeeded(dump_env, def_id: int) -> dict:  # type: ignore[no-untyped-def]
    rows = dump_env.rows(def_id)
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["execution_status"] == "SUCCEEDED", row["error_message"]
    assert row["error_message"] is None
    assert row["checksum"] and len(row["checksum"]) == 64
    assert row["pg_dump_file_size"] > 0 and row["duration"] is not None
    assert row["pgsql_node_release"] == "15" and row["pg_dump_release"] == "15"
    assert row["run_uuid"] is not None and row["execution_method"] == "CRON"
    manifest = Path(row["pg_dump_manifest_file"])
    assert files.verify_manifest(manifest.parent, manifest.name) == []
    assert not [p for p in manifest.parent.iterdir() if p.name.startswith(".partial-")]
    log = Path(row["pg_dump_log_file"]).read_text()
    assert "Command: " in log and "pg_dump: " in log or "pg_dumpall" in log
    return row


def test_full_roundtrip_to_another_cluster(
    dump_env, rich: RichDb, node1: PgCluster, node2: PgCluster
) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define(rich.dbname, "FULL")
    old = os.umask(0)  # the program must not depend on the umask it inherits
    try:
        res = dump_env.run("--def-id", str(def_id))
    finally:
        os.umask(old)
    assert res.returncode == 0, res.stderr
    row = _succeeded(dump_env, def_id)
    assert row["backup_code"] == "FULL" and row["dbname"] == rich.dbname
    assert sorted(row["role_list"]) == rich.roles
    assert row["pg_dump_roles_file_size"] > 0 and row["pg_dump_dbconfig_file_size"] > 0
    assert row["dbname_size"] > 0
    assert Path(row["pg_dump_file"]).name.endswith("-DATABASE")
    assert f"-defid{def_id}-cFULL-" in row["pg_dump_file"]
    _assert_modes(dump_env.partition)
    assert "PASSWORD" in Path(row["pg_dump_roles_file"]).read_text()

    restore_full(node2, row, rich.dbname)
    assert table_checksums(node2, rich.dbname) == table_checksums(node1, rich.dbname)
    assert role_fingerprint(node2, rich.roles) == role_fingerprint(node1, rich.roles)
    assert database_fingerprint(node2, rich.dbname) == database_fingerprint(
        node1, rich.dbname
    )
    # Applying the globals again is harmless (idempotent files).
    psql_file(node2, row["pg_dump_roles_file"])
    psql_file(node2, row["pg_dump_dbconfig_file"], target_db=rich.dbname)
    assert role_fingerprint(node2, rich.roles) == role_fingerprint(node1, rich.roles)


def test_schema_then_data_restore(
    dump_env, rich: RichDb, node1: PgCluster, node2: PgCluster
) -> None:  # type: ignore[no-untyped-def]
    schema_def = dump_env.define(rich.dbname, "SCHEMA")
    data_def = dump_env.define(rich.dbname, "DATA")
    for d in (schema_def, data_def):
        res = dump_env.run("--def-id", str(d))
        assert res.returncode == 0, res.stderr
    srow = _succeeded(dump_env, schema_def)
    drow = _succeeded(dump_env, data_def)
    assert (
        sorted(srow["role_list"]) == rich.roles
        and sorted(drow["role_list"]) == rich.roles
    )
    target = rich.dbname + "_copy"  # the DBCONFIG file retargets without editing
    try:
        restore_full(node2, srow, target)
        counts = table_checksums(node2, target)
        assert counts["app.customers"][0] == 0  # schema only
        pg_restore(node2, drow["pg_dump_file"], target, "--disable-triggers")
        assert table_checksums(node2, target) == table_checksums(node1, rich.dbname)
        fp2, fp1 = (
            database_fingerprint(node2, target),
            database_fingerprint(node1, rich.dbname),
        )
        assert fp2 == fp1
    finally:
        node2.psql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


def test_rds_has_no_globals(
    dump_env, rich: RichDb, node1: PgCluster, node2: PgCluster
) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define(rich.dbname, "RDS")
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    row = _succeeded(dump_env, def_id)
    assert row["pg_dump_roles_file"] is None and row["pg_dump_dbconfig_file"] is None
    assert row["role_list"] == []
    assert not [
        n
        for n in dump_env.final_entries()
        if n.endswith(("-USERS.sql", "-DBCONFIG.sql"))
    ]
    node2.psql(f'CREATE DATABASE "{rich.dbname}"')
    pg_restore(node2, row["pg_dump_file"], rich.dbname, "--no-owner", "--no-acl")
    assert table_checksums(node2, rich.dbname) == table_checksums(node1, rich.dbname)


def test_cluster_dump_restores_into_a_fresh_cluster(
    dump_env, rich: RichDb, node1: PgCluster, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define("", "CLUSTER")
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    row = _succeeded(dump_env, def_id)
    path = Path(row["pg_dump_file"])
    assert re.fullmatch(
        rf"CLUSTER-127\.0\.0\.1-v15-defid{def_id}-cCLUSTER-\d{{8}}T\d{{6}}\.sql\.gz",
        path.name,
    )
    assert (
        row["dbname"] == ""
        and row["backup_code"] == "CLUSTER"
        and row["pg_dump_roles_file"] is None
    )
    _assert_modes(dump_env.partition)
    plain = tmp_path / "cluster.sql"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    os.chmod(tmp_path, 0o755)
    os.chmod(plain, 0o644)
    scratch = PgCluster(tmp_path, "scratch", node1.bindir).init().start()
    try:
        res2 = subprocess.run(
            [
                f"{scratch.bindir}/psql",
                "-X",
                "-q",
                "-h",
                scratch.host,
                "-p",
                str(scratch.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-f",
                str(plain),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert res2.returncode == 0, res2.stderr
        # Only "role postgres already exists" may fail in a cluster dump restored elsewhere.
        errors = [ln for ln in res2.stderr.splitlines() if "ERROR" in ln]
        assert all("already exists" in ln for ln in errors), errors
        assert table_checksums(scratch, rich.dbname) == table_checksums(
            node1, rich.dbname
        )
        assert role_fingerprint(scratch, rich.roles) == role_fingerprint(
            node1, rich.roles
        )
        assert database_fingerprint(scratch, rich.dbname) == database_fingerprint(
            node1, rich.dbname
        )
    finally:
        scratch.destroy()
