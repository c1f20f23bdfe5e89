"""Fixtures of the maintenance tests (helpers live in maint_helpers.py: every conftest is
imported as the module `conftest`, so tests must not import from it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from maint_helpers import MaintEnv

from support.pgbenv import PgbEnv


@pytest.fixture
def mnt(pgb_env: PgbEnv, node1: Any) -> Iterator[MaintEnv]:
    node_id = pgb_env.register_node(node1, "RUNNING")
    yield MaintEnv(pgb=pgb_env, node_id=node_id)
