"""Helpers of the pgbackman_restore tests: back up with the real pgbackman_dump, register a
restore definition, run the real pgbackman_restore, read restore_catalog rows."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.pgbenv import PgbEnv
from support.pgcluster import PgCluster

VENV_BIN = Path(sys.executable).parent


@dataclass
class RestoreEnv:
    pgb: PgbEnv
    node1: PgCluster
    node2: PgCluster
    node1_id: int
    node2_id: int

    def backup(
        self,
        dbname: str,
        code: str = "FULL",
        node_id: int | None = None,
        *,
        encryption: bool = False,
        compression: str | None = None,
    ) -> dict[str, Any]:
        """A backup definition + one real pgbackman_dump run; returns the backup_catalog row."""
        def_id = int(
            self.pgb.su_query(
                "SELECT register_backup_definition(%s, %s, %s, '0', '3', '*', '*', '*', %s, %s,"
                " '7 days', 1, '', 'ACTIVE', 'restore test', %s)",
                (
                    self.pgb.server_id,
                    node_id or self.node1_id,
                    dbname,
                    code,
                    encryption,
                    compression,
                ),
            )[0][0]
        )
        res = subprocess.run(
            [str(VENV_BIN / "pgbackman_dump"), "--def-id", str(def_id)],
            env=self.pgb.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert res.returncode == 0, res.stderr
        row = self.pgb.cat.query_one(
            "SELECT * FROM backup_catalog WHERE def_id = %s", (def_id,)
        )
        assert row is not None and row["execution_status"] == "SUCCEEDED", row
        return dict(row)

    def define(
        self,
        bck_id: int,
        target: str,
        *,
        node_id: int | None = None,
        renamed: str | None = None,
        extra: str = "",
        roles: list[str] | None = None,
    ) -> int:
        """A restore definition (as the shell would register it)."""
        return int(
            self.pgb.su_query(
                "SELECT register_restore_definition(now(), %s, %s, %s, %s, %s, %s, %s)",
                (
                    self.pgb.server_id,
                    node_id or self.node2_id,
                    bck_id,
                    target,
                    renamed,
                    extra,
                    roles or [],
                ),
            )[0][0]
        )

    def restore(
        self, restore_def: int, timeout: float = 180, *extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(VENV_BIN / "pgbackman_restore"),
                "--restore-def",
                str(restore_def),
                *extra,
            ],
            env=self.pgb.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, restore_def: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(VENV_BIN / "pgbackman_restore"), "--restore-def", str(restore_def)],
            env=self.pgb.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def rows(self, restore_def: int) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.pgb.cat.query(
                "SELECT * FROM restore_catalog WHERE restore_def = %s ORDER BY restore_id",
                (restore_def,),
            )
        ]

    def one_row(self, restore_def: int) -> dict[str, Any]:
        rows = self.rows(restore_def)
        assert len(rows) == 1, rows
        return rows[0]


def databases(cluster: PgCluster) -> set[str]:
    return {r[0] for r in cluster.query("SELECT datname FROM pg_database")}


def roles(cluster: PgCluster) -> set[str]:
    return {r[0] for r in cluster.query("SELECT rolname FROM pg_roles")}
