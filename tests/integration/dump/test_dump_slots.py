"""max_parallel_backups on real dumps: runs beyond the node's or the server's limit wait
their turn and record the wait (catalog, show_backup_details, log); the wait counts
against backup_timeout; a holder killed with SIGKILL frees its slot at once; values are
checked by the catalog and by the shell."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from dump_helpers import REAL_BIN, fake_bindir
from support.pgcluster import PgCluster
from support.shell import Shell

# The real pg_dump after a pause: a dump that holds its slot for a while. One process
# (no shell with a sleeping child, which would keep the inherited slot after a SIGKILL of
# the run, as any surviving process of the run rightly does).
PAUSED_PG_DUMP = f"""#!{sys.executable}
import os, sys, time
real = "{REAL_BIN}/pg_dump"
if sys.argv[1:] != ["--version"]:
    time.sleep(%s)
os.execv(real, [real, *sys.argv[1:]])
"""


def _node_config(dump_env, node_id: int, parameter: str, value: str) -> None:  # type: ignore[no-untyped-def]
    dump_env.pgb.su_query(
        "SELECT update_pgsql_node_config(%s, %s, %s)", (node_id, parameter, value)
    )


def _server_config(dump_env, parameter: str, value: str) -> None:  # type: ignore[no-untyped-def]
    dump_env.pgb.su_query(
        "SELECT update_backup_server_config(%s, %s, %s)",
        (dump_env.pgb.server_id, parameter, value),
    )


def _wait_started(dump_env, def_id: int, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Until the run of ``def_id`` holds its slots (its run log exists)."""
    deadline = time.monotonic() + timeout
    logs = dump_env.partition / "log"
    while not (
        logs.exists() and any(f"defid{def_id}-" in p.name for p in logs.iterdir())
    ):
        assert time.monotonic() < deadline, "the first run did not start"
        time.sleep(0.05)


def test_runs_beyond_the_node_limit_wait_their_turn(
    dump_env, tmp_path: Path, shell: Shell
) -> None:  # type: ignore[no-untyped-def]
    fake_bindir(dump_env, tmp_path, PAUSED_PG_DUMP % 2)
    _node_config(dump_env, dump_env.node_id, "max_parallel_backups", "1")
    first, second = dump_env.define("app1"), dump_env.define("app2")
    a = dump_env.popen("--def-id", str(first))
    try:
        _wait_started(dump_env, first)
        t0 = time.monotonic()
        b = dump_env.run("--def-id", str(second))
        assert b.returncode == 0, b.stderr
        assert (
            time.monotonic() - t0 >= 1.0
        )  # it could only dump once the first was done
    finally:
        a.communicate(timeout=60)
    assert a.returncode == 0
    (ra,) = dump_env.rows(first)
    (rb,) = dump_env.rows(second)
    assert ra["execution_status"] == rb["execution_status"] == "SUCCEEDED"
    assert rb["wait_duration"].total_seconds() >= 1.0
    assert ra["wait_duration"].total_seconds() < 1.0
    assert rb["started"] < ra["finished"] <= rb["finished"]
    out = shell.cmd(f"show_backup_details {rb['bck_id']}").out
    assert "Waited for a slot" in out and "00:00:0" in out
    log = (dump_env.pgb.tmp / "pgbackman.log").read_text()
    assert "for a backup slot (max_parallel_backups: PgSQL node" in log


def test_waiting_counts_against_backup_timeout(
    dump_env, node2: PgCluster, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fake_bindir(dump_env, tmp_path, PAUSED_PG_DUMP % 30)
    _server_config(dump_env, "max_parallel_backups", "1")
    other = dump_env.pgb.register_node(node2)
    _node_config(dump_env, other, "backup_timeout", "3 seconds")
    first = dump_env.define("app1")
    rows = dump_env.pgb.su_query(
        "SELECT register_backup_definition(%s, %s, 'app3', '0', '3', '*', '*', '*', 'FULL',"
        " false, '7 days', 1, '', 'ACTIVE', 'slot test')",
        (dump_env.pgb.server_id, other),
    )
    second = int(rows[0][0])
    a = dump_env.popen("--def-id", str(first))
    try:
        _wait_started(dump_env, first)
        t0 = time.monotonic()
        b = dump_env.run("--def-id", str(second))
        assert 2.5 <= time.monotonic() - t0 < 20
    finally:
        a.send_signal(signal.SIGTERM)
        a.communicate(timeout=60)
    assert b.returncode == 1
    (rb,) = dump_env.rows(second)
    assert rb["execution_status"] == "ERROR"
    assert "backup_timeout of 3 s exceeded" in rb["error_message"]
    assert "while waiting for a backup slot" in rb["error_message"]
    assert rb["pg_dump_file"] is None


def test_a_killed_holder_frees_its_slot_at_once(dump_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake_bindir(dump_env, tmp_path, PAUSED_PG_DUMP % 60)
    _node_config(dump_env, dump_env.node_id, "max_parallel_backups", "1")
    first, second = dump_env.define("app1"), dump_env.define("app2")
    a = dump_env.popen("--def-id", str(first))
    _wait_started(dump_env, first)
    a.send_signal(signal.SIGKILL)  # no cleanup of any kind: the kernel drops the flock
    a.communicate(timeout=30)
    fake_bindir(dump_env, tmp_path, PAUSED_PG_DUMP % 0)
    t0 = time.monotonic()
    b = dump_env.run("--def-id", str(second))
    assert b.returncode == 0, b.stderr
    (rb,) = dump_env.rows(second)
    assert rb["execution_status"] == "SUCCEEDED"
    assert rb["wait_duration"].total_seconds() < 5
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize(
    ("where", "value", "ok"),
    [
        ("node", "8", True),
        ("node", "unlimited", True),
        ("node", "auto", False),
        ("node", "0", False),
        ("server", "auto", True),
        ("server", "20000", False),
    ],
)
def test_values_are_checked_by_the_catalog_and_the_shell(
    dump_env, shell: Shell, where: str, value: str, ok: bool
) -> None:  # type: ignore[no-untyped-def]
    if where == "node":
        blanks = " ".join(['""'] * 22)
        line = f"update_pgsql_node_config {dump_env.node_id} {blanks} {value}"
        get = (
            "SELECT value FROM pgsql_node_config WHERE node_id = %s AND parameter = %s"
        )
        key: int = dump_env.node_id
    else:
        blanks = " ".join(['""'] * 13)
        line = f"update_backup_server_config {dump_env.pgb.server_id} {blanks} {value}"
        get = "SELECT value FROM backup_server_config WHERE server_id = %s AND parameter = %s"
        key = dump_env.pgb.server_id
    before = dump_env.pgb.su_query(get, (key, "max_parallel_backups"))[0][0]
    res = shell.cmd(line)
    out = res.out + res.err
    after = dump_env.pgb.su_query(get, (key, "max_parallel_backups"))[0][0]
    if ok:
        said = "[Nothing changed]" if before == value else "[Done]"
        assert said in out and after == value
    else:
        assert "[ERROR]" in out and "Max parallel backups" in out and after == before
        # The catalog refuses it too, whoever writes.
        with pytest.raises(Exception, match="Invalid max_parallel_backups value"):
            if where == "node":
                _node_config(dump_env, key, "max_parallel_backups", value)
            else:
                _server_config(dump_env, "max_parallel_backups", value)
