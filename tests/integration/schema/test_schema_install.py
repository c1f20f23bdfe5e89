"""sql/pgbackman.sql: installation (idempotent, atomic) and the privilege model."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import pytest

SCHEMA = Path(__file__).resolve().parents[3] / "sql" / "pgbackman.sql"
CODE_TABLES = (
    "server_status",
    "backup_code",
    "job_definition_status",
    "at_definition_status",
    "job_execution_status",
    "job_execution_method",
    "alert_type",
)


def q(conn: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def load(
    cluster: Any, path: Path, dbname: str | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [
        f"{cluster.bindir}/psql",
        "-X",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        cluster.host,
        "-p",
        str(cluster.port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-f",
        str(path),
    ]
    if dbname:
        argv[1:1] = ["-v", f"pgb_dbname={dbname}"]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def catalog_fingerprint(cluster: Any, dbname: str) -> list[tuple[Any, ...]]:
    conn = cluster.connect(dbname)
    try:
        return q(
            conn,
            """
            SELECT 'rel', c.relname || ':' || c.relkind::text || ':' || pg_get_userbyid(c.relowner)
              FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'proc', p.oid::regprocedure::text || ':' || pg_get_userbyid(p.proowner)
              FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
            UNION ALL SELECT 'version', version || tag FROM pgbackman_version
            UNION ALL SELECT 'default', parameter || '=' || value FROM backup_server_default_config
            ORDER BY 1, 2""",
        )
    finally:
        conn.close()


# ---------------------------------------------------------------------------- install
def test_loading_twice_is_a_noop(catalog_cluster: Any) -> None:
    before = catalog_fingerprint(catalog_cluster, "pgbackman")
    res = load(catalog_cluster, SCHEMA)
    assert res.returncode == 0, res.stderr
    assert "already installed (version 5)" in res.stdout
    assert res.stderr == ""
    assert catalog_fingerprint(catalog_cluster, "pgbackman") == before
    assert ("version", "5v_2_0_0") in before


def test_failed_load_leaves_no_half_installed_catalog(
    catalog_cluster: Any, tmp_path: Path
) -> None:
    dbname = "pgbackman_failed_load"
    text = SCHEMA.read_text(encoding="utf-8")
    marker = "\nRESET ROLE;\nCOMMIT;\n"
    assert marker in text
    broken = tmp_path / "broken.sql"
    # The driver pulls its parts in with \ir, relative to itself.
    (tmp_path / "schema").symlink_to(SCHEMA.parent / "schema")
    broken.write_text(
        text.replace(marker, "\nSELECT 1 / 0;" + marker), encoding="utf-8"
    )
    try:
        res = load(catalog_cluster, broken, dbname)
        assert res.returncode != 0
        assert "division by zero" in res.stderr
        conn = catalog_cluster.connect(dbname)
        try:
            assert q(
                conn,
                "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
            ) == [(0,)]
            assert q(
                conn,
                "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
            ) == [(0,)]
        finally:
            conn.close()

        res = load(catalog_cluster, SCHEMA, dbname)
        assert res.returncode == 0, res.stderr
        assert "installed (version 5, v_2_0_0)" in res.stdout
        fp = catalog_fingerprint(catalog_cluster, dbname)
        assert fp == catalog_fingerprint(catalog_cluster, "pgbackman")
    finally:
        catalog_cluster.psql(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def test_every_object_is_owned_by_the_owner_role(catalog_cluster: Any) -> None:
    conn = catalog_cluster.connect("pgbackman")
    try:
        owners = q(
            conn,
            """
            SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'public'::regnamespace
            UNION SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
            UNION SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'pgbackman'""",
        )
        assert owners == [("pgbackman_role_owner",)]
        assert q(
            conn,
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'pgbackman_role_owner'",
        ) == [(False,)]
        assert q(conn, "SELECT has_schema_privilege('public', 'public', 'CREATE')") == [
            (False,)
        ]
    finally:
        conn.close()


# ---------------------------------------------------------------------------- privileges
@pytest.fixture
def ro(catalog_cluster: Any, catalog_db: str) -> Iterator[Any]:
    conn = catalog_cluster.connect(catalog_db, user="pgbackman_role_ro")
    yield conn
    conn.close()


@pytest.fixture
def rw(catalog_cluster: Any, catalog_db: str) -> Iterator[Any]:
    conn = catalog_cluster.connect(catalog_db, user="pgbackman_role_rw")
    yield conn
    conn.close()


@pytest.fixture
def server(catalog_cluster: Any, catalog_db: str) -> Iterator[Any]:
    conn = catalog_cluster.connect(catalog_db, user="pgbackman_role_server")
    yield conn
    conn.close()


def relations(catalog_cluster: Any, dbname: str, kind: str) -> list[str]:
    conn = catalog_cluster.connect(dbname)
    try:
        return [
            r[0]
            for r in q(
                conn,
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
                " AND relkind = %s ORDER BY 1",
                (kind,),
            )
        ]
    finally:
        conn.close()


def test_ro_reads_every_view_and_code_table_and_nothing_else(
    catalog_cluster: Any, catalog_db: str, ro: Any, rw: Any
) -> None:
    q(rw, "SELECT register_backup_server('backup01', 'pgbackman.test', 'RUNNING', '')")
    views = relations(catalog_cluster, catalog_db, "v")
    assert {
        "show_backup_servers",
        "show_backup_catalog",
        "get_catalog_entries_to_delete",
        "show_snapshots_in_progress",
        "show_restores_in_progress",
    } <= set(views)
    for view in views:
        q(ro, f'SELECT * FROM "{view}"')
    assert q(ro, 'SELECT "FQDN" FROM show_backup_servers') == [
        ("backup01.pgbackman.test",)
    ]
    for table in CODE_TABLES:
        assert q(ro, f"SELECT count(*) FROM {table}")[0][0] > 0

    su = catalog_cluster.connect(catalog_db)
    first_column = dict(
        q(
            su,
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND ordinal_position = 1",
        )
    )
    su.close()
    for table in relations(catalog_cluster, catalog_db, "r"):
        col = first_column[table]
        for stmt in (
            f"INSERT INTO {table} DEFAULT VALUES",
            f"DELETE FROM {table} WHERE false",
            f"UPDATE {table} SET {col} = {col} WHERE false",
            f"TRUNCATE {table}",
        ):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                q(ro, stmt)
        if table not in CODE_TABLES and table != "pgbackman_version":
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                q(ro, f"SELECT * FROM {table}")

    for call in (
        "register_backup_server('x', 'y', 'RUNNING', '')",
        "register_pgsql_node('x', 'y', 5432, 'postgres', 'RUNNING', '')",
        "register_backup_definition(1, 1, 'db', '1', '1', '*', '*', '*', 'FULL', false,"
        " '7 days', 1, '', 'ACTIVE', '')",
        "update_backup_server_config(1, 'pgsql_bin_15', '/x')",
        "pop_job_queue(1)",
        "delete_backup_catalog(1)",
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            q(ro, f"SELECT {call}")
    assert q(ro, "SELECT validate_cron_field('*/5', 0, 59)") == [(True,)]


def test_rw_registers_objects_but_cannot_change_the_schema(rw: Any) -> None:
    srv = q(
        rw, "SELECT register_backup_server('backup01', 'pgbackman.test', 'RUNNING', '')"
    )[0][0]
    node = q(
        rw,
        "SELECT register_pgsql_node('db1', 'example.org', 5432, 'postgres', 'RUNNING', '')",
    )[0][0]
    def_id = q(
        rw,
        "SELECT register_backup_definition(%s, %s, 'app1', '5', '1', '*', '*', '*', 'FULL', false,"
        " '7 days', 1, '', 'ACTIVE', '')",
        (srv, node),
    )[0][0]
    assert q(
        rw,
        'SELECT "DBname" FROM show_backup_definitions WHERE "DefID"::bigint = %s',
        (def_id,),
    ) == [("app1",)]
    assert [r[0] for r in q(rw, "SELECT pop_job_queue(%s)", (srv,))] == [node]

    for stmt in (
        "CREATE TABLE evil (id int)",
        "DROP TABLE backup_catalog",
        "ALTER TABLE backup_definition DROP CONSTRAINT backup_definition_minutes_cron_check",
        "CREATE FUNCTION evil() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "INSERT INTO show_backup_server_config VALUES (1, 'x', 'y', 'z')",
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            q(rw, stmt)


# ---------------------------------------------------------------------------- least privilege
def _tables(catalog_cluster: Any, dbname: str) -> list[tuple[str, str]]:
    """(table, its first column) of every table of the catalog."""
    conn = catalog_cluster.connect(dbname)
    try:
        return [
            (r[0], r[1])
            for r in q(
                conn,
                "SELECT c.relname, a.attname FROM pg_class c"
                " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1"
                " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
                " ORDER BY 1",
            )
        ]
    finally:
        conn.close()


def test_login_roles_cannot_write_any_table(
    catalog_cluster: Any, catalog_db: str, rw: Any, server: Any
) -> None:
    """Issue: `UPDATE backup_catalog SET execution_status = 'SUCCEEDED'`, `DELETE FROM
    backup_catalog` and `DELETE FROM pgbackman_version` all succeeded as pgbackman_role_rw."""
    for conn in (rw, server):
        for stmt in (
            "UPDATE backup_catalog SET execution_status = 'SUCCEEDED'",
            "DELETE FROM backup_catalog",
            "DELETE FROM pgbackman_version",
            "INSERT INTO pgbackman_version (version, tag) VALUES (99, 'x')",
            "SELECT setval('backup_catalog_bck_id_seq', 1)",
        ):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                q(conn, stmt)
        for table, col in _tables(catalog_cluster, catalog_db):
            for stmt in (
                f"INSERT INTO {table} DEFAULT VALUES",
                f"DELETE FROM {table} WHERE false",
                f"UPDATE {table} SET {col} = {col} WHERE false",
                f"TRUNCATE {table}",
                f"SELECT 1 FROM {table} FOR UPDATE",
            ):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    q(conn, stmt)
            q(conn, f"SELECT count(*) FROM {table}")  # reading is allowed
    assert q(rw, "SELECT count(*) FROM pgbackman_version") == [(1,)]


def test_every_writing_function_is_security_definer_with_a_pinned_search_path(
    catalog_cluster: Any,
) -> None:
    conn = catalog_cluster.connect("pgbackman")
    try:
        rows = q(
            conn,
            """
            SELECT p.proname, p.prosecdef, p.proconfig, p.prosrc,
                   p.prorettype = 'trigger'::regtype
              FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace""",
        )
    finally:
        conn.close()
    writers = set()
    for name, definer, config, src, is_trigger in rows:
        assert "search_path=public, pg_temp" in (config or []), name
        writes = any(
            k in src.upper()
            for k in ("INSERT INTO", "UPDATE ", "DELETE FROM", "FOR UPDATE")
        )
        # Triggers and enqueue_crontab_job run inside a definer function's statement (as the
        # owner); called directly by a login role they can write nothing.
        if writes and not is_trigger and name != "enqueue_crontab_job":
            writers.add(name)
            assert definer, f"{name} writes but is not SECURITY DEFINER"
    assert {
        "register_backup_catalog",
        "move_backup_definitions",
        "pop_job_queue",
    } <= writers


def test_backup_server_role_records_results_but_cannot_change_definitions(
    rw: Any, server: Any
) -> None:
    srv = q(rw, "SELECT register_backup_server('b1', 'pgbackman.test', 'RUNNING', '')")[
        0
    ][0]
    node = q(
        rw,
        "SELECT register_pgsql_node('db1', 'example.org', 5432, 'postgres', 'RUNNING', '')",
    )[0][0]
    def_id = q(
        rw,
        "SELECT register_backup_definition(%s, %s, 'app1', '5', '1', '*', '*', '*', 'FULL',"
        " false, '7 days', 1, '', 'ACTIVE', '')",
        (srv, node),
    )[0][0]
    # What a backup server does: read, record a backup, work its queue, raise an alert.
    assert q(server, "SELECT get_backup_server_id('b1.pgbackman.test')") == [(srv,)]
    bck = q(
        server,
        "SELECT register_backup_catalog(%s, 1, %s, %s, 'app1', now() - interval '1 min', now(),"
        " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '/var/log/x.log', 'ERROR',"
        " 'CRON', 'boom', NULL, NULL, NULL, NULL, gen_random_uuid())",
        (def_id, srv, node),
    )[0][0]
    assert q(server, "SELECT pop_job_queue(%s)", (srv,)) == [(node,)]
    assert q(server, "SELECT count(*) FROM alerts WHERE bck_id = %s", (bck,)) == [(1,)]
    # What it must not do.
    for call in (
        "register_backup_server('x', 'y', 'RUNNING', '')",
        "register_pgsql_node('x', 'y', 5432, 'postgres', 'RUNNING', '')",
        f"register_backup_definition({srv}, {node}, 'db', '1', '1', '*', '*', '*', 'FULL',"
        " false, '7 days', 1, '', 'ACTIVE', '')",
        f"update_backup_definition({def_id}, '7', NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        " 'STOPPED', NULL)",
        f"delete_backup_definition_id({def_id})",
        f"delete_force_backup_definition_id({def_id})",
        f"delete_force_backup_definition_dbname({node}, 'app1')",
        f"move_backup_definitions({srv}, {srv}, NULL, NULL, NULL)",
        f"update_backup_server_config({srv}, 'backup_user', 'root')",
        f"update_pgsql_node_config({node}, 'pgnode_crontab_file', '/etc/cron.d/x')",
        f"delete_pgsql_node({node})",
        f"delete_backup_server({srv})",
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            q(server, f"SELECT {call}")
    # The one deletion of a definition it may do is purging a quarantined (DELETED) one.
    with pytest.raises(psycopg2.errors.RaiseException, match="not DELETED"):
        q(server, "SELECT purge_deleted_backup_definition(%s)", (def_id,))
    assert q(rw, "SELECT job_status FROM backup_definition") == [("ACTIVE",)]
