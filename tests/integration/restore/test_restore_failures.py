"""Failed restores: a dump failing its checksum is refused and touches nothing; a failing
pg_restore leaves no database under the target name, drops what the run created, and
records ONE ERROR row."""

from __future__ import annotations

import subprocess
from pathlib import Path

from restore_helpers import VENV_BIN, databases, roles
from support.damage import flip_a_byte
from support.richdb import RichDb, table_checksums


def test_checksum_mismatch_refuses_and_touches_nothing(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "FULL")
    victim = flip_a_byte(Path(bck["pg_dump_file"]))
    before_roles, before_dbs = roles(rst.node2), databases(rst.node2)
    rdef = rst.define(bck["bck_id"], rich.dbname, roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 1
    row = rst.one_row(rdef)
    assert row["execution_status"] == "ERROR"
    assert (
        "Checksum mismatch" in row["error_message"]
        and victim.name in row["error_message"]
    )
    assert roles(rst.node2) == before_roles and databases(rst.node2) == before_dbs
    assert Path(row["restore_log_file"]).is_file()


def test_own_backup_without_its_manifest_is_refused_not_taken_for_legacy(  # type: ignore[no-untyped-def]
    rst, rich: RichDb
) -> None:
    """Only rows imported from PgBackMan 1.x (no run_uuid) restore unverified; a row this
    software wrote whose manifest and checksum were removed is refused."""
    bck = rst.backup(rich.dbname, "FULL")
    rst.pgb.su(
        "UPDATE backup_catalog SET pg_dump_manifest_file = NULL, checksum = NULL"
        f" WHERE bck_id = {int(bck['bck_id'])}"
    )
    before_roles, before_dbs = roles(rst.node2), databases(rst.node2)
    rdef = rst.define(bck["bck_id"], rich.dbname, roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 1
    row = rst.one_row(rdef)
    assert row["execution_status"] == "ERROR"
    assert "is UNVERIFIED" in row["error_message"]
    assert "Legacy" not in row["error_message"]
    assert roles(rst.node2) == before_roles and databases(rst.node2) == before_dbs


def test_failing_pg_restore_leaves_nothing_under_the_target_name(
    rst, rich: RichDb
) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "FULL")
    before_roles, before_dbs = roles(rst.node2), databases(rst.node2)
    # pg_restore --role=<missing role> fails at its first statement.
    rdef = rst.define(
        bck["bck_id"], rich.dbname, roles=rich.roles, extra="--role=no_such_role_x"
    )
    res = rst.restore(rdef)
    assert res.returncode == 1
    row = rst.one_row(rdef)
    assert row["execution_status"] == "ERROR"
    assert "pg_restore exited with status 1" in row["error_message"]
    assert "no_such_role_x" in row["error_message"]
    # No target, no temporary database, and the roles this run created were dropped again.
    assert databases(rst.node2) == before_dbs and roles(rst.node2) == before_roles


def test_data_restore_into_database_without_schema_fails_cleanly(
    rst, rich: RichDb
) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "DATA")
    rst.node2.psql(f'CREATE DATABASE "{rich.dbname}"')
    rst.node2.psql(
        "CREATE SCHEMA app; CREATE TABLE app.customers (id int PRIMARY KEY, name text,"
        " city text, data jsonb)",
        dbname=rich.dbname,
    )
    before = table_checksums(rst.node2, rich.dbname)
    rdef = rst.define(bck["bck_id"], rich.dbname)
    res = rst.restore(rdef)
    assert res.returncode == 1
    row = rst.one_row(rdef)
    assert row["execution_status"] == "ERROR" and "pg_restore" in row["error_message"]
    # One transaction: the table that could have been loaded is still empty.
    assert table_checksums(rst.node2, rich.dbname) == before


def test_data_restore_needs_an_existing_target(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "DATA")
    before_dbs = databases(rst.node2)
    rdef = rst.define(bck["bck_id"], rich.dbname)
    res = rst.restore(rdef)
    assert res.returncode == 1
    row = rst.one_row(rdef)
    assert (
        row["execution_status"] == "ERROR" and "does not exist" in row["error_message"]
    )
    assert databases(rst.node2) == before_dbs


def test_bad_extra_parameters_are_refused_before_anything(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup(rich.dbname, "FULL")
    before_roles, before_dbs = roles(rst.node2), databases(rst.node2)
    rdef = rst.define(
        bck["bck_id"], rich.dbname, roles=rich.roles, extra="--create -d postgres"
    )
    res = rst.restore(rdef)
    assert res.returncode == 1
    row = rst.one_row(rdef)
    assert (
        row["execution_status"] == "ERROR"
        and "--create is not allowed" in row["error_message"]
    )
    assert roles(rst.node2) == before_roles and databases(rst.node2) == before_dbs


def test_bad_usage_exits_2(rst) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    from restore_helpers import VENV_BIN

    for args in ([], ["--restore-def", "x"], ["--restore-def", "0"], ["--bogus"]):
        res = subprocess.run(
            [str(VENV_BIN / "pgbackman_restore"), *args],
            env=rst.pgb.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert res.returncode == 2, (args, res.stderr)
    res = rst.restore(999999)
    assert res.returncode == 1 and "does not exist" in res.stderr


def test_backup_without_its_checksum_is_refused_unless_forced(
    rst, rich: RichDb
) -> None:  # type: ignore[no-untyped-def]
    """Issue 12 item 4: with the catalog's checksum set to NULL, verify said OK and restore
    went ahead with tampered files. A backup this software wrote without its checksum is
    UNVERIFIED: --verify fails, the restore is refused, ``--force`` (by hand) restores it."""
    bck = rst.backup(rich.dbname, "FULL")
    rst.pgb.su_query(
        "UPDATE backup_catalog SET checksum = NULL WHERE bck_id = %s", (bck["bck_id"],)
    )
    ver = subprocess.run(
        [
            str(VENV_BIN / "pgbackman_maintenance"),
            "--verify",
            "--bck-id",
            str(bck["bck_id"]),
        ],
        env=rst.pgb.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ver.returncode == 1
    assert (
        ver.stdout.strip()
        == f"bck_id {bck['bck_id']} UNVERIFIED no checksum manifest recorded"
    )
    (state,) = rst.pgb.su_query(
        "SELECT integrity FROM backup_catalog WHERE bck_id = %s", (bck["bck_id"],)
    )
    assert state == ("UNVERIFIED",)
    before_dbs = databases(rst.node2)
    rdef = rst.define(bck["bck_id"], rich.dbname, roles=rich.roles)
    assert rst.restore(rdef).returncode == 1
    row = rst.one_row(rdef)
    assert row["execution_status"] == "ERROR" and "UNVERIFIED" in row["error_message"]
    assert "--force" in row["error_message"] and databases(rst.node2) == before_dbs

    forced = rst.define(bck["bck_id"], rich.dbname + "_copy", roles=rich.roles)
    res = rst.restore(forced, 180, "--force")
    assert res.returncode == 0, res.stderr
    assert rst.one_row(forced)["execution_status"] == "SUCCEEDED"
    assert (
        "restoring it anyway (--force)"
        in Path(rst.one_row(forced)["restore_log_file"]).read_text()
    )
    assert table_checksums(rst.node2, rich.dbname + "_copy") == table_checksums(
        rst.node1, rich.dbname
    )
