"""The shell on a PgBackMan 1.x catalog: with ``-C`` or commands on stdin it refuses with a
message naming pgbackman_upgrade_catalog; on interactive start it offers the upgrade with
upstream's prompt, and runs it on ``yes``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect
import pytest
from upgrade_helpers import full_dump, program_env, write_catalog_config

PGBACKMAN = str(Path(sys.executable).parent / "pgbackman")
QUESTION = (
    r"# Do you want to upgrade the PgBackMan database to version: \[5:v_2_0_0\] "
    r"\(yes/no\): "
)


@pytest.fixture
def shell_env(
    catalog_cluster: Any, upstream_db: Callable[..., str], tmp_path: Path
) -> tuple[str, dict[str, str]]:
    db = upstream_db(4, rows=[3, 4])
    conf = write_catalog_config(
        tmp_path / "pgbackman.conf", catalog_cluster, db, tmp_path
    )
    return db, program_env(conf, tmp_path)


def spawn(env: dict[str, str]) -> pexpect.spawn:
    return pexpect.spawn(
        PGBACKMAN, [], env=env, encoding="utf-8", timeout=60, dimensions=(50, 200)
    )


def test_one_command_and_scripts_refuse_with_a_clear_message(
    catalog_cluster: Any, shell_env: tuple[str, dict[str, str]]
) -> None:
    db, env = shell_env
    before = full_dump(catalog_cluster, db)
    for argv, stdin in (
        (["-C", "show_backup_servers"], None),
        ([], "show_backup_servers\n"),
    ):
        res = subprocess.run(
            [PGBACKMAN, *argv],
            env=env,
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 1
        text = res.stdout + res.stderr
        assert "PgBackMan 1.x catalog, schema version 4 (v_1_3_0" in text
        assert "pgbackman_upgrade_catalog" in text
        assert "Do you want to upgrade" not in text
        assert "backup01" not in res.stdout
    assert full_dump(catalog_cluster, db) == before


def test_interactive_no_leaves_the_catalog_alone(
    catalog_cluster: Any, shell_env: tuple[str, dict[str, str]]
) -> None:
    db, env = shell_env
    before = full_dump(catalog_cluster, db)
    child = spawn(env)
    child.expect("A T T E N T I O N")
    child.expect(r"The PgBackMan software version \[5:v_2_0_0\] is different from")
    child.expect(r"the PgBackMan database version \[4:v_1_3_0\]")
    child.expect(QUESTION)
    child.sendline("maybe")  # only yes/no are accepted
    child.expect(QUESTION)
    child.sendline("no")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert full_dump(catalog_cluster, db) == before


def test_interactive_yes_upgrades_and_opens_the_shell(
    catalog_cluster: Any, shell_env: tuple[str, dict[str, str]]
) -> None:
    db, env = shell_env
    child = spawn(env)
    child.expect(QUESTION)
    child.sendline("yes")
    child.expect(r"# Superuser role to run the upgrade as \[postgres\]: ")
    child.sendline("")
    child.expect("Upgrading PgBackMan database")
    child.expect(r"pgbackman_5\.sql installed\.")
    child.expect("Welcome to the PostgreSQL Backup Manager shell ver.")
    child.expect(r"\[pgbackman\]\$ ")
    child.sendline("show_backup_servers")
    child.expect("backup01.pgbackman.test")
    child.expect(r"\[pgbackman\]\$ ")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert catalog_cluster.query(
        "SELECT max(version) FROM pgbackman_version", dbname=db
    ) == [(5,)]
