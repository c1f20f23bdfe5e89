"""Applying the numbered upgrade files (``sql/pgbackman_<n>.sql``) to a catalog.

The files are psql scripts (``\\ir``, ``\\if``), so they run through ``psql -X -v
ON_ERROR_STOP=1`` as a role that may run DDL (a superuser: the 1.x conversion creates roles
and changes owners), connected to the catalog named by the configuration file. Each file is
one transaction; after each one the version is read again, so a file that builds the
current schema (``pgbackman_5.sql`` on a 1.x catalog) ends the run. A dry run lets the
first file do everything, print its report and roll back.

Used by ``pgbackman_upgrade_catalog`` and by the shell's upgrade offer on interactive start.
"""

from __future__ import annotations

import glob
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from psycopg2.extensions import make_dsn

from pgbackman.catalog import schema
from pgbackman.catalog.connection import Catalog, connect_kwargs
from pgbackman.config import DatabaseConfig
from pgbackman.errors import CatalogError
from pgbackman.infra import proc
from pgbackman.version import SCHEMA_TAG, SCHEMA_VERSION

APPLICATION_NAME = "pgbackman_upgrade_catalog"
Printer = Callable[[str], None]


def sql_dir_candidates(configured: str | None) -> list[Path]:
    """Where the SQL files may be, best first: the configuration's ``database_source_dir``,
    this installation's ``share/pgbackman``, the source tree this module runs from."""
    here = Path(__file__).resolve().parents[2] / "sql"
    out = [Path(configured)] if configured else []
    out += [Path(sys.prefix) / "share" / "pgbackman", here]
    return out


def find_sql_dir(configured: str | None, override: str | None = None) -> Path:
    """The directory holding ``pgbackman.sql`` and the numbered upgrades."""
    if override:
        d = Path(override)
        if not (d / "pgbackman.sql").is_file():
            raise CatalogError(f"No PgBackMan SQL files in {d} (pgbackman.sql missing)")
        return d
    for d in sql_dir_candidates(configured):
        if (d / "pgbackman.sql").is_file():
            return d
    tried = ", ".join(str(d) for d in sql_dir_candidates(configured))
    raise CatalogError(
        f"PgBackMan SQL files not found (tried {tried}): give their directory with "
        "--sql-dir or [pgbackman_database] database_source_dir"
    )


def find_psql(override: str | None = None) -> str:
    """A psql (>= 10, for ``\\if``): the given one, the one on PATH, or the newest
    /usr/lib/postgresql/<major>/bin/psql."""
    if override:
        return override
    found = shutil.which("psql")
    if found:
        return found
    cands = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/psql"),
        key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0,
    )
    if cands:
        return cands[-1]
    raise CatalogError("psql not found: install the PostgreSQL client or give --psql")


def admin_config(db: DatabaseConfig, admin_user: str) -> DatabaseConfig:
    """The catalog's connection settings with the upgrading role: no password from the file
    (that one belongs to pgbackman_role_rw; the admin's comes from .pgpass), no statement
    timeout (a large catalog takes a while)."""
    return replace(db, user=admin_user, password="", statement_timeout=0)


@dataclass
class Plan:
    """What an upgrade run will do."""

    current: schema.SchemaVersion
    files: list[Path]
    sessions: list[str] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return bool(self.files)


def other_sessions(cat: Catalog) -> list[str]:
    """Other connections to the catalog database ('application user@address', one each):
    PgBackMan programs still running would block the upgrade or break after it."""
    rows = cat.query(
        "SELECT coalesce(nullif(application_name, ''), 'unknown program') AS app,"
        " coalesce(usename::text, '?') AS usr,"
        " coalesce(host(client_addr), 'local socket') AS addr"
        " FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        "   AND backend_type = 'client backend'"
        " ORDER BY 1, 2, 3"
    )
    return [f"{r['app']} ({r['usr']}@{r['addr']})" for r in rows]


def plan(cat: Catalog, sql_dir: Path) -> Plan:
    current = schema.installed_version(cat)
    files = schema.upgrade_steps(current, schema.available_upgrades(sql_dir))
    return Plan(current, files, other_sessions(cat) if files else [])


def run_file(
    db: DatabaseConfig, psql: str, path: Path, *, dry_run: bool = False
) -> proc.Result:
    """Run one upgrade file through psql; CatalogError with psql's message on failure."""
    kwargs = connect_kwargs(db, APPLICATION_NAME)
    kwargs.pop("options", None)
    kwargs.pop("password", None)
    argv = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    if dry_run:
        argv += ["-v", "pgb_dry_run=on"]
    argv += ["-d", make_dsn(**kwargs), "-f", str(path)]
    res = proc.run(argv, env=proc.child_env({"PGOPTIONS": ""}))
    if not res.ok:
        errors = [
            ln.split("ERROR:", 1)[1].strip()
            for ln in res.stderr.splitlines()
            if "ERROR:" in ln
        ]
        detail = errors[0] if errors else (res.stderr.strip() or res.describe())
        raise CatalogError(f"{path.name} failed and changed nothing: {detail}")
    return res


def upgrade(
    db: DatabaseConfig,
    sql_dir: Path,
    psql: str,
    out: Printer,
    *,
    dry_run: bool = False,
    force: bool = False,
) -> int:
    """Bring the catalog to this software's schema version (0: done or nothing to do)."""
    cat = Catalog(db, application_name=APPLICATION_NAME)
    try:
        p = plan(cat, sql_dir)
        if not p.needed:
            out(
                f"The catalog is at schema version {p.current.label}, the one this "
                "software needs: nothing to do."
            )
            return 0
        out(
            f"Catalog {db.dbname}: schema version {p.current.label}; this software needs "
            f"version {SCHEMA_VERSION} ({SCHEMA_TAG})."
        )
        if p.sessions:
            text = "; ".join(p.sessions)
            if not (force or dry_run):
                raise CatalogError(
                    f"{len(p.sessions)} other session(s) are connected to the catalog: "
                    f"{text}. Stop PgBackMan (daemons, cron and at jobs) on every backup "
                    "server first, or use --force"
                )
            out(f"[WARNING]: other sessions connected to the catalog: {text}")
        for n, path in enumerate(p.files):
            if dry_run and n > 0:
                out(f"[DRY RUN]: then {path} would be applied.")
                continue
            out(f"[OK]: File: {path} exists.")
            res = run_file(db, psql, path, dry_run=dry_run)
            for line in res.stdout.rstrip("\n").splitlines():
                out(line)
            if dry_run:
                continue
            out(f"[OK]: File {path} installed.")
            now = schema.installed_version(cat)
            if schema.classify(now) is schema.State.CURRENT:
                break
        if not dry_run:
            final = schema.installed_version(cat)
            problem = schema.version_problem(final)
            if problem is not None:
                raise CatalogError(f"After the upgrade: {problem}")
        return 0
    finally:
        cat.close()
