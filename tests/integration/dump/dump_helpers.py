"""Restore-by-hand helpers (psql / pg_restore on argv) used to prove a dump is complete."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.pgcluster import PgCluster


def _conn_args(cluster: PgCluster, dbname: str) -> list[str]:
    return ["-h", cluster.host, "-p", str(cluster.port), "-U", "postgres", "-d", dbname]


def psql_file(
    cluster: PgCluster, path: str | Path, dbname: str = "postgres", **variables: str
) -> str:
    argv = [f"{cluster.bindir}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    for k, v in variables.items():
        argv += ["-v", f"{k}={v}"]
    argv += [*_conn_args(cluster, dbname), "-f", str(path)]
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert res.returncode == 0, f"psql -f {path} failed: {res.stderr}"
    return res.stdout + res.stderr


def pg_restore(
    cluster: PgCluster, archive: str | Path, dbname: str, *extra: str
) -> None:
    argv = [
        f"{cluster.bindir}/pg_restore",
        "--exit-on-error",
        *extra,
        *_conn_args(cluster, dbname),
        str(archive),
    ]
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert res.returncode == 0, f"pg_restore failed: {res.stderr}"


def restore_full(cluster: PgCluster, row: dict[str, object], target_db: str) -> None:
    """Roles, then database config (creates target_db), then the archive."""
    psql_file(cluster, str(row["pg_dump_roles_file"]))
    psql_file(cluster, str(row["pg_dump_dbconfig_file"]), target_db=target_db)
    pg_restore(cluster, str(row["pg_dump_file"]), target_db)
