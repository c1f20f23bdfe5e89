"""Fixtures of the catalog-upgrade tests: upstream (PgBackMan 1.x) catalogs built in the
test catalog cluster, dropped after each test; and an empty cluster of its own for the
tests that watch roles being created (roles are cluster-wide)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.pgcluster import PgCluster, find_bindir
from upgrade_helpers import drop_database, make_upstream


@pytest.fixture
def upstream_db(catalog_cluster: PgCluster) -> Iterator[Callable[..., str]]:
    """``upstream_db(version, rows=None, site=True)`` -> name of a new 1.x catalog database."""
    made: list[str] = []

    def make(version: int, **kw: Any) -> str:
        name = make_upstream(catalog_cluster, version, **kw)
        made.append(name)
        return name

    yield make
    for name in made:
        drop_database(catalog_cluster, name)


@pytest.fixture
def blank_cluster(pg_base_dir: Path, tmp_path: Path) -> Iterator[PgCluster]:
    """A new cluster with no PgBackMan role at all (upstream's roles come with the catalog)."""
    cluster = PgCluster(pg_base_dir, f"blank_{tmp_path.name}", find_bindir())
    cluster.init().start()
    yield cluster
    cluster.destroy()
