"""Fixtures of the restore drill, clone and disk usage tests (helpers: drill_helpers.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from drill_helpers import DrillEnv
from support.pgcluster import PgCluster
from support.richdb import RichDb, create_rich_database, drop_rich_database

_seq = itertools.count(1)


@pytest.fixture
def drl(pgb_env: Any, node1: PgCluster, node2: PgCluster) -> DrillEnv:
    return DrillEnv(
        pgb_env,
        node1,
        node2,
        pgb_env.register_node(node1),
        pgb_env.register_node(node2),
    )


@pytest.fixture
def rich(node1: PgCluster, node2: PgCluster) -> Iterator[RichDb]:
    """A rich database on node1 with per-test role names; dropped from both nodes after."""
    prefix = f"dr{os.getpid()}_{next(_seq)}"
    r = create_rich_database(node1, f"rich_{prefix}", prefix)
    yield r
    drop_rich_database(node1, r)
    node2.psql(f'DROP DATABASE IF EXISTS "{r.dbname}_copy" WITH (FORCE)')
    drop_rich_database(node2, r)
