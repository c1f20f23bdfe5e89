"""Helpers of the alerting and monitoring tests: configuration of ``[pgbackman_alerts]``,
definitions and catalog rows placed at times relative to the catalog's clock, and running
the real console scripts.

Times are always ``now() - interval '...'`` evaluated by the catalog, so no test depends on
the date or on the zone the suite runs in.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent


def set_config(path: Path, section: str, **values: Any) -> None:
    """Set keys of one section of an INI file (the section is created when missing)."""
    parser = configparser.RawConfigParser()
    parser.read(path, encoding="utf-8")
    if not parser.has_section(section):
        parser.add_section(section)
    for key, value in values.items():
        parser.set(section, key, str(value))
    with open(path, "w", encoding="utf-8") as fh:
        parser.write(fh)


@dataclass
class AlertEnv:
    """``pgb_env`` (tests/conftest.py) plus what alerting tests need."""

    pgb: Any

    def configure(self, **values: Any) -> None:
        set_config(self.pgb.config_path, "pgbackman_alerts", **values)

    def run(
        self,
        program: str,
        *args: str,
        timeout: float = 90,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / program), *args],
            # The shell as an operator (pgbackman_role_rw), the programs as the backup server.
            env=env or (self.pgb.shell_env if program == "pgbackman" else self.pgb.env),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def register_node(self, port: int, logs_email: str | None = None) -> int:
        rows = self.pgb.su_query(
            "SELECT register_pgsql_node('127', '0.0.1', %s, 'postgres', 'RUNNING', 'test')",
            (port,),
        )
        node_id = int(rows[0][0])
        if logs_email is not None:
            self.pgb.su_query(
                "SELECT update_pgsql_node_config(%s, 'logs_email', %s)",
                (node_id, logs_email),
            )
        return node_id

    def define(
        self, node_id: int, dbname: str, minutes: str = "0", hours: str = "*"
    ) -> int:
        rows = self.pgb.su_query(
            "SELECT register_backup_definition(%s, %s, %s, %s, %s, '*', '*', '*', 'FULL',"
            " false, '7 days', 1, '', 'ACTIVE', 'alerting test')",
            (self.pgb.server_id, node_id, dbname, minutes, hours),
        )
        return int(rows[0][0])

    def backup_row(
        self,
        def_id: int,
        node_id: int,
        dbname: str,
        status: str,
        age: str,
        error: str | None = None,
        dump_file: Path | None = None,
    ) -> int:
        """A backup_catalog row that finished ``age`` ago (a PostgreSQL interval)."""
        rows = self.pgb.su_query(
            "INSERT INTO backup_catalog (def_id, backup_server_id, pgsql_node_id, dbname,"
            " started, finished, duration, global_log_file, execution_status,"
            " execution_method, backup_code, error_message, pg_dump_file,"
            " pg_dump_file_size)"
            " VALUES (%s, %s, %s, %s, now() - %s::interval - interval '2 minutes',"
            " now() - %s::interval, interval '2 minutes', '/dev/null', %s, 'CRON', 'FULL',"
            " %s, %s, %s) RETURNING bck_id",
            (
                def_id,
                self.pgb.server_id,
                node_id,
                dbname,
                age,
                age,
                status,
                error,
                str(dump_file) if dump_file else None,
                4096 if dump_file else None,
            ),
        )
        return int(rows[0][0])

    def alerts(self) -> list[dict[str, Any]]:
        return self.pgb.cat.query("SELECT * FROM show_alerts ORDER BY alert_id")
