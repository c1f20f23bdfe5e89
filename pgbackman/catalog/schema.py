"""Catalog schema versions: which catalog this is, whether this software can use it, and
which numbered upgrade files take it to the version the software needs.

Numbering continues upstream's: 1 = PgBackMan 1.0.0 ('v_1_0_0'), 2 = 1.1.0, 3 = 1.2.0,
4 = master after 1.2.0 ('v_1_3_0'); 5 = this rewrite ('v_2_0_0'). A fresh catalog is
``sql/pgbackman.sql``; a later version ``n`` is ``sql/pgbackman_<n>.sql`` (one transaction,
inserts its own ``pgbackman_version`` row). ``sql/pgbackman_5.sql`` also converts a 1.x
catalog, straight to the CURRENT schema (it re-uses the install's files), and renumbers a
catalog of this rewrite created before the numbering followed upstream's ``(1, 'v_2_0_0')``.
The files run as a superuser through psql (:mod:`pgbackman.catalog.upgrade`); every other
program only checks the version (:func:`check_version`).

The decisions (:func:`classify`, :func:`upgrade_steps`) are pure and unit-tested.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path

from pgbackman.catalog.connection import Catalog
from pgbackman.errors import CatalogError
from pgbackman.version import SCHEMA_TAG, SCHEMA_VERSION

_UPGRADE_RE = re.compile(r"^pgbackman_(\d+)\.sql$")
# Upstream's schema versions and the releases that wrote them (upstream-behaviour.md §0.1).
UPSTREAM_RELEASES = {
    1: ("v_1_0_0", "1.0.0"),
    2: ("v_1_1_0", "1.1.0"),
    3: ("v_1_2_0", "1.2.0"),
    4: ("v_1_3_0", "master after 1.2.0"),
}
UPSTREAM_UPGRADE = (
    5  # the file that converts a 1.x catalog (and renumbers (1, 'v_2_0_0'))
)
_OWN_TAG_RE = re.compile(r"^v_([2-9]|[1-9][0-9]+)_")
UPGRADE_PROGRAM = "pgbackman_upgrade_catalog"
MIGRATION_DOC = 'docs/manual.rst, chapter "Migrating from PgBackMan 1.x"'


class State(enum.Enum):
    CURRENT = "current"  # the version this software needs
    OLDER = "older"  # a catalog of this software, numbered upgrades apply
    UPSTREAM = "upstream"  # PgBackMan 1.x: sql/pgbackman_5.sql converts it
    NEWER = "newer"  # written by a newer PgBackMan: upgrade the software
    FOREIGN = "foreign"  # neither (e.g. a fork's (5, 'v_1_3_1')): refused


@dataclass(frozen=True)
class SchemaVersion:
    version: int
    tag: str
    registered: object = None

    @property
    def label(self) -> str:
        """``3 (v_1_2_0, PgBackMan 1.2.0)`` / ``5 (v_2_0_0)``."""
        release = UPSTREAM_RELEASES.get(self.version)
        if release is not None and release[0] == self.tag:
            return f"{self.version} ({self.tag}, PgBackMan {release[1]})"
        return f"{self.version} ({self.tag})"


def classify(
    current: SchemaVersion,
    expected: int = SCHEMA_VERSION,
    expected_tag: str = SCHEMA_TAG,
) -> State:
    """What ``current`` (the newest pgbackman_version row) is to this software."""
    v, tag = current.version, current.tag
    if tag.startswith("v_1_"):
        return State.UPSTREAM if 1 <= v < UPSTREAM_UPGRADE else State.FOREIGN
    if not _OWN_TAG_RE.match(tag):
        return State.FOREIGN
    if (
        v == 1 and tag == "v_2_0_0"
    ):  # this rewrite before the numbering followed upstream's
        return State.OLDER
    if v < UPSTREAM_UPGRADE:
        return State.FOREIGN
    if v == expected:
        return State.CURRENT if tag == expected_tag else State.FOREIGN
    return State.OLDER if v < expected else State.NEWER


def upgrade_steps(
    current: SchemaVersion,
    available: dict[int, Path],
    expected: int = SCHEMA_VERSION,
) -> list[Path]:
    """The files to apply, in order (empty when current); CatalogError when the catalog
    cannot be upgraded by this software or a file is missing.

    A 1.x catalog needs only ``pgbackman_5.sql``: it builds the current schema and records
    the current version, so the later files are skipped (the caller re-reads the version
    after each file and stops when it is reached).
    """
    state = classify(current, expected)
    if state is State.CURRENT:
        return []
    if state is State.NEWER:
        raise CatalogError(
            f"The catalog has schema version {current.label}, newer than this software "
            f"(version {expected}): upgrade PgBackMan on this host"
        )
    if state is State.FOREIGN:
        raise CatalogError(
            f"The catalog has schema version {current.label}, which is neither PgBackMan "
            f"1.x (versions 1-4) nor this software's: not upgraded (the catalog of a PgBackMan "
            "fork must be migrated by hand)"
        )
    if state is State.UPSTREAM:
        wanted = [UPSTREAM_UPGRADE]
    elif current.version < UPSTREAM_UPGRADE:  # (1, 'v_2_0_0'): renumber, then onwards
        wanted = list(range(UPSTREAM_UPGRADE, expected + 1))
    else:
        wanted = list(range(current.version + 1, expected + 1))
    missing = [n for n in wanted if n not in available]
    if missing:
        raise CatalogError(
            "Missing upgrade file(s): "
            + ", ".join(f"pgbackman_{n}.sql" for n in missing)
            + " (install the PgBackMan SQL files, or give their directory)"
        )
    return [available[n] for n in wanted]


def available_upgrades(sql_dir: str | Path) -> dict[int, Path]:
    """The numbered upgrade files in ``sql_dir``: {n: path}."""
    found: dict[int, Path] = {}
    for p in Path(sql_dir).iterdir():
        m = _UPGRADE_RE.match(p.name)
        if m:
            found[int(m.group(1))] = p
    return found


def upgrade_files(
    sql_dir: str | Path, from_version: int, to_version: int
) -> list[Path]:
    """The files ``pgbackman_<n>.sql`` for n in from_version+1..to_version; raises if one
    is missing."""
    available = available_upgrades(sql_dir)
    missing = [n for n in range(from_version + 1, to_version + 1) if n not in available]
    if missing:
        raise CatalogError(
            f"Missing upgrade file(s) in {sql_dir}: "
            + ", ".join(f"pgbackman_{n}.sql" for n in missing)
        )
    return [available[n] for n in range(from_version + 1, to_version + 1)]


def installed_version(cat: Catalog) -> SchemaVersion:
    """The newest row of pgbackman_version."""
    if cat.scalar("SELECT to_regclass('public.pgbackman_version') IS NULL"):
        raise CatalogError(
            "The database holds no PgBackMan catalog (no pgbackman_version table): "
            "install it with sql/pgbackman.sql"
        )
    row = cat.query_one(
        "SELECT version, tag, registered FROM pgbackman_version"
        " ORDER BY version DESC, registered DESC LIMIT 1"
    )
    if row is None:
        raise CatalogError(
            "The catalog has no pgbackman_version row: it is not installed"
        )
    return SchemaVersion(int(row["version"]), str(row["tag"]), row["registered"])


def version_problem(
    current: SchemaVersion, expected: int = SCHEMA_VERSION
) -> str | None:
    """Why this software cannot use a catalog at ``current`` (None: it can)."""
    state = classify(current, expected)
    if state is State.CURRENT:
        return None
    if state is State.UPSTREAM:
        return (
            f"The catalog is a PgBackMan 1.x catalog, schema version {current.label}; "
            f"this software needs version {expected} ({SCHEMA_TAG}): migrate it with "
            f"{UPGRADE_PROGRAM} (see {MIGRATION_DOC})"
        )
    if state is State.OLDER:
        return (
            f"The catalog has schema version {current.label} but this software needs "
            f"version {expected} ({SCHEMA_TAG}): upgrade it with {UPGRADE_PROGRAM} "
            "(it applies sql/pgbackman_<n>.sql as a superuser)"
        )
    if state is State.NEWER:
        return (
            f"The catalog has schema version {current.label}, newer than this software "
            f"(version {expected}): upgrade PgBackMan on this host"
        )
    return (
        f"The catalog has schema version {current.label}, which this software does not "
        "know (neither PgBackMan 1.x nor this software's): not used"
    )


def check_version(cat: Catalog, expected: int = SCHEMA_VERSION) -> SchemaVersion:
    """Raise a clear CatalogError unless the catalog has the schema version we expect."""
    current = installed_version(cat)
    problem = version_problem(current, expected)
    if problem is not None:
        raise CatalogError(problem)
    return current
