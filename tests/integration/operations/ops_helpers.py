"""Helpers for the cross-program operation tests: run the real programs as subprocesses, a
second backup server (its own config file and root) on the same catalog."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.pgbenv import PgbEnv
from pgbackman.core.cron import parse_job_lines
from support.shell import Shell, ShellRun

SERVER2_HOST = "backup02"
SERVER2_FQDN = "backup02.pgbackman.test"


@dataclass
class Server:
    """One backup server as seen by the programs: its config file and root."""

    pgb: PgbEnv
    config_path: Path
    root: Path
    server_id: int

    def run(self, *argv: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [argv[0], "--config", str(self.config_path), *argv[1:]],
            env=self.pgb.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def control_once(self) -> None:
        res = self.run("pgbackman_control", "--once")
        assert res.returncode == 0, res.stderr
        assert "Traceback" not in res.stderr

    def maintenance_once(self) -> subprocess.CompletedProcess[str]:
        res = self.run("pgbackman_maintenance", "--once")
        assert "Traceback" not in res.stderr, res.stderr
        return res

    def dump(self, def_id: int) -> subprocess.CompletedProcess[str]:
        res = self.run("pgbackman_dump", "--def-id", str(def_id))
        assert "Traceback" not in res.stderr, res.stderr
        return res


def shell(pgb: PgbEnv, command: str) -> ShellRun:
    """One shell command, as an operator, with the operator's config file given explicitly."""
    return Shell(pgb, config=pgb.shell_config_path).cmd(command)


def server1(pgb: PgbEnv) -> Server:
    return Server(pgb, pgb.config_path, pgb.root, pgb.server_id)


def add_server2(pgb: PgbEnv, root2: Path | None = None) -> Server:
    """Register backup02 (through the shell), give it its own root, write its config file.

    Node partitions are node settings (the same path on every server), and a server uses a
    partition only inside its own root_backup_partition: by default server 2's root is
    ``pgb.tmp``, which holds server 1's root and so every node partition."""
    res = shell(pgb, f"register_backup_server {SERVER2_HOST} pgbackman.test second")
    assert res.returncode == 0, res.stdout + res.stderr
    sid = int(
        pgb.su_query(
            "SELECT server_id FROM backup_server WHERE hostname = %s", (SERVER2_HOST,)
        )[0][0]
    )
    if root2 is None:
        root2 = pgb.tmp
    res = shell(pgb, f"update_backup_server_config {sid} '' '' '' '' '' '' '' {root2}")
    assert res.returncode == 0, res.stdout + res.stderr
    for param in ("pgbackman_dump", "pgbackman_restore", "backup_user"):
        pgb.su_query(
            "UPDATE backup_server_config c SET value = d.value FROM backup_server_config d"
            " WHERE c.server_id = %s AND d.server_id = %s AND c.parameter = %s"
            " AND d.parameter = c.parameter",
            (sid, pgb.server_id, param),
        )
    text = pgb.config_path.read_text()
    text = text.replace("backup01.pgbackman.test", SERVER2_FQDN)
    text = text.replace(
        f"root_backup_partition = {pgb.root}", f"root_backup_partition = {root2}"
    )
    text = text.replace("control.pid", "control2.pid").replace(
        "pgbackman.log", "pgbackman2.log"
    )
    cfg2 = pgb.tmp / "pgbackman2.conf"
    cfg2.write_text(text)
    os.chmod(cfg2, 0o644)
    return Server(pgb, cfg2, root2, sid)


def cron_def_ids(path: Path) -> list[int]:
    """DefIDs of the job lines of a crontab file (empty when the file is missing)."""
    try:
        jobs = parse_job_lines(path.read_text())
    except FileNotFoundError:
        return []
    ids = []
    for _sched, _user, argv in jobs:
        ids.append(int(argv[argv.index("--def-id") + 1]))
    return sorted(ids)


def register_def(
    pgb: PgbEnv, server_id: int, node_id: int, dbname: str, minute: str
) -> int:
    res = shell(
        pgb,
        f"register_backup_definition {server_id} {node_id} {dbname} '' {minute} 01 * * * FULL"
        " false '7 days' 1 '' ACTIVE qa",
    )
    assert res.returncode == 0, res.stdout + res.stderr
    rows = pgb.su_query(
        "SELECT def_id FROM backup_definition WHERE pgsql_node_id = %s AND dbname = %s",
        (node_id, dbname),
    )
    return int(rows[0][0])


def backups(pgb: PgbEnv, def_id: int) -> list[dict[str, Any]]:
    rows = pgb.su_query(
        "SELECT bck_id, backup_server_id, execution_status, pg_dump_file, pg_dump_log_file,"
        " pg_dump_roles_file, pg_dump_dbconfig_file, pg_dump_manifest_file"
        " FROM backup_catalog WHERE def_id = %s ORDER BY bck_id",
        (def_id,),
    )
    keys = (
        "bck_id",
        "server_id",
        "status",
        "dump",
        "log",
        "roles",
        "dbconfig",
        "manifest",
    )
    return [dict(zip(keys, r, strict=True)) for r in rows]


def row_files(row: dict[str, Any]) -> list[Path]:
    return [
        Path(row[k]) for k in ("dump", "log", "roles", "dbconfig", "manifest") if row[k]
    ]
