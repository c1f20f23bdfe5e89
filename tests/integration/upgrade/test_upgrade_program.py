"""pgbackman_upgrade_catalog: the real program on PgBackMan 1.x catalogs (exit status 0 done
or nothing to do, 1 failure with the catalog unchanged, 2 bad usage)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from upgrade_helpers import full_dump, program_env, write_catalog_config

PROGRAM = str(Path(sys.executable).parent / "pgbackman_upgrade_catalog")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROGRAM, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def version(cluster: Any, db: str) -> tuple[int, str]:
    rows = cluster.query(
        "SELECT version, tag FROM pgbackman_version ORDER BY version DESC LIMIT 1",
        dbname=db,
    )
    return rows[0][0], rows[0][1]


@pytest.fixture
def upgrade_env(
    catalog_cluster: Any, upstream_db: Callable[..., str], tmp_path: Path
) -> tuple[str, dict[str, str]]:
    db = upstream_db(3, rows=[1, 2, 3])
    conf = write_catalog_config(
        tmp_path / "pgbackman.conf", catalog_cluster, db, tmp_path
    )
    return db, program_env(conf, tmp_path)


def test_dry_run_then_upgrade_then_nothing_to_do(
    catalog_cluster: Any, upgrade_env: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    db, env = upgrade_env
    before = full_dump(catalog_cluster, db)
    res = run(env, "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "schema version 3 (v_1_2_0, PgBackMan 1.2.0)" in res.stdout
    assert "dry run: rolled back, nothing changed" in res.stdout
    assert full_dump(catalog_cluster, db) == before

    res = run(env)
    assert res.returncode == 0, res.stderr
    assert "[OK]: File" in res.stdout and "pgbackman_5.sql installed." in res.stdout
    assert "upgraded from schema version 3 (v_1_2_0) to 5 (v_2_0_0)" in res.stdout
    assert version(catalog_cluster, db) == (5, "v_2_0_0")
    log = (tmp_path / "pgbackman.log").read_text()
    assert "[pgbackman_upgrade_catalog]" in log and "Catalog upgrade finished" in log

    res = run(env)
    assert res.returncode == 0, res.stderr
    assert "nothing to do" in res.stdout


def test_refuses_while_pgbackman_is_still_connected(
    catalog_cluster: Any, upgrade_env: tuple[str, dict[str, str]]
) -> None:
    db, env = upgrade_env
    still_running = catalog_cluster.connect(db, user="pgbackman_role_rw")
    with still_running.cursor() as cur:
        cur.execute("SET application_name = 'pgbackman_control'")
        cur.execute("LISTEN channel_pgsql_node_running")
    try:
        before = full_dump(catalog_cluster, db)
        res = run(env)
        assert res.returncode == 1
        assert "other session(s) are connected to the catalog" in res.stderr
        assert "pgbackman_control (pgbackman_role_rw@127.0.0.1)" in res.stderr
        assert full_dump(catalog_cluster, db) == before

        res = run(env, "--force")
        assert res.returncode == 0, res.stderr
        assert version(catalog_cluster, db) == (5, "v_2_0_0")
    finally:
        still_running.close()


def test_failures_and_bad_usage(
    catalog_cluster: Any, upgrade_env: tuple[str, dict[str, str]]
) -> None:
    db, env = upgrade_env
    res = run(env, "--no-such-option")
    assert res.returncode == 2

    res = run(env, "--admin-user", "pgbackman_role_rw")
    assert res.returncode == 1
    assert "must run as a superuser" in res.stderr
    assert "pgbackman_5.sql failed and changed nothing" in res.stderr

    res = run(env, "--sql-dir", "/nonexistent")
    assert res.returncode == 1 and "No PgBackMan SQL files" in res.stderr

    catalog_cluster.psql(
        "INSERT INTO pgbackman_version (version, tag) VALUES (5, 'v_1_3_1')", dbname=db
    )
    res = run(env)
    assert res.returncode == 1
    assert "5 (v_1_3_1)" in res.stderr and "fork" in res.stderr
    assert version(catalog_cluster, db) == (5, "v_1_3_1")
