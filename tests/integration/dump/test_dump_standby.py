"""pause_recovery_process_on_slave on a real standby (pg_basebackup -R of node1): replay is
paused for the dump and always resumed afterwards, also when the dump is stopped."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.pgcluster import PgCluster

from test_dump_failures import SLOW_PG_DUMP, _fake_bindir, _fake_pid


@pytest.fixture
def standby(node1: PgCluster) -> Iterator[PgCluster]:
    # Not under tmp_path: pytest keeps /tmp/pytest-of-<user> at 0700 (postgres must traverse).
    base = Path(tempfile.mkdtemp(prefix="pgb-standby-", dir="/tmp"))
    os.chmod(base, 0o755)
    sb = PgCluster(base, "standby", node1.bindir)
    sb.dir.mkdir(parents=True)
    sb.socket_dir.mkdir()
    argv = [
        f"{node1.bindir}/pg_basebackup",
        "-D",
        str(sb.datadir),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
        "-h",
        node1.host,
        "-p",
        str(node1.port),
        "-U",
        "postgres",
        "--no-sync",
    ]
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for p in (base, sb.dir, sb.socket_dir):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        argv = ["runuser", "-u", "postgres", "--", *argv]
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    with open(sb.datadir / "postgresql.conf", "a", encoding="utf-8") as fh:
        fh.write(f"\nport = {sb.port}\nunix_socket_directories = '{sb.socket_dir}'\n")
    sb.start()
    yield sb
    sb.destroy()
    shutil.rmtree(base, ignore_errors=True)


def _pause_env(dump_env, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    conf = tmp_path / "pause.conf"
    conf.write_text(
        dump_env.pgb.config_path.read_text().replace(
            "[pgbackman_dump]\n",
            "[pgbackman_dump]\npause_recovery_process_on_slave = ON\n",
        )
    )
    env = dict(dump_env.pgb.env)
    env["PGBACKMAN_CONFIG"] = str(conf)
    return env


def _paused(sb: PgCluster) -> bool:
    return bool(sb.query("SELECT pg_is_wal_replay_paused()")[0][0])


def test_standby_replay_paused_during_dump_and_resumed_after(
    dump_env, standby: PgCluster, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    DumpEnv = type(dump_env)  # conftest classes are not importable by name

    env = _pause_env(dump_env, tmp_path)
    sb_env = DumpEnv(dump_env.pgb, standby, dump_env.pgb.register_node(standby))
    assert standby.query("SELECT pg_is_in_recovery()")[0][0] is True
    ok = sb_env.define("app1")
    res = sb_env.run("--def-id", str(ok), env=env)
    assert res.returncode == 0, res.stderr
    [row] = sb_env.rows(ok)
    assert row["execution_status"] == "SUCCEEDED", row["error_message"]
    text = Path(row["pg_dump_log_file"]).read_text()
    assert "WAL replay paused" in text and "WAL replay resumed" in text
    assert not _paused(standby)

    # Stopped mid-dump: replay must still be resumed.
    _fake_bindir(sb_env, tmp_path, SLOW_PG_DUMP)
    stopped = sb_env.define("app2")
    p = sb_env.popen("--def-id", str(stopped), env=env)
    _fake_pid(sb_env)
    assert _paused(standby)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=30)
    assert p.returncode == 1
    deadline = time.monotonic() + 10
    while _paused(standby) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _paused(standby)
    assert [r["execution_status"] for r in sb_env.rows(stopped)] == ["ERROR"]
