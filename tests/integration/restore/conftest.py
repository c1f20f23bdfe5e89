"""Fixtures of the pgbackman_restore tests: a rich database on node1 backed up with the REAL
``pgbackman_dump``, restore definitions registered in the test catalog, the REAL
``pgbackman_restore`` as a subprocess, and a third, empty cluster for CLUSTER restores."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from restore_helpers import RestoreEnv
from support.pgbenv import PgbEnv
from support.pgcluster import PgCluster, find_bindir
from support.richdb import RichDb, create_rich_database, drop_rich_database

_seq = itertools.count(1)


@pytest.fixture(scope="session")
def node3(pg_base_dir: Path) -> Iterator[PgCluster]:
    """An empty cluster (no user database): the target of CLUSTER restores."""
    cluster = PgCluster(pg_base_dir, "node3", find_bindir()).init().start()
    yield cluster
    cluster.destroy()


@pytest.fixture
def rst(pgb_env: PgbEnv, node1: PgCluster, node2: PgCluster) -> RestoreEnv:
    return RestoreEnv(
        pgb_env,
        node1,
        node2,
        pgb_env.register_node(node1),
        pgb_env.register_node(node2),
    )


@pytest.fixture
def rich(node1: PgCluster, node2: PgCluster) -> Iterator[RichDb]:
    """A rich database on node1 with per-test role names; dropped from both nodes after."""
    prefix = f"rr{os.getpid()}_{next(_seq)}"
    r = create_rich_database(node1, f"rich_{prefix}", prefix)
    yield r
    drop_rich_database(node1, r)
    for extra in (f"{r.dbname}_old", f"{r.dbname}_copy"):
        node2.psql(f'DROP DATABASE IF EXISTS "{extra}" WITH (FORCE)')
    drop_rich_database(node2, r)
