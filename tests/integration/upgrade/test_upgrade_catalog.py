"""sql/pgbackman_5.sql on PgBackMan 1.x catalogs: what is carried over (every server, node,
configuration value, definition, catalog row, restore and alert, with its id), what is
mapped, what is recorded as not carried over, and the guarantees: one transaction (a failed
upgrade changes nothing, not even roles), upgrading twice is a no-op, a dry run rolls back,
catalogs this software does not know are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support import upstream
from upgrade_helpers import (
    drop_database,
    fresh_install,
    full_dump,
    make_upstream,
    new_dbname,
    roles,
    run_upgrade,
    schema_dump,
)


def q(cluster: Any, db: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    return cluster.query(sql, params, dbname=db)


def one(cluster: Any, db: str, sql: str, params: Any = None) -> Any:
    return q(cluster, db, sql, params)[0][0]


def upgraded(cluster: Any, db: str) -> str:
    res = run_upgrade(cluster, db)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("version", [1, 4])
def test_every_row_is_carried_over_with_its_id(
    catalog_cluster: Any, upstream_db: Callable[..., str], version: int
) -> None:
    c = catalog_cluster
    db = upstream_db(version)
    next_bck_before = one(c, db, "SELECT last_value FROM backup_catalog_bck_id_seq")
    upgraded(c, db)

    assert q(
        c,
        db,
        "SELECT server_id, hostname, status, remarks FROM backup_server ORDER BY 1",
    ) == [
        (1, "backup01", "RUNNING", "first server"),
        (2, "backup02", "RUNNING", "second server"),
    ]
    assert q(
        c, db, "SELECT node_id, hostname, pgport, status FROM pgsql_node ORDER BY 1"
    ) == [
        (1, "db1", 5432, "RUNNING"),
        (2, "db2", 5433, "STOPPED"),
    ]
    assert q(c, db, "SELECT pgsql_node_id FROM pgsql_node_stopped") == [(2,)]
    assert q(
        c,
        db,
        "SELECT backup_server_id, pgsql_node_id FROM pgsql_node_to_delete ORDER BY 1",
    ) == [
        (1, 3),
        (2, 3),
    ]
    # CONFIG (never implemented) is gone with its definition; def 5 was force-deleted in 1.x.
    defs = q(
        c,
        db,
        "SELECT def_id, dbname, backup_code, job_status, deleted_at IS NOT NULL,"
        " extra_backup_parameters FROM backup_definition ORDER BY 1",
    )
    deleted = version >= 2
    assert defs == [
        (1, "app1", "FULL", "ACTIVE", False, ""),
        (2, "", "CLUSTER", "ACTIVE", False, ""),
        (
            3,
            "app2",
            "SCHEMA",
            "DELETED" if deleted else "STOPPED",
            deleted,
            "--no-tablespaces",
        ),
    ]
    rows = q(
        c,
        db,
        "SELECT bck_id, def_id, snapshot_id, backup_code, execution_status, pg_dump_file IS NULL,"
        " pg_dump_file_size, pg_dump_roles_file IS NULL, pg_dump_roles_file_size,"
        " pg_dump_log_file IS NULL, pg_dump_release, run_uuid, checksum, role_list"
        " FROM backup_catalog ORDER BY 1",
    )
    rel = "9.6" if version >= 2 else None
    assert rows == [
        (
            1,
            1,
            None,
            "FULL",
            "SUCCEEDED",
            False,
            1048576,
            False,
            512,
            False,
            rel,
            None,
            None,
            ["app_owner", "app_reader"],
        ),
        (
            2,
            1,
            None,
            "FULL",
            "ERROR",
            True,
            None,
            True,
            None,
            False,
            rel,
            None,
            None,
            [],
        ),
        (
            3,
            2,
            None,
            "CLUSTER",
            "SUCCEEDED",
            False,
            2097152,
            True,
            None,
            False,
            rel,
            None,
            None,
            [],
        ),
        (
            4,
            None,
            1,
            "FULL",
            "SUCCEEDED",
            False,
            4096,
            False,
            100,
            False,
            rel,
            None,
            None,
            ["app_owner"],
        ),
    ]
    assert (
        one(c, db, "SELECT pg_dump_dbconfig_file FROM backup_catalog WHERE bck_id = 4")
        is None
    )
    assert (
        one(
            c,
            db,
            "SELECT pg_dump_release FROM snapshot_definition WHERE snapshot_id = 1",
        )
        == rel
    )
    # The forced deletion of 1.x: its files are still to be deleted by maintenance.
    assert q(
        c,
        db,
        "SELECT bck_id, def_id, pg_dump_file LIKE '%-DATABASE.sql', pg_dump_roles_file,"
        " pg_dump_manifest_file, pgsql_node_id, dbname, backup_code"
        " FROM catalog_entries_to_delete",
    ) == [(6, 5, True, None, None, 1, "old", "DATA")]  # identity read from 1.x's names
    assert q(
        c,
        db,
        "SELECT restore_def, bck_id, target_dbname, status, roles_to_restore FROM restore_definition",
    ) == [(1, 1, "app1_copy", "DEFINED", ["app_owner"])]
    assert q(
        c,
        db,
        "SELECT restore_id, execution_status, backup_pg_release FROM restore_catalog",
    ) == [(1, "SUCCEEDED", "9.6")]
    # 1.x named every log of a restore definition alike: the identity maintenance deletes
    # it by is read from that name and the node partition it lies in.
    assert q(
        c,
        db,
        "SELECT restore_log_file LIKE '%/log/app1_copy-db1.example.org-v9_6-restoredef1.log',"
        " restore_def, target_pgsql_node_id, target_dbname FROM restore_logs_to_delete",
    ) == [(True, 1, 1, "app1_copy")]
    if version >= 2:
        assert q(
            c,
            db,
            "SELECT alert_id, alert_type, ref_id, bck_id, sendto, alert_sent, delivered"
            " FROM alerts",
        ) == [(1, "Backup-def", 1, 2, "dba@example.org", True, ["mail"])]
    else:
        assert one(c, db, "SELECT count(*) FROM alerts") == 0
    # Ids continue where 1.x stopped (bck_id 5 and 6 were used, then deleted).
    assert next_bck_before == 6
    new_bck = one(
        c,
        db,
        "SELECT register_backup_catalog(1, 1, 1, 1, 'app1', now(), now(), NULL, NULL, NULL,"
        " NULL, NULL, NULL, NULL, NULL, NULL, NULL, '/log', 'SUCCEEDED', 'CRON', NULL, NULL,"
        " '{}', '15', '15', gen_random_uuid())",
    )
    assert new_bck == 7
    # The version history stays, the current version is added.
    versions = [
        v for (v,) in q(c, db, "SELECT version FROM pgbackman_version ORDER BY 1")
    ]
    assert versions == [*range(1, version + 1), 5]
    # Every node and server gets a crontab rewrite when its backup server starts.
    assert q(
        c, db, "SELECT backup_server_id, pgsql_node_id FROM job_queue ORDER BY 1"
    ) == [
        (1, 1),
        (2, 2),
    ]


def test_configuration_is_carried_over_and_completed(
    catalog_cluster: Any, upstream_db: Callable[..., str]
) -> None:
    c = catalog_cluster
    db = upstream_db(4)
    c.psql(
        "UPDATE pgsql_node_default_config SET value = 'ops@example.org' WHERE parameter = 'logs_email';"
        "UPDATE backup_server_default_config SET value = '/backup' WHERE parameter = 'root_backup_partition'",
        dbname=db,
    )
    upgraded(c, db)
    node1 = dict(
        q(c, db, "SELECT parameter, value FROM pgsql_node_config WHERE node_id = 1")
    )
    defaults = dict(q(c, db, "SELECT parameter, value FROM pgsql_node_default_config"))
    assert node1.keys() == defaults.keys()
    assert node1["retention_redundancy"] == "3"
    assert node1["logs_email"] == "dba@example.org"
    assert node1["pgnode_backup_partition"] == "/srv/pgbackman/pgsql_node_1"
    assert node1["automatic_deletion_retention"] == "14 days"
    assert defaults["logs_email"] == "ops@example.org"
    srv1 = dict(
        q(
            c,
            db,
            "SELECT parameter, value FROM backup_server_config WHERE server_id = 1",
        )
    )
    assert srv1["pgsql_bin_9_4"] == "/opt/pgsql-9.6/bin"  # the server's own value
    assert srv1["pgsql_bin_10"] == "/usr/pgsql-10/bin"
    assert srv1["pgsql_bin_15"] == "/usr/lib/postgresql/15/bin"  # new in this version
    assert srv1["backup_user"] == "pgbackman"
    assert srv1["root_backup_partition"] == "/srv/pgbackman"
    sdefaults = dict(
        q(c, db, "SELECT parameter, value FROM backup_server_default_config")
    )
    assert sdefaults["root_backup_partition"] == "/backup"
    assert not any(p.startswith("pgsql_bin_9") for p in sdefaults)
    # A later 9.x bin directory can still be set on a server (and is checked).
    c.psql(
        "SELECT update_backup_server_config(1, 'pgsql_bin_9_6', '/usr/pgsql-9.6/bin')",
        dbname=db,
    )
    with pytest.raises(RuntimeError, match="absolute path"):
        c.psql(
            "SELECT update_backup_server_config(1, 'pgsql_bin_9_6', 'relative/bin')",
            dbname=db,
        )


def test_what_is_not_carried_over_is_recorded_with_the_reason(
    catalog_cluster: Any, upstream_db: Callable[..., str]
) -> None:
    c = catalog_cluster
    db = upstream_db(3, rows=[1, 2, 3])
    c.psql(
        "INSERT INTO server_status VALUES ('DOWN', 'Server is down');"
        "UPDATE pgsql_node SET status = 'DOWN' WHERE node_id = 2;"
        "UPDATE pgsql_node_config SET value = 'two' WHERE node_id = 1 AND parameter = 'retention_redundancy';"
        "INSERT INTO pgsql_node_config VALUES (1, 'pgnode_cluster_name', 'main', 'site addition');"
        "UPDATE backup_server_config SET value = 'bin' WHERE server_id = 2 AND parameter = 'pgsql_bin_9_5';"
        "UPDATE snapshot_definition SET pg_dump_release = 'latest';"
        "UPDATE backup_definition SET remarks = E'two\\nlines' WHERE def_id = 1;"
        "UPDATE backup_definition SET encryption = true WHERE def_id = 3;"
        "INSERT INTO backup_server_default_config VALUES ('gpg_key', 'ABCD', 'never used');",
        dbname=db,
    )
    out = upgraded(c, db)
    notes = q(
        c,
        db,
        "SELECT object, ref, value, from_version, from_tag FROM upgrade_not_carried ORDER BY id",
    )
    assert {n[3:] for n in notes} == {(3, "v_1_2_0")}
    got = {(n[0], n[1], n[2]) for n in notes}
    assert got == {
        ("server_status", "code DOWN", "Server is down"),
        ("backup_code", "code CONFIG", "Backup of the configuration files"),
        ("backup_server_default_config", "parameter gpg_key", "ABCD"),
        *(
            ("backup_server_default_config", f"parameter {p}", v)
            for p, v in upstream._bin_rows(3)
        ),
        ("backup_definition", "def_id 1", "two\nlines"),
        ("backup_definition", "def_id 3", "encryption=true"),
        ("backup_server_config", "server 2 pgsql_bin_9_5", "bin"),
        ("pgsql_node_config", "node 1 pgnode_cluster_name", "main"),
        ("pgsql_node_config", "node 1 retention_redundancy", "two"),
        ("backup_definition", "def_id 4", "backup_code=CONFIG"),
        ("snapshot_definition", "snapshot_id 1", "latest"),
        (
            "backup_catalog",
            "bck_id 2",
            "pg_dump_file None, pg_dump_roles_file None, pg_dump_dbconfig_file None",
        ),
        ("backup_catalog", "bck_id 4", "pg_dump_dbconfig_file None"),
        ("backup_catalog", "bck_id 5", "backup_code=CONFIG"),
        ("alerts", "alert_id 2", "bck_id=5"),
    }
    reasons = dict(
        ((n[0], n[1]), r)
        for n, (r,) in zip(
            notes,
            q(c, db, "SELECT reason FROM upgrade_not_carried ORDER BY id"),
            strict=True,
        )
    )
    assert "become STOPPED" in reasons[("server_status", "code DOWN")]
    assert "never encrypted" in reasons[("backup_definition", "def_id 3")]
    assert q(c, db, "SELECT encryption FROM backup_definition WHERE def_id = 3") == [
        (False,)
    ]
    assert (
        "Invalid retention_redundancy value: two"
        in reasons[("pgsql_node_config", "node 1 retention_redundancy")]
    )
    assert (
        "the default 1 is used"
        in reasons[("pgsql_node_config", "node 1 retention_redundancy")]
    )
    assert (
        "absolute path below /"
        in reasons[("backup_server_config", "server 2 pgsql_bin_9_5")]
    )
    assert "there is nothing to restore" in reasons[("backup_catalog", "bck_id 2")]
    assert "not carried over" in reasons[("backup_definition", "def_id 4")]
    # ... and the catalog holds what the notes say was done instead.
    assert one(c, db, "SELECT status FROM pgsql_node WHERE node_id = 2") == "STOPPED"
    assert (
        one(
            c,
            db,
            "SELECT value FROM pgsql_node_config WHERE node_id = 1 AND parameter = 'retention_redundancy'",
        )
        == "1"
    )
    assert (
        one(
            c,
            db,
            "SELECT count(*) FROM pgsql_node_config WHERE parameter = 'pgnode_cluster_name'",
        )
        == 0
    )
    assert (
        one(c, db, "SELECT remarks FROM backup_definition WHERE def_id = 1")
        == "two lines"
    )
    assert one(c, db, "SELECT pg_dump_release FROM snapshot_definition") is None
    assert (
        one(
            c,
            db,
            "SELECT count(*) FROM backup_server_config WHERE server_id = 2 AND parameter = 'pgsql_bin_9_5'",
        )
        == 0
    )
    # The upgrade prints the same report.
    assert "pgnode_cluster_name" in out and "Not carried over" in out


def test_owned_by_the_owner_role_with_the_privilege_model(
    catalog_cluster: Any, upstream_db: Callable[..., str]
) -> None:
    c = catalog_cluster
    db = upstream_db(4)
    upgraded(c, db)
    owners = q(
        c,
        db,
        "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class"
        " WHERE relnamespace = 'public'::regnamespace"
        " UNION SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc"
        " WHERE pronamespace = 'public'::regnamespace"
        " UNION SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()",
    )
    assert owners == [("pgbackman_role_owner",)]
    assert (
        one(
            c,
            db,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgbackman_upstream'",
        )
        == 0
    )
    rw = c.connect(db, user="pgbackman_role_rw")
    try:
        with rw.cursor() as cur:
            cur.execute("SELECT count(*) FROM show_backup_catalog")
            assert cur.fetchone()[0] == 4
            with pytest.raises(Exception, match="permission denied"):
                cur.execute("CREATE TABLE mine (x int)")
    finally:
        rw.close()


def test_upgrading_twice_is_a_noop(
    catalog_cluster: Any, upstream_db: Callable[..., str]
) -> None:
    c = catalog_cluster
    db = upstream_db(4)
    upgraded(c, db)
    before = full_dump(c, db)
    res = run_upgrade(c, db)
    assert res.returncode == 0, res.stderr
    assert "is at schema version 5 (v_2_0_0): nothing to do" in res.stdout
    assert full_dump(c, db) == before


def test_dry_run_reports_and_changes_nothing(
    catalog_cluster: Any, upstream_db: Callable[..., str]
) -> None:
    c = catalog_cluster
    db = upstream_db(2, rows=[1, 2])
    before = full_dump(c, db)
    res = run_upgrade(c, db, "-v", "pgb_dry_run=on")
    assert res.returncode == 0, res.stderr
    assert "dry run: rolled back, nothing changed" in res.stdout
    assert "backup_catalog" in res.stdout and "code CONFIG" in res.stdout
    assert full_dump(c, db) == before


def test_failed_upgrade_leaves_the_catalog_and_the_roles_as_they_were(
    blank_cluster: Any,
) -> None:
    c = blank_cluster
    db = make_upstream(c, 3)
    # 1.x accepted any text as a cron field; this version refuses hour 25.
    c.psql("UPDATE backup_definition SET hours_cron = '25' WHERE def_id = 3", dbname=db)
    roles_before, before = roles(c), full_dump(c, db)
    assert [r[0] for r in roles_before] == ["pgbackman_role_ro", "pgbackman_role_rw"]
    res = run_upgrade(c, db)
    assert res.returncode != 0
    assert "Upgrade stopped, nothing was changed" in res.stderr
    assert "backup_definition" in res.stderr and "def_id 3" in res.stderr
    assert "hours_cron" in res.stderr
    assert full_dump(c, db) == before
    assert roles(c) == roles_before  # not even the owner role was left behind

    # Corrected with 1.x, the upgrade goes through and creates the owner role.
    c.psql("UPDATE backup_definition SET hours_cron = '05' WHERE def_id = 3", dbname=db)
    res = run_upgrade(c, db)
    assert res.returncode == 0, res.stderr
    assert ("pgbackman_role_owner", False, False, True) in roles(c)
    assert one(c, db, "SELECT max(version) FROM pgbackman_version") == 5


@pytest.mark.parametrize(
    "setup, message",
    [
        (
            "INSERT INTO pgbackman_version (version, tag) VALUES (5, 'v_1_3_1')",
            "neither PgBackMan 1.x",
        ),
        (
            "CREATE TABLE site_report (x int)",
            "tables that PgBackMan 1.x does not create: site_report",
        ),
        ("DELETE FROM pgbackman_version", "has no pgbackman_version row"),
    ],
)
def test_catalogs_it_does_not_know_are_refused(
    catalog_cluster: Any, upstream_db: Callable[..., str], setup: str, message: str
) -> None:
    c = catalog_cluster
    db = upstream_db(4)
    c.psql(setup, dbname=db)
    before = full_dump(c, db)
    res = run_upgrade(c, db)
    assert res.returncode != 0
    assert message in res.stderr
    assert full_dump(c, db) == before


def test_refused_without_superuser(
    catalog_cluster: Any, upstream_db: Callable[..., str]
) -> None:
    from upgrade_helpers import UPGRADE, psql_file

    c = catalog_cluster
    db = upstream_db(4)
    res = psql_file(c, db, UPGRADE, user="pgbackman_role_rw")
    assert res.returncode != 0
    assert "must run as a superuser" in res.stderr


def test_catalog_of_this_rewrite_numbered_1_is_renumbered(catalog_cluster: Any) -> None:
    c = catalog_cluster
    db, ref = new_dbname("ours1"), new_dbname("ours5")
    try:
        fresh_install(c, db)
        fresh_install(c, ref)
        c.psql("UPDATE pgbackman_version SET version = 1", dbname=db)
        res = run_upgrade(c, db)
        assert res.returncode == 0, res.stderr
        assert "upgraded from schema version 1 (v_2_0_0) to 5 (v_2_0_0)" in res.stdout
        assert q(c, db, "SELECT version, tag FROM pgbackman_version") == [
            (5, "v_2_0_0")
        ]
        assert schema_dump(c, db) == schema_dump(c, ref)
    finally:
        drop_database(c, db)
        drop_database(c, ref)
