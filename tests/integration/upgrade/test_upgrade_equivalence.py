"""A catalog upgraded from PgBackMan 1.x is the catalog a fresh install builds: same tables,
columns, constraints, indexes, functions, triggers, views, owners, grants, default
privileges and database privileges (``pg_dump --schema-only --create``, normalised), same
code rows and default configuration.

This is what keeps later schema changes honest: a change to sql/schema/ that the upgrade
path does not pick up (or the other way round) fails here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import pytest
from upgrade_helpers import (
    drop_database,
    fresh_install,
    new_dbname,
    reference_rows,
    run_upgrade,
    schema_dump,
)


@pytest.fixture(scope="module")
def fresh(catalog_cluster: Any) -> Any:
    name = new_dbname("fresh")
    fresh_install(catalog_cluster, name)
    yield name
    drop_database(catalog_cluster, name)


@pytest.mark.parametrize(
    "version, rows",
    [
        (1, [1]),  # 1.0.0
        (2, [1, 2]),  # 1.1.0, upgraded from 1.0.0
        (3, [3]),  # a fresh 1.2.0 install
        (4, [3, 4]),  # master: fresh install said 3, then pgbackman_4.sql
    ],
)
def test_upgraded_upstream_catalog_equals_a_fresh_install(
    catalog_cluster: Any,
    upstream_db: Callable[..., str],
    fresh: str,
    version: int,
    rows: list[int],
) -> None:
    db = upstream_db(version, rows=rows)
    res = run_upgrade(catalog_cluster, db)
    assert res.returncode == 0, res.stderr
    assert "upgraded from schema version" in res.stdout

    want, got = schema_dump(catalog_cluster, fresh), schema_dump(catalog_cluster, db)
    diff = "\n".join(difflib.unified_diff(want, got, "fresh", "upgraded", lineterm=""))
    assert want == got, f"upgraded catalog differs from a fresh install:\n{diff}"
    assert reference_rows(catalog_cluster, db) == reference_rows(catalog_cluster, fresh)
