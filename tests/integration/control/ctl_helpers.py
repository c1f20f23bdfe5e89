"""Helpers for the pgbackman_control tests (imported by conftest.py and the test modules):
a fake pgbackman_dump/restore that records its argv, a ``pgbackman_control --foreground``
subprocess, crontab parsing and polling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.pgbenv import PgbEnv
from pgbackman.core.cron import parse_job_lines


def wait_for(pred: Callable[[], Any], timeout: float = 5.0, step: float = 0.02) -> Any:
    """Poll ``pred`` until it returns something truthy; return it (or fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(step)


@dataclass
class FakeJobs:
    """A fake pgbackman_dump and pgbackman_restore that append their argv (JSON) to a file."""

    dump: Path
    restore: Path
    record: Path

    def calls(self) -> list[list[str]]:
        if not self.record.exists():
            return []
        return [
            json.loads(line) for line in self.record.read_text().splitlines() if line
        ]


def make_fake_jobs(pgb_env: PgbEnv) -> FakeJobs:
    d = pgb_env.tmp / "fakebin"
    d.mkdir()
    record = pgb_env.tmp / "job-calls.jsonl"
    progs = {}
    for name in ("pgbackman_dump", "pgbackman_restore"):
        p = d / name
        p.write_text(
            f"#!{sys.executable}\n"
            "import json, sys\n"
            f"with open({str(record)!r}, 'a') as fh:\n"
            f"    fh.write(json.dumps([{name!r}] + sys.argv[1:]) + '\\n')\n"
        )
        p.chmod(0o755)
        progs[name] = p
    # The local configuration file names the programs of cron and at lines (the catalog's
    # parameters of the same name are not used).
    rewrite_config(
        pgb_env,
        "backup_server",
        pgbackman_dump=progs["pgbackman_dump"],
        pgbackman_restore=progs["pgbackman_restore"],
    )
    return FakeJobs(progs["pgbackman_dump"], progs["pgbackman_restore"], record)


def crontab_path(pgb_env: PgbEnv, node_id: int) -> Path:
    return pgb_env.cron_dir / f"pgsql_node_{node_id}"


def job_lines(path: Path) -> list[tuple[list[str], str, list[str]]]:
    try:
        return parse_job_lines(path.read_text())
    except FileNotFoundError:
        return []


def register_definition(
    pgb_env: PgbEnv,
    node_id: int,
    dbname: str,
    minutes: str = "41",
    hours: str = "01",
    status: str = "ACTIVE",
) -> int:
    return int(
        pgb_env.operator.call(
            "register_backup_definition",
            pgb_env.server_id,
            node_id,
            dbname,
            minutes,
            hours,
            "*",
            "*",
            "*",
            "FULL",
            False,
            "7 days",
            1,
            "",
            status,
            "test",
        )
    )


def set_node_status(pgb_env: PgbEnv, node_id: int, status: str) -> None:
    pgb_env.operator.call("update_pgsql_node", node_id, 0, "", status, None)


class Daemon:
    """A ``pgbackman_control --foreground`` subprocess."""

    def __init__(
        self, pgb_env: PgbEnv, extra_env: dict[str, str] | None = None
    ) -> None:
        self.env = dict(pgb_env.env)
        if extra_env:
            self.env.update(extra_env)
        self.stderr_path = pgb_env.tmp / "control.stderr"
        self.log_path = pgb_env.tmp / "pgbackman.log"
        self.config_path = pgb_env.config_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait_ready: bool = True) -> Daemon:
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [
                    "pgbackman_control",
                    "--foreground",
                    "--config",
                    str(self.config_path),
                ],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        if wait_ready:
            wait_for(lambda: "Full resync of backup server" in self.log(), timeout=15)
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 10) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("pgbackman_control did not stop on SIGTERM") from None


def run_once(pgb_env: PgbEnv, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pgbackman_control", "--once", "--config", str(pgb_env.config_path), *extra],
        env=pgb_env.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def rewrite_config(pgb_env: PgbEnv, section: str, **values: Any) -> None:
    """Set keys in the test's config file (adds them to an existing section)."""
    lines = pgb_env.config_path.read_text().splitlines()
    out: list[str] = []
    current = None
    for ln in lines:
        if ln.startswith("["):
            if current == section:
                out.extend(f"{k} = {v}" for k, v in values.items())
            current = ln.strip("[]")
        elif current == section and ln.split("=")[0].strip() in values:
            continue
        out.append(ln)
    if current == section:
        out.extend(f"{k} = {v}" for k, v in values.items())
    pgb_env.config_path.write_text("\n".join(out) + "\n")
    os.chmod(pgb_env.config_path, 0o644)
