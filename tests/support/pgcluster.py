"""Throwaway PostgreSQL clusters for the test-suite (initdb + pg_ctl in a temp dir).

PostgreSQL refuses to run as root, and CI runs as root: the server processes are then started
as the ``postgres`` OS user with ``runuser``. Authentication is ``trust`` on 127.0.0.1 and on
the cluster's own socket directory, which lives inside the temp dir.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

SERVER_USER = "postgres"


class ClusterUnavailable(RuntimeError):
    """PostgreSQL server binaries are missing or the cluster could not start."""


def find_bindir() -> str:
    """Directory holding initdb/pg_ctl/postgres of the newest installed PostgreSQL."""
    env = os.environ.get("PGBACKMAN_TEST_PGBIN")
    if env:
        return env
    cands = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0,
    )
    if cands:
        return str(Path(cands[-1]).parent)
    initdb = shutil.which("initdb")
    if initdb:
        return str(Path(initdb).resolve().parent)
    raise ClusterUnavailable("PostgreSQL server binaries (initdb) not found")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", SERVER_USER, "--", *argv]
    return argv


class PgCluster:
    """One PostgreSQL cluster in ``base_dir/name``."""

    def __init__(self, base_dir: Path, name: str, bindir: str | None = None) -> None:
        self.name = name
        self.bindir = bindir or find_bindir()
        self.dir = Path(base_dir) / name
        self.datadir = self.dir / "data"
        self.socket_dir = self.dir / "sock"
        self.logfile = self.dir / "server.log"
        self.host = "127.0.0.1"
        self.port = free_port()
        self.user = "postgres"

    # -- lifecycle -----------------------------------------------------------------
    def init(self, extra_conf: str = "") -> PgCluster:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(SERVER_USER)
            for p in (self.dir, self.socket_dir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            # runuser postgres must be able to traverse the parents of a temp dir.
            for parent in self.dir.parents:
                if str(parent) in ("/", "/tmp"):
                    break
                os.chmod(parent, os.stat(parent).st_mode | 0o711)
        subprocess.run(
            _as_server_user(
                [
                    f"{self.bindir}/initdb",
                    "-D",
                    str(self.datadir),
                    "-U",
                    self.user,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        conf = (
            f"port = {self.port}\n"
            f"listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "max_connections = 60\nshared_buffers = 32MB\n"
            "log_min_messages = warning\n"
            f"{extra_conf}"
        )
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as fh:
            fh.write(conf)
        return self

    def start(self) -> PgCluster:
        subprocess.run(
            _as_server_user(
                [
                    f"{self.bindir}/pg_ctl",
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.wait_ready()
        return self

    def stop(self, mode: str = "fast") -> None:
        if not (self.datadir / "postmaster.pid").exists():
            return
        subprocess.run(
            _as_server_user(
                [
                    f"{self.bindir}/pg_ctl",
                    "-D",
                    str(self.datadir),
                    "-m",
                    mode,
                    "-w",
                    "stop",
                ]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def restart(self) -> None:
        self.stop()
        self.start()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.connect("postgres").close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- access --------------------------------------------------------------------
    def conn_kwargs(
        self, dbname: str = "postgres", user: str | None = None
    ) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "dbname": dbname,
            "user": user or self.user,
        }

    def connect(
        self, dbname: str = "postgres", user: str | None = None, autocommit: bool = True
    ) -> psycopg2.extensions.connection:
        conn = psycopg2.connect(connect_timeout=5, **self.conn_kwargs(dbname, user))
        conn.autocommit = autocommit
        return conn

    def psql(self, sql: str, dbname: str = "postgres", user: str | None = None) -> str:
        """Run SQL through psql with ON_ERROR_STOP; return stdout (raises on error)."""
        res = subprocess.run(
            [
                f"{self.bindir}/psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                user or self.user,
                "-d",
                dbname,
                "-At",
            ],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            raise RuntimeError(f"psql failed ({res.returncode}): {res.stderr.strip()}")
        return res.stdout

    def psql_file(
        self, path: str | Path, dbname: str = "postgres"
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                f"{self.bindir}/psql",
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                dbname,
                "-f",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    def query(
        self, sql: str, params: Any = None, dbname: str = "postgres"
    ) -> list[tuple[Any, ...]]:
        with self.connect(dbname) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
        conn.close()
        return rows

    @property
    def server_version_num(self) -> int:
        return int(self.query("SHOW server_version_num")[0][0])
