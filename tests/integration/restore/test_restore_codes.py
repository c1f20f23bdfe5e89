"""Restores of every backup code other than FULL: SCHEMA then DATA, RDS, CLUSTER (into an
empty third cluster) and a snapshot, under another name and on another node."""

from __future__ import annotations

import subprocess

from restore_helpers import VENV_BIN, databases, roles
from support.pgcluster import PgCluster
from support.richdb import (
    RichDb,
    database_fingerprint,
    role_fingerprint,
    table_checksums,
)


def test_schema_then_data_restore(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    schema = rst.backup(rich.dbname, "SCHEMA")
    data = rst.backup(rich.dbname, "DATA")
    copy = f"{rich.dbname}_copy"
    rdef = rst.define(schema["bck_id"], copy, roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 0, res.stderr
    assert rst.one_row(rdef)["execution_status"] == "SUCCEEDED"
    assert database_fingerprint(rst.node2, copy) == database_fingerprint(
        rst.node1, rich.dbname
    )
    assert all(
        n == 0 for k, (n, _) in table_checksums(rst.node2, copy).items() if k[0] != "<"
    )
    # DATA goes into the existing database that has the schema (no roles needed any more);
    # the shell's scripted form accepts it without a Renamed DBname.
    line = f"register_restore_definition now {data['bck_id']} {rst.node2_id} {copy} '' '' ''"
    res = subprocess.run(
        ["pgbackman", "-C", line],
        env=rst.pgb.shell_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    ((rdef, renamed),) = rst.pgb.su_query(
        "SELECT restore_def, renamed_dbname FROM restore_definition WHERE bck_id = %s",
        (data["bck_id"],),
    )
    assert renamed is None
    res = rst.restore(rdef)
    assert res.returncode == 0, res.stderr
    row = rst.one_row(rdef)
    assert row["execution_status"] == "SUCCEEDED", row["error_message"]
    assert table_checksums(rst.node2, copy) == table_checksums(rst.node1, rich.dbname)
    assert role_fingerprint(rst.node2, rich.roles) == role_fingerprint(
        rst.node1, rich.roles
    )


def test_rds_restore_without_roles(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "RDS")
    assert bck["pg_dump_roles_file"] is None
    before_roles = roles(rst.node2)
    copy = f"{rich.dbname}_copy"
    rdef = rst.define(bck["bck_id"], copy)
    res = rst.restore(rdef)
    assert res.returncode == 0, res.stderr
    assert rst.one_row(rdef)["execution_status"] == "SUCCEEDED"
    assert table_checksums(rst.node2, copy) == table_checksums(rst.node1, rich.dbname)
    assert (
        roles(rst.node2) == before_roles
    )  # --no-owner --no-acl: no role needed or created
    owners = {
        r[0]
        for r in rst.node2.query(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = 'app'",
            dbname=copy,
        )
    }
    assert owners == {"postgres"}


def test_snapshot_restore_as_another_name(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    snap = int(
        rst.pgb.su_query(
            "SELECT register_snapshot_definition(%s, %s, %s, now(), 'FULL', '7 days', '', 'snap', NULL)",
            (rst.pgb.server_id, rst.node1_id, rich.dbname),
        )[0][0]
    )
    res = subprocess.run(
        [str(VENV_BIN / "pgbackman_dump"), "--snapshot-id", str(snap)],
        env=rst.pgb.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    bck = rst.pgb.cat.query_one(
        "SELECT * FROM backup_catalog WHERE snapshot_id = %s", (snap,)
    )
    copy = f"{rich.dbname}_copy"
    rdef = rst.define(bck["bck_id"], copy, roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 0, res.stderr
    assert rst.one_row(rdef)["execution_status"] == "SUCCEEDED"
    assert table_checksums(rst.node2, copy) == table_checksums(rst.node1, rich.dbname)
    assert database_fingerprint(rst.node2, copy) == database_fingerprint(
        rst.node1, rich.dbname
    )
    assert role_fingerprint(rst.node2, rich.roles) == role_fingerprint(
        rst.node1, rich.roles
    )


def test_cluster_restore_into_an_empty_cluster(
    rst, rich: RichDb, node3: PgCluster
) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup("", "CLUSTER")
    node3_id = rst.pgb.register_node(node3)
    rdef = rst.define(bck["bck_id"], "postgres", node_id=node3_id)
    try:
        res = rst.restore(rdef)
        assert res.returncode == 0, res.stderr
        row = rst.one_row(rdef)
        assert row["execution_status"] == "SUCCEEDED", row["error_message"]
        assert (
            set(rich.roles) <= set(row["role_list"])
            and "postgres" not in row["role_list"]
        )
        for db in ("app1", "app2", rich.dbname):
            assert table_checksums(node3, db) == table_checksums(rst.node1, db)
        assert database_fingerprint(node3, rich.dbname) == database_fingerprint(
            rst.node1, rich.dbname
        )
        assert role_fingerprint(node3, rich.roles) == role_fingerprint(
            rst.node1, rich.roles
        )
        # A second CLUSTER restore into a node that now has user databases is refused.
        rdef2 = rst.define(bck["bck_id"], "template1", node_id=node3_id)
        before = databases(node3)
        res = rst.restore(rdef2)
        assert res.returncode == 1
        row = rst.one_row(rdef2)
        assert (
            row["execution_status"] == "ERROR"
            and "without user databases" in row["error_message"]
        )
        assert databases(node3) == before
    finally:
        for db in databases(node3) - {"postgres", "template0", "template1"}:
            node3.psql(f'DROP DATABASE "{db}" WITH (FORCE)')
        for role in rich.roles:
            node3.psql(f'DROP ROLE IF EXISTS "{role}"')
