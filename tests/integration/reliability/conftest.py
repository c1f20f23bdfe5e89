"""Fixtures of the reliability/security tests (helpers live in rel_helpers.py)."""

from __future__ import annotations

from typing import Any

import pytest
from rel_helpers import RelEnv

from support.pgbenv import PgbEnv


@pytest.fixture
def rel(pgb_env: PgbEnv, node1: Any) -> RelEnv:
    """A backup server with node1 registered (RUNNING)."""
    return RelEnv(pgb_env, node1, pgb_env.register_node(node1))
