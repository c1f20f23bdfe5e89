"""Fixtures of the pgbackman_dump tests: a rich database per test on node1, definitions
registered in the test catalog, and a helper that runs the real ``pgbackman_dump``."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.pgcluster import PgCluster
from support.richdb import RichDb, create_rich_database, drop_rich_database

_seq = itertools.count(1)
VENV_BIN = Path(sys.executable).parent
PgbEnv = Any  # tests/conftest.py's PgbEnv (not importable by name: every conftest is 'conftest')


@dataclass
class DumpEnv:
    pgb: PgbEnv
    node: PgCluster
    node_id: int

    @property
    def partition(self) -> Path:
        return self.pgb.root / f"pgsql_node_{self.node_id}"

    def define(self, dbname: str, code: str = "FULL", extra: str = "") -> int:
        rows = self.pgb.su_query(
            "SELECT register_backup_definition(%s, %s, %s, '0', '3', '*', '*', '*', %s, false,"
            " '7 days', 1, %s, 'ACTIVE', 'dump test')",
            (self.pgb.server_id, self.node_id, dbname, code, extra),
        )
        return int(rows[0][0])

    def snapshot(
        self, dbname: str, code: str = "FULL", release: str | None = None
    ) -> int:
        rows = self.pgb.su_query(
            "SELECT register_snapshot_definition(%s, %s, %s, now(), %s, '7 days', '', 'snap', %s)",
            (self.pgb.server_id, self.node_id, dbname, code, release),
        )
        return int(rows[0][0])

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "pgbackman_dump"), *args],
            env=env or self.pgb.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(VENV_BIN / "pgbackman_dump"), *args],
            env=env or self.pgb.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def rows(
        self, def_id: int | None = None, snapshot_id: int | None = None
    ) -> list[dict[str, Any]]:
        q = (
            "SELECT * FROM backup_catalog WHERE def_id = %s"
            if def_id is not None
            else "SELECT * FROM backup_catalog WHERE snapshot_id = %s"
        )
        return self.pgb.cat.query(
            q + " ORDER BY bck_id", (def_id if def_id is not None else snapshot_id,)
        )

    def final_entries(self) -> list[str]:
        d = self.partition / "dump"
        return sorted(p.name for p in d.iterdir()) if d.exists() else []


@pytest.fixture
def dump_env(pgb_env: PgbEnv, node1: PgCluster) -> DumpEnv:
    return DumpEnv(pgb_env, node1, pgb_env.register_node(node1))


@pytest.fixture
def rich(node1: PgCluster, node2: PgCluster) -> Iterator[RichDb]:
    """A rich database on node1 with per-test role names; dropped from both nodes after."""
    n = next(_seq)
    prefix = f"rt{os.getpid()}_{n}"
    r = create_rich_database(node1, f"rich_{prefix}", prefix)
    yield r
    drop_rich_database(node1, r)
    drop_rich_database(node2, r)
