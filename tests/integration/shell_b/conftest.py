"""Fixtures of the shell_b tests (helpers live in shell_b_helpers.py: every conftest is
imported as the module `conftest`, so tests must not import from it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shell_b_helpers import ShellDriver


@pytest.fixture
def shell(pgb_env: Any) -> Iterator[ShellDriver]:
    yield ShellDriver(pgb_env)
