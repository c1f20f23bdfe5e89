"""Helpers to drive the real ``pgbackman`` shell for the definition/snapshot/catalog/restore
commands: one command (``-C``), a stdin script, or an interactive pexpect session."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any

import pexpect


@dataclass
class ShellRun:
    rc: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class ShellDriver:
    """Runs the real shell as a subprocess with the test's environment."""

    def __init__(self, env: Any) -> None:
        self.pgb = env

    def cmd(self, line: str, fmt: str | None = None, timeout: float = 60) -> ShellRun:
        argv = ["pgbackman"]
        if fmt:
            argv += ["-o", fmt]
        argv += ["-C", line]
        p = subprocess.run(
            argv,
            env=self.pgb.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return ShellRun(p.returncode, p.stdout, p.stderr)

    def script(self, lines: list[str], timeout: float = 60) -> ShellRun:
        p = subprocess.run(
            ["pgbackman"],
            env=self.pgb.env,
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return ShellRun(p.returncode, p.stdout, p.stderr)

    def spawn(self) -> pexpect.spawn:
        child = pexpect.spawn(
            "pgbackman",
            env=self.pgb.env,
            encoding="utf-8",
            timeout=30,
            dimensions=(50, 250),
        )
        child.expect_exact("[pgbackman]$ ")
        return child


def answer(child: pexpect.spawn, label: str, value: str) -> None:
    """Wait for the prompt containing ``label`` and type ``value``."""
    child.expect_exact(label)
    child.expect_exact(": ")
    child.sendline(value)


def quit_shell(child: pexpect.spawn) -> None:
    child.expect_exact("[pgbackman]$ ")
    child.sendline("quit")
    child.expect(pexpect.EOF)


def add_backup(
    pgb: Any,
    node_id: int,
    dbname: str,
    def_id: int | None = None,
    snapshot_id: int | None = None,
    status: str = "SUCCEEDED",
    roles: list[str] | None = None,
    code: str = "FULL",
    finished: str = "2026-01-02 03:04:05+00",
) -> int:
    """A backup_catalog row written directly (pgbackman_dump is not under test here)."""
    rows = pgb.su_query(
        "INSERT INTO backup_catalog (def_id, snapshot_id, procpid, backup_server_id, pgsql_node_id,"
        " dbname, started, finished, duration, pg_dump_file, pg_dump_file_size, pg_dump_log_file,"
        " global_log_file, execution_status, execution_method, role_list, pgsql_node_release,"
        " pg_dump_release, backup_code)"
        " VALUES (%s, %s, 4242, %s, %s, %s, %s::timestamptz - interval '65 seconds', %s, "
        " interval '65 seconds', %s, 123456, %s, '/tmp/global.log', %s, %s, %s, '15', '15', %s)"
        " RETURNING bck_id",
        (
            def_id,
            snapshot_id,
            pgb.server_id,
            node_id,
            dbname,
            finished,
            finished,
            f"/srv/dump/{dbname}.dump",
            f"/srv/log/{dbname}.log",
            status,
            "CRON" if def_id else "AT",
            roles if roles is not None else ["postgres"],
            code,
        ),
    )
    return int(rows[0][0])


def definitions(pgb: Any) -> list[tuple[Any, ...]]:
    """Every backup_definition row, ordered, with the columns tests look at."""
    return pgb.su_query(
        "SELECT def_id, backup_server_id, pgsql_node_id, dbname, minutes_cron, hours_cron,"
        " day_month_cron, month_cron, weekday_cron, backup_code, encryption,"
        " retention_period::text, retention_redundancy, extra_backup_parameters, job_status,"
        " remarks FROM backup_definition ORDER BY def_id"
    )
