"""Helpers of the reliability/security tests (style-and-reliability.md Part B.10): running the
real programs as subprocesses, freezing a cluster, reading /proc, rewriting the config.

Every conftest is imported as the module ``conftest``: tests import from here, never from it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgbackman.catalog import jobs
from pgbackman.infra import cache

VENV_BIN = Path(sys.executable).parent
PgbEnv = Any  # tests/conftest.py's PgbEnv


def wait_for(pred: Callable[[], Any], timeout: float = 10.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(step)


def rewrite_config(path: Path, section: str, **values: Any) -> None:
    """Set keys of one section of an INI file (the section must exist)."""
    out: list[str] = []
    current = None
    for ln in path.read_text().splitlines():
        if ln.startswith("["):
            if current == section:
                out.extend(f"{k} = {v}" for k, v in values.items())
            current = ln.strip("[]")
        elif current == section and ln.split("=")[0].strip() in values:
            continue
        out.append(ln)
    if current == section:
        out.extend(f"{k} = {v}" for k, v in values.items())
    path.write_text("\n".join(out) + "\n")


@dataclass
class RelEnv:
    """One backup server (pgb_env) with ``node`` registered as ``node_id``."""

    pgb: PgbEnv
    node: Any
    node_id: int

    @property
    def partition(self) -> Path:
        return self.pgb.root / f"pgsql_node_{self.node_id}"

    def define(
        self, dbname: str, code: str = "FULL", node_id: int | None = None
    ) -> int:
        rows = self.pgb.su_query(
            "SELECT register_backup_definition(%s, %s, %s, '0', '3', '*', '*', '*', %s, false,"
            " '7 days', 1, '', 'ACTIVE', 'reliability test')",
            (self.pgb.server_id, node_id or self.node_id, dbname, code),
        )
        return int(rows[0][0])

    def program(self, name: str) -> str:
        return str(VENV_BIN / name)

    def run(
        self,
        name: str,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        # The shell as an operator (pgbackman_role_rw), the programs as the backup server.
        default = self.pgb.shell_env if name == "pgbackman" else self.pgb.env
        return subprocess.run(
            [self.program(name), *args],
            env=env or default,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def dump(
        self, def_id: int, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return self.run(
            "pgbackman_dump", "--def-id", str(def_id), env=env, timeout=timeout
        )

    def popen(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.program(name), *args],
            env=env or self.pgb.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def rows(self, def_id: int) -> list[dict[str, Any]]:
        return list(
            self.pgb.cat.query(
                "SELECT * FROM backup_catalog WHERE def_id = %s ORDER BY bck_id",
                (def_id,),
            )
        )

    def write_cache(self) -> None:
        cat, pgb = self.pgb.cat, self.pgb
        cache.write_server_cache(pgb.root, jobs.build_server_cache(cat, pgb.server_id))
        data = jobs.build_node_cache(cat, pgb.server_id, self.node_id)
        assert data is not None
        cache.write_node_cache(pgb.root, self.node_id, data)

    def set_node_partition(self, path: Path, node_id: int | None = None) -> None:
        self.pgb.su_query(
            "UPDATE pgsql_node_config SET value = %s WHERE node_id = %s"
            " AND parameter = 'pgnode_backup_partition'",
            (str(path), node_id or self.node_id),
        )


def tree(path: Path) -> list[str]:
    """Every entry under ``path`` (relative), for "nothing left behind" assertions."""
    if not path.exists():
        return []
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


# -- processes ------------------------------------------------------------------------------
def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", encoding="utf-8") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def descendants(pid: int) -> list[int]:
    out = []
    todo = [pid]
    while todo:
        p = todo.pop()
        kids = children(p)
        out.extend(kids)
        todo.extend(kids)
    return out


def cluster_pids(cluster: Any) -> list[int]:
    pm = int((cluster.datadir / "postmaster.pid").read_text().splitlines()[0])
    return [pm, *children(pm)]


@contextmanager
def frozen(pids: list[int]) -> Iterator[list[int]]:
    """SIGSTOP ``pids`` for the duration of the block (SIGCONT even when the test fails)."""
    stopped = []
    try:
        for p in pids:
            try:
                os.kill(p, signal.SIGSTOP)
                stopped.append(p)
            except ProcessLookupError:
                pass
        yield stopped
    finally:
        for p in stopped:
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass


def proc_exe_name(pid: int) -> str:
    try:
        return Path(os.readlink(f"/proc/{pid}/exe")).name
    except OSError:
        return ""


def proc_secrets(pid: int) -> tuple[bytes, bytes]:
    """(cmdline, environ) of a live process; empty bytes when it has already exited."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read()
        with open(f"/proc/{pid}/environ", "rb") as fh:
            env = fh.read()
        return cmd, env
    except OSError:
        return b"", b""


# -- a gated pg_dump ------------------------------------------------------------------------
REAL_BIN = "/usr/lib/postgresql/15/bin"

GATED = """#!/bin/bash
# The real {prog}, started only once the test creates the file "go" next to this script:
# meanwhile the test can look at the run (its pid is in "pid"; same argv and environment).
if [ "$1" = "--version" ]; then exec {real}/{prog} --version; fi
here="$(dirname "$0")"
echo "$$" > "$here/pid.tmp" && mv "$here/pid.tmp" "$here/pid"
for _ in $(seq 1 600); do [ -e "$here/go" ] && break; sleep 0.05; done
exec {real}/{prog} "$@"
"""


@dataclass
class Gate:
    """Controls a gated pg_dump configured as the backup server's pgsql_bin_15."""

    dir: Path

    def pid(self, timeout: float = 20) -> int:
        return int(
            wait_for(
                lambda: (
                    (self.dir / "pid").exists()
                    and (self.dir / "pid").read_text().strip()
                ),
                timeout=timeout,
            )
        )

    def open(self) -> None:
        (self.dir / "go").touch()

    def reset(self) -> None:
        for n in ("pid", "go"):
            (self.dir / n).unlink(missing_ok=True)


def gated_bindir(rel: RelEnv, tmp: Path, gated: str = "pg_dump") -> Gate:
    """Client programs of the backup server = the real ones, except ``gated``."""
    d = tmp / "gatedbin"
    d.mkdir(exist_ok=True)
    for prog in ("pg_dump", "pg_restore", "pg_dumpall", "psql"):
        p = d / prog
        if p.exists() or p.is_symlink():
            p.unlink()
        if prog == gated:
            p.write_text(GATED.format(prog=prog, real=REAL_BIN))
            os.chmod(p, 0o755)
        else:
            os.symlink(f"{REAL_BIN}/{prog}", p)
    rel.pgb.su_query(
        "UPDATE backup_server_config SET value = %s WHERE server_id = %s AND parameter = 'pgsql_bin_15'",
        (str(d), rel.pgb.server_id),
    )
    return Gate(d)


def scripted_bindir(rel: RelEnv, tmp: Path, pg_dump_script: str) -> Path:
    """Client programs of the backup server = the real ones, except a pg_dump script
    (``{real}`` in it is the real bin directory; ``--version`` must be answered)."""
    d = tmp / "scriptedbin"
    d.mkdir(exist_ok=True)
    for prog in ("pg_dump", "pg_restore", "pg_dumpall", "psql"):
        p = d / prog
        if p.exists() or p.is_symlink():
            p.unlink()
        if prog == "pg_dump":
            p.write_text(pg_dump_script.replace("{real}", REAL_BIN))
            os.chmod(p, 0o755)
        else:
            os.symlink(f"{REAL_BIN}/{prog}", p)
    set_bindir(rel, d)
    return d


def set_bindir(rel: RelEnv, d: Path | str) -> None:
    rel.pgb.su_query(
        "UPDATE backup_server_config SET value = %s WHERE server_id = %s AND parameter = 'pgsql_bin_15'",
        (str(d), rel.pgb.server_id),
    )


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
