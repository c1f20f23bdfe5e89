"""The test harness itself: clusters start, the catalog clone works as the backup servers'
role (programs) and as pgbackman_role_rw (the shell)."""

from __future__ import annotations

from typing import Any

import pytest

from support.pgbenv import PgbEnv
from pgbackman.catalog.connection import Catalog
from pgbackman.catalog.schema import check_version, upgrade_files
from pgbackman.config import Config
from pgbackman.errors import CatalogError, CatalogUnavailableError
from pgbackman.version import SCHEMA_VERSION


def test_catalog_clone_usable_by_programs_and_shell(
    pgb_env: PgbEnv, node1: Any
) -> None:
    cat = pgb_env.cat
    assert cat.scalar("SELECT current_user") == "pgbackman_role_server"
    shell_cfg = Config.load(str(pgb_env.shell_config_path))
    assert shell_cfg.database.user == "pgbackman_role_rw"
    assert pgb_env.shell_env["PGBACKMAN_CONFIG"] == str(pgb_env.shell_config_path)
    assert check_version(cat).version == SCHEMA_VERSION
    rows = cat.query("SELECT server_id, hostname, domain_name FROM backup_server")
    assert [(r["hostname"], r["domain_name"]) for r in rows] == [
        ("backup01", "pgbackman.test")
    ]
    assert rows[0]["server_id"] == pgb_env.server_id
    node_id = pgb_env.register_node(node1)
    cfg = {
        r["parameter"]: r["value"]
        for r in cat.query(
            "SELECT parameter, value FROM pgsql_node_config WHERE node_id = %s",
            (node_id,),
        )
    }
    assert cfg["pgnode_backup_partition"] == f"{pgb_env.root}/pgsql_node_{node_id}"
    assert cfg["pgnode_crontab_file"] == f"{pgb_env.cron_dir}/pgsql_node_{node_id}"


def test_version_mismatch_is_a_clear_error(pgb_env: PgbEnv) -> None:
    with pytest.raises(CatalogError, match="newer than this software"):
        check_version(pgb_env.cat, expected=SCHEMA_VERSION - 1)
    with pytest.raises(CatalogError, match="pgbackman_<n>.sql"):
        check_version(pgb_env.cat, expected=SCHEMA_VERSION + 1)


def test_upgrade_files_in_order_and_missing_reported(tmp_path: Any) -> None:
    for n in (2, 3, 5):
        (tmp_path / f"pgbackman_{n}.sql").write_text("-- upgrade\n")
    assert [p.name for p in upgrade_files(tmp_path, 1, 3)] == [
        "pgbackman_2.sql",
        "pgbackman_3.sql",
    ]
    with pytest.raises(CatalogError, match="pgbackman_4.sql"):
        upgrade_files(tmp_path, 1, 5)


def test_unreachable_catalog_is_unavailable_error(pgb_env: PgbEnv) -> None:
    from support.pgcluster import free_port

    cfg = Config.load(str(pgb_env.config_path))
    dead = type(cfg.database)(
        host="127.0.0.1", port=free_port(), dbname="x", user="y", connect_timeout=2
    )
    with pytest.raises(CatalogUnavailableError, match="Cannot connect"):
        Catalog(dead).connect()


def test_every_shell_mode_refuses_another_schema_version(pgb_env: PgbEnv) -> None:
    import subprocess

    pgb_env.su("INSERT INTO pgbackman_version (version, tag) VALUES (99, 'v_99_0_0')")
    for extra in (["-C", "show_backup_servers"], []):
        res = subprocess.run(
            ["pgbackman", *extra],
            env=pgb_env.shell_env,
            input="show_backup_servers\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 1
        assert "schema version 99" in res.stdout + res.stderr
        assert "backup01" not in res.stdout


def test_help_works_with_the_catalog_down(pgb_env: PgbEnv, tmp_path: Any) -> None:
    import subprocess

    from support.pgcluster import free_port

    conf = tmp_path / "down.conf"
    conf.write_text(
        pgb_env.config_path.read_text().replace(
            f"port = {pgb_env.catalog_cluster.port}", f"port = {free_port()}"
        )
    )
    env = dict(pgb_env.env, PGBACKMAN_CONFIG=str(conf))
    res = subprocess.run(
        ["pgbackman", "-C", "help set"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0 and "output_format" in res.stdout
    res = subprocess.run(
        ["pgbackman", "-C", "show_backup_servers"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1 and "[ERROR]" in res.stdout + res.stderr
