"""A backup site for end-to-end tests (restore drills, clones, disk usage): the test
catalog with node1 and node2 registered, the real programs run as subprocesses
(pgbackman_dump, pgbackman_restore --drill/--clone, pgbackman_maintenance, pgbackman_control,
the shell through tests/support/shell.py), and what the nodes and the catalog hold after."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.pgcluster import PgCluster
from support.shell import Shell, ShellRun

VENV_BIN = Path(sys.executable).parent


@dataclass
class Site:
    pgb: Any
    node1: PgCluster
    node2: PgCluster
    node1_id: int
    node2_id: int

    def run(self, *argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / argv[0]), *argv[1:]],
            env=self.pgb.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def shell(self, line: str, fmt: str | None = None) -> ShellRun:
        """The real shell: ``pgbackman [-o fmt] -C line`` (tests/support/shell.py)."""
        return Shell(self.pgb).cmd(line, fmt)

    def shell_json(self, line: str) -> Any:
        res = self.shell(line, "json")
        assert res.returncode == 0, res.stdout + res.stderr
        return res.json()

    def definition(
        self, dbname: str, code: str = "FULL", extra: str = "", encryption: bool = False
    ) -> int:
        return int(
            self.pgb.su_query(
                "SELECT register_backup_definition(%s, %s, %s, '0', '3', '*', '*', '*', %s,"
                " %s, '7 days', 1, %s, 'ACTIVE', 'drill test')",
                (self.pgb.server_id, self.node1_id, dbname, code, encryption, extra),
            )[0][0]
        )

    def backup(self, def_id: int) -> dict[str, Any]:
        """One real pgbackman_dump run of ``def_id``; its SUCCEEDED backup_catalog row."""
        res = self.run("pgbackman_dump", "--def-id", str(def_id))
        assert res.returncode == 0, res.stderr
        row = self.pgb.cat.query_one(
            "SELECT * FROM backup_catalog WHERE def_id = %s ORDER BY bck_id DESC LIMIT 1",
            (def_id,),
        )
        assert row is not None and row["execution_status"] == "SUCCEEDED", row
        return dict(row)

    def register_drill(self, def_id: int, interval: str = "7 days") -> int:
        res = self.shell(
            f"register_restore_drill {def_id} {self.node2_id} '{interval}'"
        )
        assert res.returncode == 0, res.stdout + res.stderr
        return int(
            self.pgb.su_query(
                "SELECT drill_id FROM restore_drill WHERE def_id = %s", (def_id,)
            )[0][0]
        )

    def drill(self, drill_id: int) -> subprocess.CompletedProcess[str]:
        return self.run("pgbackman_restore", "--drill", str(drill_id))

    def drill_runs(self, drill_id: int) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.pgb.cat.query(
                "SELECT * FROM restore_drill_run WHERE drill_id = %s ORDER BY drill_run_id",
                (drill_id,),
            )
        ]

    def alerts(self, alert_type: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.pgb.cat.query(
                "SELECT * FROM alerts WHERE alert_type = %s ORDER BY alert_id",
                (alert_type,),
            )
        ]


def databases(cluster: PgCluster) -> set[str]:
    return {r[0] for r in cluster.query("SELECT datname FROM pg_database")}


def roles(cluster: PgCluster) -> set[str]:
    return {r[0] for r in cluster.query("SELECT rolname FROM pg_roles")}


def add_big_table(cluster: PgCluster, dbname: str, table: str = "public.big") -> None:
    """A table larger than the exact-count limit (16 MB): the drill checks it by estimate."""
    cluster.psql(
        f"CREATE TABLE {table} (id int, pad text);"
        f"INSERT INTO {table} SELECT g, repeat(md5(g::text), 3)"
        " FROM generate_series(1, 160000) g;"
        f"ANALYZE {table};",
        dbname=dbname,
    )


def ensure_atd() -> None:
    """The real at daemon runs the at jobs pgbackman_control queues."""
    if subprocess.run(
        ["pgrep", "-x", "atd"], capture_output=True, check=False
    ).returncode:
        subprocess.run([shutil.which("atd") or "/usr/sbin/atd"], check=True)


def control_once(site: Site) -> None:
    res = site.run("pgbackman_control", "--once", timeout=120)
    assert res.returncode == 0, res.stderr


def wait_for(what: str, check: Callable[[], object], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.5)
