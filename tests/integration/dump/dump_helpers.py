"""Restore-by-hand helpers (psql / pg_restore on argv) used to prove a dump is complete, and
the bin directory with a wrapped pg_dump (the real one plus an injected fault) that the
failure tests configure as the server's pgsql_bin_15."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from support.pgcluster import PgCluster

REAL_BIN = "/usr/lib/postgresql/15/bin"


def fake_bindir(dump_env: Any, tmp: Path, script: str) -> Path:
    """``script`` as pg_dump (pg_restore and pg_dumpall are the real ones)."""
    d = tmp / "fakebin"
    d.mkdir(exist_ok=True)
    (d / "pg_dump").write_text(script)
    os.chmod(d / "pg_dump", 0o755)
    for prog in ("pg_restore", "pg_dumpall"):
        if not (d / prog).exists():
            os.symlink(f"{REAL_BIN}/{prog}", d / prog)
    dump_env.pgb.su_query(
        "UPDATE backup_server_config SET value = %s WHERE server_id = %s AND parameter = 'pgsql_bin_15'",
        (str(d), dump_env.pgb.server_id),
    )
    return d


def real_bindir(dump_env: Any) -> None:
    dump_env.pgb.su_query(
        "UPDATE backup_server_config SET value = %s WHERE server_id = %s AND parameter = 'pgsql_bin_15'",
        (REAL_BIN, dump_env.pgb.server_id),
    )


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
