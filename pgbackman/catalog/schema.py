"""Catalog schema version: compare it with the software, list and apply numbered upgrades.

A fresh catalog is ``sql/pgbackman.sql``; every later schema version ``n`` is the file
``sql/pgbackman_<n>.sql``, which runs in one transaction and inserts its own
``pgbackman_version`` row. Upgrades change the schema, so they run as a superuser (or
``pgbackman_role_owner``) through psql with ON_ERROR_STOP; the shell only checks the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pgbackman.catalog.connection import Catalog
from pgbackman.errors import CatalogError
from pgbackman.version import SCHEMA_VERSION

_UPGRADE_RE = re.compile(r"^pgbackman_(\d+)\.sql$")


@dataclass(frozen=True)
class SchemaVersion:
    version: int
    tag: str
    registered: object


def installed_version(cat: Catalog) -> SchemaVersion:
    """The newest row of pgbackman_version."""
    row = cat.query_one(
        "SELECT version, tag, registered FROM pgbackman_version ORDER BY version DESC LIMIT 1"
    )
    if row is None:
        raise CatalogError(
            "The catalog has no pgbackman_version row: it is not installed"
        )
    return SchemaVersion(int(row["version"]), str(row["tag"]), row["registered"])


def check_version(cat: Catalog, expected: int = SCHEMA_VERSION) -> SchemaVersion:
    """Raise a clear CatalogError unless the catalog has the schema version we expect."""
    current = installed_version(cat)
    if current.version < expected:
        raise CatalogError(
            f"The catalog has schema version {current.version} but this software needs "
            f"version {expected}: apply sql/pgbackman_<n>.sql for n = "
            f"{current.version + 1}..{expected} (as a superuser) first"
        )
    if current.version > expected:
        raise CatalogError(
            f"The catalog has schema version {current.version}, newer than this software "
            f"(version {expected}): upgrade PgBackMan on this host"
        )
    return current


def upgrade_files(
    sql_dir: str | Path, from_version: int, to_version: int
) -> list[Path]:
    """The upgrade files to apply, in order; raises if one of them is missing."""
    available: dict[int, Path] = {}
    for p in Path(sql_dir).iterdir():
        m = _UPGRADE_RE.match(p.name)
        if m:
            available[int(m.group(1))] = p
    missing = [n for n in range(from_version + 1, to_version + 1) if n not in available]
    if missing:
        raise CatalogError(
            f"Missing upgrade file(s) in {sql_dir}: "
            + ", ".join(f"pgbackman_{n}.sql" for n in missing)
        )
    return [available[n] for n in range(from_version + 1, to_version + 1)]
