"""A PgBackMan 1.x site, upgraded, then run by this software.

The site: a master-era catalog (versions 1..4 in its history) with one backup server and two
PgSQL nodes (the test's node clusters), FULL definitions of a rich database and of a small
one whose backups are real files in 1.x's layout and names (a 1.0 custom-format dump and
1.1+ directory dumps, each with its USERS and DBCONFIG files extracted from pg_dumpall as
1.x did, and its three logs), a failed run recorded with 'None' files, an expired snapshot,
and the files of a definition that 1.x force-deleted. It is upgraded with the real
pgbackman_upgrade_catalog; then the shell, pgbackman_control, pgbackman_restore,
pgbackman_dump and pgbackman_maintenance run on it: old backups restore (as legacy,
unverified; next to the original, and on another node with roles created from 1.x's
files), a new backup is taken, retention deletes old and new rows by the same rules.
"""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import upstream
from support.pgcluster import PgCluster
from support.richdb import (
    RichDb,
    create_rich_database,
    drop_rich_database,
    role_fingerprint,
    table_checksums,
)
from upgrade_helpers import (
    drop_database,
    make_upstream,
    program_env,
    write_catalog_config,
)

VENV_BIN = Path(sys.executable).parent
SERVER = ("backup01", "pgbackman.test")


@dataclass
class Site:
    cluster: PgCluster
    db: str
    tmp: Path
    root: Path
    cron_dir: Path
    env: dict[str, str]  # the backup server's programs
    shell_env: dict[str, str]  # an operator's shell and pgbackman_upgrade_catalog
    node1: PgCluster
    node2: PgCluster
    rich: RichDb
    files: dict[str, upstream.LegacyBackup]
    simple: str  # prefix of a small database restored onto the other node

    @property
    def simple_db(self) -> str:
        return f"{self.simple}_db"

    def simple_role(self, what: str) -> str:
        return f"{self.simple}_{what}"

    def q(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.cluster.query(sql, params, dbname=self.db)

    def one(self, sql: str, params: Any = None) -> Any:
        return self.q(sql, params)[0][0]

    def run(self, program: str, *args: str, timeout: float = 240) -> Any:
        return subprocess.run(
            [str(VENV_BIN / program), *args],
            env=self.shell_env
            if program in ("pgbackman", "pgbackman_upgrade_catalog")
            else self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


def _catalog_row(
    site_q: Any,
    def_id: int | None,
    snap: int | None,
    b: upstream.LegacyBackup | None,
    dbname: str,
    age: str,
    status: str,
    node_rel: str,
    dump_rel: str | None,
) -> None:
    """One backup_catalog row through 1.x's register_backup_catalog (25 arguments)."""
    files = (
        (b.pg_dump_file, b.pg_dump_file_size, b.pg_dump_log_file, b.roles_file,
         b.roles_file_size, b.roles_log_file, b.dbconfig_file, b.dbconfig_file_size,
         b.dbconfig_log_file)
        if b is not None
        else ("None", 0, "None", "None", 0, "None", "None", 0, "None")
    )  # fmt: skip
    site_q(
        "SELECT register_backup_catalog(%s, 4242, 1, 1, %s, now() - %s::interval - interval '3 minutes',"
        " now() - %s::interval, interval '3 minutes', %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " '/var/log/pgbackman/pgbackman.log', %s, %s, %s, %s, %s::text[], %s, %s)",
        (
            def_id, dbname, age, age, *files, status, "CRON" if def_id else "AT",
            "" if status == "SUCCEEDED" else "pg_dump returncode: 1. Check log file.",
            snap, b.role_list if b else [], node_rel, dump_rel,
        ),
    )  # fmt: skip


def _create_simple_database(node: PgCluster, prefix: str) -> str:
    """A small database whose roles 1.x saved only in part: its group role is granted to the
    owner WITH ADMIN OPTION, which 1.x's substring filter missed."""
    db, owner, reader, group = (
        f"{prefix}_{w}" for w in ("db", "owner", "reader", "group")
    )
    node.psql(
        f"CREATE ROLE {owner} LOGIN PASSWORD 'x-{prefix}' CONNECTION LIMIT 5;"
        f"ALTER ROLE {owner} SET work_mem = '16MB';"
        f"COMMENT ON ROLE {owner} IS 'owner of {db}';"
        f"CREATE ROLE {reader} LOGIN; CREATE ROLE {group} NOLOGIN;"
        f"GRANT {group} TO {owner} WITH ADMIN OPTION;"
        f"CREATE DATABASE {db} OWNER {owner} TEMPLATE template0;"
        f"ALTER DATABASE {db} SET statement_timeout = '42s';"
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC;"
        f"GRANT CONNECT ON DATABASE {db} TO {reader};"
        f"GRANT TEMPORARY ON DATABASE {db} TO {group};"
        f"COMMENT ON DATABASE {db} IS 'small «ø» db';"
    )
    node.psql(
        f"SET ROLE {owner}; CREATE TABLE t (id int PRIMARY KEY, v text);"
        "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 300) g;"
        f"GRANT SELECT ON t TO {reader};",
        dbname=db,
    )
    return db


def _drop_simple_database(node: PgCluster, prefix: str) -> None:
    for db in (f"{prefix}_db", f"{prefix}_db_copy"):
        node.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    for role in ("reader", "owner", "group"):
        node.psql(f"DROP ROLE IF EXISTS {prefix}_{role}")


@pytest.fixture
def site(
    catalog_cluster: PgCluster, node1: PgCluster, node2: PgCluster, tmp_path: Path
) -> Iterator[Site]:
    os.chmod(tmp_path, 0o755)
    root, cron_dir = tmp_path / "srv", tmp_path / "cron.d"
    root.mkdir(mode=0o700)
    cron_dir.mkdir()
    prefix = f"lg{os.getpid()}_{tmp_path.name[-6:].strip('_')}".lower()
    rich = create_rich_database(node1, f"{prefix}_shop", prefix)
    simple = f"{prefix}_s"
    simple_db = _create_simple_database(node1, simple)
    db = make_upstream(catalog_cluster, 4, rows=[1, 2, 3, 4], site=False, prefix="site")
    # The backup server's own configuration, as the migration chapter tells operators to
    # write it: its catalog role, where its crontab files may be, and jobs run as root
    # (as the whole test-suite runs). The shell is an operator's: pgbackman_role_rw.
    conf = write_catalog_config(
        tmp_path / "pgbackman.conf",
        catalog_cluster,
        db,
        tmp_path,
        backup_server={
            "root_backup_partition": str(root),
            "crontab_dir": str(cron_dir),
            "allow_root_backup_user": "ON",
        },
        pgbackman_database={"user": "pgbackman_role_server"},
        pgbackman_dump={"tmp_dir": str(tmp_path)},
        pgbackman_control={"pidfile": str(tmp_path / "control.pid")},
        pgbackman_maintenance={"maintenance_interval": 1},
    )
    env = program_env(conf, tmp_path)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    shell_conf = write_catalog_config(
        tmp_path / "operator.conf", catalog_cluster, db, tmp_path
    )
    shell_env = {**env, "PGBACKMAN_CONFIG": str(shell_conf)}

    def q(sql: str, params: Any = None) -> Any:
        return catalog_cluster.query(
            "SET ROLE pgbackman_role_rw; " + sql, params, dbname=db
        )

    # The site, written through 1.x's functions as its shell and programs did.
    q("SELECT register_backup_server(%s, %s, 'RUNNING', '')", SERVER)
    q(
        "UPDATE backup_server_config SET value = %s WHERE parameter = 'root_backup_partition'",
        (str(root),),
    )
    for n in (node1, node2):
        q(
            "SELECT register_pgsql_node('127', '0.0.1', %s, 'postgres', 'RUNNING', %s)",
            (n.port, n.name),
        )
    for node_id in (1, 2):
        q(
            "UPDATE pgsql_node_config SET value = CASE parameter"
            " WHEN 'pgnode_backup_partition' THEN %s ELSE %s END"
            " WHERE node_id = %s AND parameter IN ('pgnode_backup_partition', 'pgnode_crontab_file')",
            (
                f"{root}/pgsql_node_{node_id}",
                f"{cron_dir}/pgsql_node_{node_id}",
                node_id,
            ),
        )
    q(
        "SELECT register_backup_definition(1, 1, %s, '10', '02', '*', '*', '*', 'FULL', false,"
        " '7 days', 1, '', 'ACTIVE', 'nightly')",
        (rich.dbname,),
    )
    q(
        "SELECT register_backup_definition(1, 1, %s, '40', '02', '*', '*', '*', 'DATA', false,"
        " '7 days', 1, '', 'ACTIVE', 'data only')",
        (rich.dbname,),
    )
    q(
        "SELECT register_backup_definition(1, 1, %s, '50', '02', '*', '*', '*', 'FULL', false,"
        " '7 days', 1, '', 'ACTIVE', 'small one')",
        (simple_db,),
    )
    q(
        "SELECT register_snapshot_definition(1, 1, %s, (now() - interval '40 days')::timestamp,"
        " 'FULL', '7 days', '', 'before the migration', '9.6')",
        (rich.dbname,),
    )
    q("UPDATE snapshot_definition SET status = 'DEFINED'")

    part = root / "pgsql_node_1"
    when = _dt.datetime(2017, 3, 4, 2, 10, 0)
    files = {
        # PgBackMan 1.0: custom format, no pg_dump release of its own
        "v10": upstream.write_legacy_backup(
            node1, rich.dbname, part, node_fqdn="127.0.0.1", job="defid1", code="FULL",
            release="9_3", when=when, fmt="c",
        ),
        "v11": upstream.write_legacy_backup(
            node1, rich.dbname, part, node_fqdn="127.0.0.1", job="defid1", code="FULL",
            release="9_6", when=when + _dt.timedelta(days=1),
        ),
        "snap": upstream.write_legacy_backup(
            node1, rich.dbname, part, node_fqdn="127.0.0.1", job="snapid1", code="FULL",
            release="9_6", when=when + _dt.timedelta(days=2),
        ),
        "forced": upstream.write_legacy_backup(
            node1, rich.dbname, part, node_fqdn="127.0.0.1", job="defid2", code="DATA",
            release="9_6", when=when + _dt.timedelta(days=3),
        ),
        "simple": upstream.write_legacy_backup(
            node1, simple_db, part, node_fqdn="127.0.0.1", job="defid3", code="FULL",
            release="9_6", when=when + _dt.timedelta(days=4),
        ),
    }  # fmt: skip
    _catalog_row(
        q, 1, None, files["v10"], rich.dbname, "30 days", "SUCCEEDED", "9.3", None
    )
    _catalog_row(
        q, 1, None, files["v11"], rich.dbname, "2 days", "SUCCEEDED", "9.6", "9.6"
    )
    _catalog_row(q, 1, None, None, rich.dbname, "1 day", "ERROR", "9.6", "9.6")
    _catalog_row(
        q, None, 1, files["snap"], rich.dbname, "40 days", "SUCCEEDED", "9.6", "9.6"
    )
    _catalog_row(
        q, 2, None, files["forced"], rich.dbname, "3 days", "SUCCEEDED", "9.6", "9.6"
    )
    _catalog_row(
        q, 3, None, files["simple"], simple_db, "2 days", "SUCCEEDED", "9.6", "9.6"
    )
    q("SELECT delete_force_backup_definition_id(2)")

    s = Site(
        catalog_cluster,
        db,
        tmp_path,
        root,
        cron_dir,
        env,
        shell_env,
        node1,
        node2,
        rich,
        files,
        simple,
    )
    yield s
    drop_database(catalog_cluster, db)
    _drop_simple_database(node2, simple)
    _drop_simple_database(node1, simple)
    node1.psql(f'DROP DATABASE IF EXISTS "{rich.dbname}_v10" WITH (FORCE)')
    drop_rich_database(node1, rich)


def _upgrade_and_configure(s: Site) -> None:
    res = s.run("pgbackman_upgrade_catalog", "--admin-user", "postgres")
    assert res.returncode == 0, res.stderr
    assert "upgraded from schema version 4 (v_1_3_0) to 5 (v_2_0_0)" in res.stdout
    # What the migration chapter tells operators to set in the catalog: the OS user of the
    # jobs (root here, allowed by the server's own configuration). The programs named in
    # the job lines are the ones installed beside pgbackman_control: nothing to set.
    s.q("SELECT update_backup_server_config(1, 'backup_user', 'root')")


def _restore(
    s: Site, bck_id: int, target: str, roles: list[str], node_id: int = 2
) -> tuple[Any, Any]:
    restore_def = s.one(
        "SELECT register_restore_definition(now(), 1, %s, %s, %s, NULL, '', %s::text[])",
        (node_id, bck_id, target, roles),
    )
    res = s.run("pgbackman_restore", "--restore-def", str(restore_def))
    row = s.q(
        "SELECT execution_status, error_message, restore_log_file, role_list"
        " FROM restore_catalog WHERE restore_def = %s",
        (restore_def,),
    )
    return res, row[0] if row else None


@pytest.mark.slow
def test_an_upgraded_1x_site_restores_backs_up_and_expires(site: Site) -> None:
    s = site
    _upgrade_and_configure(s)
    bck = {
        name: s.one(
            "SELECT bck_id FROM backup_catalog WHERE pg_dump_file = %s",
            (b.pg_dump_file,),
        )
        for name, b in s.files.items()
        if name != "forced"
    }

    # -- the shell shows the imported rows as they are --------------------------------------
    res = s.run("pgbackman", "-C", f"show_backup_details {bck['v11']}")
    assert res.returncode == 0, res.stdout + res.stderr
    assert s.files["v11"].pg_dump_file in res.stdout
    assert "SUCCEEDED" in res.stdout
    res = s.run("pgbackman", "-C", "show_pgsql_node_config 1")
    assert res.returncode == 0 and f"{s.root}/pgsql_node_1" in res.stdout

    # -- pgbackman_control rewrites the node's crontab with this software's job lines -------
    res = s.run("pgbackman_control", "--once", timeout=120)
    assert res.returncode == 0, res.stderr
    crontab = (s.cron_dir / "pgsql_node_1").read_text()
    assert "--def-id 1" in crontab
    # The program beside pgbackman_control, not 1.x's /usr/bin/pgbackman_dump of the catalog.
    assert f"{VENV_BIN.resolve() / 'pgbackman_dump'} " in crontab
    assert "--node-fqdn" not in crontab  # nothing of 1.x's argument list

    # -- old backups restore: 1.0 custom format and 1.1 directory format, with roles --------
    want = table_checksums(s.node1, s.rich.dbname)
    # Next to the original (every role exists): the 1.0 custom-format dump.
    db1 = f"{s.rich.dbname}_v10"
    res, row = _restore(s, bck["v10"], db1, [], node_id=1)
    assert res.returncode == 0, res.stderr
    assert row[0] == "SUCCEEDED"
    assert "Legacy backup" in row[1] and "restored UNVERIFIED" in row[1]
    assert table_checksums(s.node1, db1) == want
    assert "no checksum manifest, restored UNVERIFIED" in Path(row[2]).read_text()

    # On another node: a 1.1+ directory dump, the roles asked for created from 1.x's
    # USERS file. The group role is not asked for: what the database grants it is left out
    # of the restore, with a warning; and 1.x's DBCONFIG file of a PostgreSQL 11+ node does
    # not say who owns the database.
    owner, reader = s.simple_role("owner"), s.simple_role("reader")
    assert s.files["simple"].role_list == [s.simple_role("group"), owner, reader]
    roles = [owner, reader]
    copy = f"{s.simple_db}_copy"
    res, row = _restore(s, bck["simple"], copy, roles)
    assert res.returncode == 0, res.stderr
    assert row[0] == "SUCCEEDED" and "restored UNVERIFIED" in row[1]
    assert table_checksums(s.node2, copy) == table_checksums(s.node1, s.simple_db)
    log = Path(row[2]).read_text()
    assert f"role '{s.simple_role('group')}' is not on the target" in log
    assert "the owner of the database is not recorded: postgres owns it" in log
    # The roles as the 1.x USERS file described them: attributes, password, settings.
    assert (
        role_fingerprint(s.node2, roles)["roles"]
        == role_fingerprint(s.node1, roles)["roles"]
    )
    # The database attributes of 1.x's DBCONFIG file were applied to the new database.
    settings = s.node2.query(
        "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
        " WHERE d.datname = %s AND s.setrole = 0",
        (copy,),
    )
    assert settings == [(["statement_timeout=42s"],)]
    assert s.node2.query(
        "SELECT has_database_privilege(%s, %s, 'CONNECT'), has_database_privilege('public',"
        " %s, 'CONNECT'), shobj_description(oid, 'pg_database') FROM pg_database"
        " WHERE datname = %s",
        (reader, copy, copy, copy),
    ) == [(True, False, "small «ø» db")]
    assert s.node2.query(
        "SELECT tableowner FROM pg_tables WHERE tablename = 't'", dbname=copy
    ) == [(owner,)]

    # -- a new backup of the same definition -------------------------------------------------
    res = s.run("pgbackman_dump", "--def-id", "1")
    assert res.returncode == 0, res.stderr
    new = s.q(
        "SELECT bck_id, checksum IS NOT NULL, pg_dump_manifest_file IS NOT NULL, run_uuid IS NOT NULL"
        " FROM backup_catalog WHERE def_id = 1 AND execution_status = 'SUCCEEDED'"
        " ORDER BY finished DESC LIMIT 1"
    )[0]
    assert new[0] > max(bck.values()) and new[1:] == (True, True, True)

    # -- retention: old and new rows by the same rules ---------------------------------------
    forced = s.files["forced"]
    res = s.run("pgbackman_maintenance", "--once", timeout=180)
    assert res.returncode == 0, res.stdout + res.stderr
    remaining = {r[0] for r in s.q("SELECT bck_id FROM backup_catalog")}
    assert bck["v10"] not in remaining  # 30 days old, period 7 days, a newer one exists
    assert (
        bck["snap"] not in remaining
    )  # snapshot expired: row, files and definition go
    assert s.one("SELECT count(*) FROM snapshot_definition") == 0
    assert {bck["v11"], bck["simple"], new[0]} <= remaining  # within the period
    for gone in (s.files["v10"], s.files["snap"], forced):
        for path in (
            gone.pg_dump_file,
            gone.roles_file,
            gone.dbconfig_file,
            gone.pg_dump_log_file,
        ):
            assert not os.path.lexists(path), path
    kept = s.files["v11"]
    assert Path(kept.pg_dump_file).is_dir() and Path(kept.roles_file).is_file()
    assert s.one("SELECT count(*) FROM catalog_entries_to_delete") == 0
