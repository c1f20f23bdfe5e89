"""Case 22 — file modes whatever the umask at launch (000 and 022): dump directories 0700,
dump/manifest/roles files 0600, run log 0600, spool 0700/0600, program log 0640 at most, and
a pidfile that is not world-writable. Programs are started through a wrapper that sets the
umask and exec()s them, as cron or a careless shell would.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from rel_helpers import RelEnv, rewrite_config, wait_for
from support.pgcluster import free_port

from pgbackman.infra import spool


def _umask_argv(umask: int, program: str, *args: str) -> list[str]:
    code = "import os, sys; os.umask(int(sys.argv[1], 8)); os.execv(sys.argv[2], sys.argv[2:])"
    return [sys.executable, "-c", code, f"{umask:o}", program, *args]


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


def _all_modes(top: Path) -> dict[str, int]:
    return {str(p.relative_to(top)): _mode(p) for p in [top, *top.rglob("*")]}


@pytest.mark.slow
@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_modes_under_umask(rel: RelEnv, tmp_path: Path, umask: int) -> None:
    # A fresh program log, created by the programs under test.
    log_file = tmp_path / f"logs{umask:o}" / "pgbackman.log"
    log_file.parent.mkdir(mode=0o755)
    rewrite_config(rel.pgb.config_path, "logging", log_file=log_file)
    def_id = rel.define("app1")
    res = subprocess.run(
        _umask_argv(umask, rel.program("pgbackman_dump"), "--def-id", str(def_id)),
        env=rel.pgb.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    [row] = rel.rows(def_id)
    modes = _all_modes(rel.partition)
    for rel_path, mode in modes.items():
        p = rel.partition / rel_path
        if p.name.startswith(".backup-def"):  # the job's lock file holds no data
            assert mode & 0o022 == 0, (rel_path, oct(mode))
            continue
        want = 0o700 if p.is_dir() else 0o600
        assert mode == want, (rel_path, oct(mode))
    for col in (
        "pg_dump_manifest_file",
        "pg_dump_roles_file",
        "pg_dump_dbconfig_file",
        "pg_dump_log_file",
    ):
        assert _mode(Path(row[col])) == 0o600, col
    assert _mode(log_file) & 0o037 == 0, oct(_mode(log_file))  # at most 0640

    # Catalog unreachable: the spooled result is 0600 in a 0700 directory.
    rel.write_cache()
    dead = tmp_path / "dead.conf"
    dead.write_text(
        rel.pgb.config_path.read_text().replace(
            f"port = {rel.pgb.catalog_cluster.port}", f"port = {free_port()}"
        )
    )
    env = dict(rel.pgb.env, PGBACKMAN_CONFIG=str(dead))
    res = subprocess.run(
        _umask_argv(umask, rel.program("pgbackman_dump"), "--def-id", str(def_id)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    pdir = spool.pending_dir(rel.pgb.root)
    [pending] = list(pdir.glob("backup_*.json"))
    assert _mode(pdir) == 0o700 and _mode(pending) == 0o600

    # The control daemon's pidfile (and the log it may create) under the same umask.
    pidfile = tmp_path / f"control{umask:o}.pid"
    rewrite_config(rel.pgb.config_path, "pgbackman_control", pidfile=pidfile)
    log_file.unlink()
    proc = subprocess.Popen(
        _umask_argv(umask, rel.program("pgbackman_control"), "--foreground"),
        env=rel.pgb.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=20)
        assert _mode(pidfile) & 0o022 == 0, oct(_mode(pidfile))
        wait_for(log_file.exists, timeout=10)
        assert _mode(log_file) & 0o037 == 0, oct(_mode(log_file))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0, proc.stderr
    # Directories control made for the node stay private too.
    for d in (
        rel.partition,
        rel.partition / "dump",
        rel.partition / "log",
        rel.pgb.root / "cache_dir",
    ):
        assert _mode(d) == 0o700, (d, oct(_mode(d)))
    for f in (rel.pgb.root / "cache_dir").iterdir():
        assert _mode(f) & 0o077 == 0, (f, oct(_mode(f)))
    os.sync()


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_shell_creates_the_shared_log_0640(
    rel: RelEnv, tmp_path: Path, umask: int
) -> None:
    """The shell creates the program log like every other program: 0640 at most."""
    log_file = tmp_path / f"shell{umask:o}" / "pgbackman.log"
    log_file.parent.mkdir(mode=0o755)
    rewrite_config(rel.pgb.config_path, "logging", log_file=log_file)
    res = subprocess.run(
        _umask_argv(umask, rel.program("pgbackman"), "-C", "show_backup_servers"),
        env=rel.pgb.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert log_file.exists()
    assert _mode(log_file) & 0o037 == 0, oct(_mode(log_file))
    # An unusable log file never mixes log lines into the shell's output.
    log_file.unlink()
    log_file.mkdir()
    res = subprocess.run(
        [rel.program("pgbackman"), "-C", "show_backup_servers"],
        env=rel.pgb.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0 and res.stderr == "", res.stderr
