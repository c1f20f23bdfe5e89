"""Helpers of the catalog-upgrade tests: upstream catalogs in a test cluster, the upgrade
file run through psql, and normalised dumps to compare catalogs."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from support import upstream

REPO = Path(__file__).resolve().parents[3]
SQL_DIR = REPO / "sql"
INSTALL = SQL_DIR / "pgbackman.sql"
UPGRADE = SQL_DIR / "pgbackman_5.sql"
CODE_TABLES = (
    "server_status",
    "backup_code",
    "job_definition_status",
    "at_definition_status",
    "job_execution_status",
    "job_execution_method",
    "alert_type",
)
_seq = itertools.count(1)


def new_dbname(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_seq)}"


def make_upstream(
    cluster: Any,
    version: int,
    *,
    rows: list[int] | None = None,
    site: bool = True,
    prefix: str = "up",
) -> str:
    """A new database holding a PgBackMan 1.x catalog of ``version`` (with a small site)."""
    dbname = new_dbname(prefix)
    upstream.create_catalog(cluster, dbname, version, rows)
    if site:
        cluster.psql(
            "SET ROLE pgbackman_role_rw;\n" + upstream.site_rows_sql(version),
            dbname=dbname,
        )
    return dbname


def psql_file(
    cluster: Any, dbname: str, path: Path, *extra: str, user: str = "postgres"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            f"{cluster.bindir}/psql",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            *extra,
            "-h",
            cluster.host,
            "-p",
            str(cluster.port),
            "-U",
            user,
            "-d",
            dbname,
            "-f",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def run_upgrade(
    cluster: Any, dbname: str, *extra: str, path: Path = UPGRADE
) -> subprocess.CompletedProcess[str]:
    return psql_file(cluster, dbname, path, *extra)


def fresh_install(cluster: Any, dbname: str) -> None:
    res = psql_file(cluster, "postgres", INSTALL, "-v", f"pgb_dbname={dbname}")
    assert res.returncode == 0, res.stderr


def _pg_dump(cluster: Any, dbname: str, *options: str) -> str:
    res = subprocess.run(
        [
            f"{cluster.bindir}/pg_dump",
            "-h",
            cluster.host,
            "-p",
            str(cluster.port),
            "-U",
            "postgres",
            *options,
            dbname,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return res.stdout


def _normalise(text: str, dbname: str) -> list[str]:
    """Dump lines without comments, blank lines and pg_dump's per-run \\restrict keys; the
    database name replaced (it differs between the two catalogs compared)."""
    text = re.sub(rf"\b{re.escape(dbname)}\b", "CATALOG_DB", text)
    return [
        line
        for line in text.splitlines()
        if line.strip()
        and not line.startswith("--")
        and not line.startswith("\\restrict")
        and not line.startswith("\\unrestrict")
    ]


def schema_dump(cluster: Any, dbname: str) -> list[str]:
    """The catalog's definition: every object, owner, grant and default privilege, and the
    database's own owner and privileges (``--create``)."""
    return _normalise(_pg_dump(cluster, dbname, "--schema-only", "--create"), dbname)


def full_dump(cluster: Any, dbname: str) -> list[str]:
    """Definition and data (to show that something did NOT change)."""
    return _normalise(_pg_dump(cluster, dbname, "--create"), dbname)


def reference_rows(cluster: Any, dbname: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rows every catalog starts with: codes and default configuration."""
    out = {
        t: cluster.query(f"SELECT * FROM {t} ORDER BY 1", dbname=dbname)
        for t in CODE_TABLES
    }
    for t in ("backup_server_default_config", "pgsql_node_default_config"):
        out[t] = cluster.query(f"SELECT * FROM {t} ORDER BY 1", dbname=dbname)
    return out


def roles(cluster: Any) -> list[tuple[Any, ...]]:
    return cluster.query(
        "SELECT rolname, rolsuper, rolcanlogin, rolinherit FROM pg_roles"
        " WHERE rolname LIKE 'pgbackman%' ORDER BY 1"
    )


def drop_database(cluster: Any, dbname: str) -> None:
    cluster.psql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def write_catalog_config(
    path: Path, cluster: Any, dbname: str, tmp: Path, **sections: dict[str, Any]
) -> Path:
    """A configuration file for ``dbname`` in ``cluster`` (as pgbackman_role_rw)."""
    values: dict[str, dict[str, Any]] = {
        "backup_server": {"backup_server": "backup01.pgbackman.test"},
        "pgbackman_database": {
            "host": cluster.host,
            "port": cluster.port,
            "dbname": dbname,
            "user": "pgbackman_role_rw",
            "connect_timeout": 5,
        },
        "logging": {"log_level": "DEBUG", "log_file": str(tmp / "pgbackman.log")},
    }
    for name, kv in sections.items():
        values.setdefault(name, {}).update(kv)
    lines: list[str] = []
    for section, kv in values.items():
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {v}" for k, v in kv.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def program_env(config: Path, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    env["PGBACKMAN_CONFIG"] = str(config)
    env["HOME"] = str(tmp / "home")
    Path(env["HOME"]).mkdir(exist_ok=True)
    env["TERM"] = "dumb"
    return env
