"""Which catalog is this, and what takes it to this software's schema version: the pure
decisions of catalog/schema.py (the SQL of sql/pgbackman_5.sql makes the same ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgbackman.catalog.schema import (
    SchemaVersion,
    State,
    classify,
    upgrade_steps,
    version_problem,
)
from pgbackman.errors import CatalogError

FILES = {n: Path(f"/sql/pgbackman_{n}.sql") for n in (5, 6, 7)}


@pytest.mark.parametrize(
    "version, tag, state",
    [
        (1, "v_1_0_0", State.UPSTREAM),
        (2, "v_1_1_0", State.UPSTREAM),
        (3, "v_1_2_0", State.UPSTREAM),
        (4, "v_1_3_0", State.UPSTREAM),
        (5, "v_1_3_1", State.FOREIGN),  # a fork numbered after master
        (
            1,
            "v_2_0_0",
            State.OLDER,
        ),  # this rewrite before the numbering followed upstream's
        (5, "v_2_0_0", State.CURRENT),
        (5, "v_2_0_1", State.FOREIGN),
        (6, "v_2_1_0", State.NEWER),
        (3, "v_2_0_0", State.FOREIGN),
        (4, "something", State.FOREIGN),
    ],
)
def test_classify(version: int, tag: str, state: State) -> None:
    assert classify(SchemaVersion(version, tag)) is state


def test_steps_for_a_1x_catalog_is_the_conversion_only() -> None:
    # pgbackman_5.sql builds the CURRENT schema: later files are not needed.
    current = SchemaVersion(3, "v_1_2_0")
    assert upgrade_steps(current, FILES, expected=7) == [FILES[5]]
    assert upgrade_steps(current, FILES) == [FILES[5]]


def test_steps_for_catalogs_of_this_software() -> None:
    assert upgrade_steps(SchemaVersion(5, "v_2_0_0"), FILES) == []
    assert upgrade_steps(SchemaVersion(1, "v_2_0_0"), FILES, expected=7) == [
        FILES[5],
        FILES[6],
        FILES[7],
    ]
    assert upgrade_steps(SchemaVersion(5, "v_2_0_0"), FILES, expected=7) == [
        FILES[6],
        FILES[7],
    ]


def test_steps_refused() -> None:
    with pytest.raises(CatalogError, match="newer than this software"):
        upgrade_steps(SchemaVersion(6, "v_2_1_0"), FILES)
    with pytest.raises(CatalogError, match="fork"):
        upgrade_steps(SchemaVersion(5, "v_1_3_1"), FILES)
    with pytest.raises(CatalogError, match="pgbackman_6.sql"):
        upgrade_steps(
            SchemaVersion(5, "v_2_0_0"), {5: FILES[5], 7: FILES[7]}, expected=7
        )


def test_problems_name_what_to_do() -> None:
    assert version_problem(SchemaVersion(5, "v_2_0_0")) is None
    up = version_problem(SchemaVersion(4, "v_1_3_0")) or ""
    assert "PgBackMan 1.x catalog, schema version 4 (v_1_3_0" in up
    assert "pgbackman_upgrade_catalog" in up and "Migrating from PgBackMan 1.x" in up
    assert "pgbackman_upgrade_catalog" in (
        version_problem(SchemaVersion(1, "v_2_0_0")) or ""
    )
    assert "upgrade PgBackMan on this host" in (
        version_problem(SchemaVersion(9, "v_3_0_0")) or ""
    )
