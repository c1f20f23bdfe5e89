"""The full path of issue 6: the shell registers a restore definition (scripted form),
``pgbackman_control --once`` queues the real at job, atd runs the real pgbackman_restore, and
node2 (which has none of the roles) ends up with the source's data, roles, role settings,
database settings and privileges."""

from __future__ import annotations

import shutil
import subprocess
import time

from support.richdb import (
    RichDb,
    database_fingerprint,
    role_fingerprint,
    table_checksums,
)


def _ensure_atd() -> None:
    if (
        subprocess.run(
            ["pgrep", "-x", "atd"], capture_output=True, check=False
        ).returncode
        != 0
    ):
        atd = shutil.which("atd") or "/usr/sbin/atd"
        subprocess.run([atd], check=True)


def test_shell_control_at_restore(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    _ensure_atd()
    bck = rst.backup(rich.dbname, "FULL")
    line = f"register_restore_definition now {bck['bck_id']} {rst.node2_id} '' '' '' '#all#'"
    res = subprocess.run(
        ["pgbackman", "-C", line],
        env=rst.pgb.shell_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    ((rdef, roles_to_restore),) = rst.pgb.su_query(
        "SELECT restore_def, roles_to_restore FROM restore_definition"
    )
    assert sorted(roles_to_restore) == rich.roles
    res = subprocess.run(
        ["pgbackman_control", "--once"],
        env=rst.pgb.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert rst.pgb.su_query(
        "SELECT status FROM restore_definition WHERE restore_def = %s", (rdef,)
    ) == [("DEFINED",)]
    deadline = time.monotonic() + 90
    while not rst.rows(rdef):
        assert time.monotonic() < deadline, (
            "the at job did not record a restore within 90 s"
        )
        time.sleep(0.5)
    row = rst.one_row(rdef)
    assert row["execution_status"] == "SUCCEEDED", row["error_message"]
    assert table_checksums(rst.node2, rich.dbname) == table_checksums(
        rst.node1, rich.dbname
    )
    assert role_fingerprint(rst.node2, rich.roles) == role_fingerprint(
        rst.node1, rich.roles
    )
    assert database_fingerprint(rst.node2, rich.dbname) == database_fingerprint(
        rst.node1, rich.dbname
    )
