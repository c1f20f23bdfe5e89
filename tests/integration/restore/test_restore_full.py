"""FULL restores with the real pgbackman_dump / pgbackman_restore, to another node that has
none of the roles: data, roles, role settings, database settings and privileges match."""

from __future__ import annotations

import stat
from pathlib import Path

from psycopg2 import sql
from restore_helpers import databases, roles
from support.richdb import (
    RichDb,
    database_fingerprint,
    role_fingerprint,
    table_checksums,
)


def test_full_restore_to_another_node(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "FULL")
    rdef = rst.define(bck["bck_id"], rich.dbname, roles=rich.roles, extra="-j 2")
    res = rst.restore(rdef)
    assert res.returncode == 0, res.stderr
    row = rst.one_row(rdef)
    assert row["execution_status"] == "SUCCEEDED", row["error_message"]
    assert row["error_message"] is None and row["renamed_dbname"] is None
    assert row["target_pgsql_node_release"] == "15" and row["backup_pg_release"] == "15"
    assert sorted(row["role_list"]) == rich.roles and row["run_uuid"] is not None
    assert row["source_dbname"] == rich.dbname and row["target_dbname"] == rich.dbname
    assert table_checksums(rst.node2, rich.dbname) == table_checksums(
        rst.node1, rich.dbname
    )
    assert role_fingerprint(rst.node2, rich.roles) == role_fingerprint(
        rst.node1, rich.roles
    )
    assert database_fingerprint(rst.node2, rich.dbname) == database_fingerprint(
        rst.node1, rich.dbname
    )
    assert not [d for d in databases(rst.node2) if "_pgbackman_restore_" in d]
    log = Path(row["restore_log_file"])
    assert log.parent == rst.pgb.root / f"pgsql_node_{rst.node2_id}" / "log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "Command: " in text and "pg_restore" in text and "ON_ERROR_STOP=1" in text
    assert "--exit-on-error" in text and "-j 2" in text
    assert "secret-" not in text and "PASSWORD" not in text
    assert set(rich.roles) <= roles(rst.node2)


def test_restore_onto_existing_database_with_rename(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "FULL")
    # node2 already has a database under the target name, with its own data.
    rst.node2.psql(f'CREATE DATABASE "{rich.dbname}"')
    rst.node2.psql(
        "CREATE TABLE old_data (v text); INSERT INTO old_data VALUES ('keep me')",
        dbname=rich.dbname,
    )
    rdef = rst.define(
        bck["bck_id"], rich.dbname, renamed=f"{rich.dbname}_old", roles=rich.roles
    )
    res = rst.restore(rdef)
    assert res.returncode == 0, res.stderr
    row = rst.one_row(rdef)
    assert row["execution_status"] == "SUCCEEDED", row["error_message"]
    assert row["renamed_dbname"] == f"{rich.dbname}_old"
    assert rst.node2.query("SELECT v FROM old_data", dbname=f"{rich.dbname}_old") == [
        ("keep me",)
    ]
    assert table_checksums(rst.node2, rich.dbname) == table_checksums(
        rst.node1, rich.dbname
    )
    assert database_fingerprint(rst.node2, rich.dbname) == database_fingerprint(
        rst.node1, rich.dbname
    )


def test_existing_target_without_rename_is_refused(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "FULL")
    rst.node2.psql(f'CREATE DATABASE "{rich.dbname}"')
    before_roles, before_dbs = roles(rst.node2), databases(rst.node2)
    rdef = rst.define(bck["bck_id"], rich.dbname, roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 1
    row = rst.one_row(rdef)
    assert row["execution_status"] == "ERROR"
    assert "already exists" in row["error_message"]
    assert roles(rst.node2) == before_roles and databases(rst.node2) == before_dbs


def test_rename_refused_while_sessions_are_connected(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "FULL")
    rst.node2.psql(f'CREATE DATABASE "{rich.dbname}"')
    before_roles, before_dbs = roles(rst.node2), databases(rst.node2)
    rdef = rst.define(
        bck["bck_id"], rich.dbname, renamed=f"{rich.dbname}_old", roles=rich.roles
    )
    conn = rst.node2.connect(rich.dbname)
    try:
        res = rst.restore(rdef)
        assert rst.node2.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (rich.dbname,)
        ) == [(1,)]  # our session was not ended
    finally:
        conn.close()
    assert res.returncode == 1
    row = rst.one_row(rdef)
    assert row["execution_status"] == "ERROR"
    assert "session(s) connected" in row["error_message"]
    assert roles(rst.node2) == before_roles and databases(rst.node2) == before_dbs


HOSTILE = "we'ird db; $(touch /tmp/P_restore) host=evil %x\\z"


def test_hostile_target_and_renamed_names(rst) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup("app1", "FULL")
    target, renamed = HOSTILE, HOSTILE + " old"
    conn = rst.node2.connect("postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))
        rdef = rst.define(bck["bck_id"], target, renamed=renamed, extra="-n public")
        res = rst.restore(rdef)
        assert res.returncode == 0, res.stderr
        row = rst.one_row(rdef)
        assert (row["target_dbname"], row["renamed_dbname"]) == (target, renamed)
        assert rst.node2.query("SELECT count(*) FROM t", dbname=target) == [(100,)]
        assert rst.node2.query(
            "SELECT 1 FROM pg_database WHERE datname = %s", (renamed,)
        ) == [(1,)]
        assert not Path("/tmp/P_restore").exists()
    finally:
        with conn.cursor() as cur:
            for name in (target, renamed):
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
                )
        conn.close()
