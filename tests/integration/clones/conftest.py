"""Fixtures of the clone tests (the site: tests/support/site.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from support.pgcluster import PgCluster
from support.richdb import RichDb, create_rich_database, drop_rich_database

_seq = itertools.count(1)


@pytest.fixture
def rich(node1: PgCluster, node2: PgCluster) -> Iterator[RichDb]:
    """A rich database on node1 with per-test role names; dropped from both nodes after."""
    prefix = f"cl{os.getpid()}_{next(_seq)}"
    r = create_rich_database(node1, f"rich_{prefix}", prefix)
    yield r
    drop_rich_database(node1, r)
    node2.psql(f'DROP DATABASE IF EXISTS "{r.dbname}_copy" WITH (FORCE)')
    drop_rich_database(node2, r)
