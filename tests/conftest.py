"""Shared fixtures: one catalog cluster and two PgSQL node clusters started by the suite.

There is no skip: PostgreSQL is a hard requirement of this suite (``make test`` installs it),
and under ``CI=true`` a skipped integration suite would look green.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from support.pgcluster import PgCluster, find_bindir

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "sql" / "pgbackman.sql"
BACKUP_SERVER_HOST = "backup01"
BACKUP_SERVER_DOMAIN = "pgbackman.test"
BACKUP_SERVER_FQDN = f"{BACKUP_SERVER_HOST}.{BACKUP_SERVER_DOMAIN}"
VENV_BIN = Path(sys.executable).parent

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_base_dir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="pgbackman-tests-", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _start_cluster(base: Path, name: str) -> PgCluster:
    try:
        bindir = find_bindir()
    except RuntimeError as exc:
        pytest.fail(
            f"PostgreSQL is required for the test-suite: {exc} (run `make test`)"
        )
    return PgCluster(base, name, bindir).init().start()


@pytest.fixture(scope="session")
def catalog_cluster(pg_base_dir: Path) -> Iterator[PgCluster]:
    """A cluster with sql/pgbackman.sql loaded (database ``pgbackman``, used as a template)."""
    cluster = _start_cluster(pg_base_dir, "catalog")
    res = cluster.psql_file(SCHEMA)
    if res.returncode != 0:
        cluster.destroy()
        pytest.fail(f"Loading {SCHEMA} failed:\n{res.stderr}")
    yield cluster
    cluster.destroy()


def _sample_databases(cluster: PgCluster, names: list[str]) -> None:
    for db in names:
        cluster.psql(f'CREATE DATABASE "{db}"')
        cluster.psql(
            "CREATE TABLE t (id int PRIMARY KEY, v text);"
            "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 100) g;",
            dbname=db,
        )


@pytest.fixture(scope="session")
def node1(pg_base_dir: Path) -> Iterator[PgCluster]:
    cluster = _start_cluster(pg_base_dir, "node1")
    _sample_databases(cluster, ["app1", "app2"])
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def node2(pg_base_dir: Path) -> Iterator[PgCluster]:
    cluster = _start_cluster(pg_base_dir, "node2")
    _sample_databases(cluster, ["app3"])
    yield cluster
    cluster.destroy()


@pytest.fixture
def catalog_db(catalog_cluster: PgCluster) -> Iterator[str]:
    """A fresh copy of the loaded catalog, private to one test."""
    name = f"pgbackman_t{os.getpid()}_{next(_counter)}"
    catalog_cluster.psql(f"CREATE DATABASE {name} TEMPLATE pgbackman")
    # Database-level privileges are not copied from a template.
    catalog_cluster.psql(
        f"GRANT CONNECT, TEMPORARY ON DATABASE {name} TO pgbackman_role_rw;"
        f"GRANT CONNECT ON DATABASE {name} TO pgbackman_role_ro;"
    )
    yield name
    catalog_cluster.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class PgbEnv:
    """Everything a test needs to run PgBackMan programs against the test clusters."""

    catalog_cluster: PgCluster
    dbname: str
    tmp: Path
    root: Path
    cron_dir: Path
    config_path: Path
    server_id: int
    env: dict[str, str] = field(default_factory=dict)
    _cat: Any = None

    @property
    def cat(self) -> Any:
        """A Catalog (pgbackman_role_rw) on this test's catalog database."""
        if self._cat is None:
            from pgbackman.catalog.connection import Catalog
            from pgbackman.config import Config

            self._cat = Catalog(
                Config.load(str(self.config_path)).database, "pgbackman_tests"
            )
        return self._cat

    def su(self, sql: str) -> str:
        """Run SQL on the catalog as superuser (for test set-up only)."""
        return self.catalog_cluster.psql(sql, dbname=self.dbname)

    def su_query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.catalog_cluster.query(sql, params, dbname=self.dbname)

    def register_node(self, cluster: PgCluster, status: str = "RUNNING") -> int:
        """Register ``cluster`` as a PgSQL node (hostname 127 + domain 0.0.1 = 127.0.0.1)."""
        rows = self.su_query(
            "SELECT register_pgsql_node(%s, %s, %s, %s, %s, %s)",
            (
                "127",
                "0.0.1",
                cluster.port,
                "postgres",
                status,
                f"test node {cluster.name}",
            ),
        )
        return int(rows[0][0])


def write_config(path: Path, values: dict[str, dict[str, Any]]) -> None:
    lines = []
    for section, kv in values.items():
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {v}" for k, v in kv.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture
def pgb_env(
    catalog_cluster: PgCluster, catalog_db: str, tmp_path: Path
) -> Iterator[PgbEnv]:
    """A catalog clone with this host registered as backup server, and a config file for it."""
    os.chmod(tmp_path, 0o755)
    root = tmp_path / "srv"
    cron_dir = tmp_path / "cron.d"
    root.mkdir(mode=0o700)
    cron_dir.mkdir()
    cfg_path = tmp_path / "pgbackman.conf"
    write_config(
        cfg_path,
        {
            "backup_server": {
                "backup_server": BACKUP_SERVER_FQDN,
                "root_backup_partition": str(root),
            },
            "pgbackman_database": {
                "host": catalog_cluster.host,
                "port": catalog_cluster.port,
                "dbname": catalog_db,
                "user": "pgbackman_role_rw",
                "pg_connect_retry_interval": 1,
                "connect_timeout": 3,
            },
            "pgbackman_dump": {"tmp_dir": str(tmp_path)},
            "pgbackman_maintenance": {"maintenance_interval": 1},
            "pgbackman_control": {"pidfile": str(tmp_path / "control.pid")},
            "pgbackman_alerts": {"pidfile": str(tmp_path / "alerts.pid")},
            "logging": {
                "log_level": "DEBUG",
                "log_file": str(tmp_path / "pgbackman.log"),
            },
        },
    )
    q = lambda sql, params=None: catalog_cluster.query(sql, params, dbname=catalog_db)  # noqa: E731
    # Defaults that point every path of the product into this test's temp dir.
    q(
        "UPDATE backup_server_default_config SET value = %s WHERE parameter = 'root_backup_partition'",
        (str(root),),
    )
    for param, value in (
        ("pgbackman_dump", str(VENV_BIN / "pgbackman_dump")),
        ("pgbackman_restore", str(VENV_BIN / "pgbackman_restore")),
        # Tests run as root: jobs run as root too (production default: pgbackman).
        ("backup_user", "root"),
    ):
        q(
            "UPDATE backup_server_default_config SET value = %s WHERE parameter = %s",
            (value, param),
        )
    q(
        "UPDATE pgsql_node_default_config SET value = %s WHERE parameter = 'pgnode_backup_partition'",
        (f"{root}/pgsql_node_%%pgnode%%",),
    )
    q(
        "UPDATE pgsql_node_default_config SET value = %s WHERE parameter = 'pgnode_crontab_file'",
        (f"{cron_dir}/pgsql_node_%%pgnode%%",),
    )
    server_id = int(
        q(
            "SELECT register_backup_server(%s, %s, %s, %s)",
            (BACKUP_SERVER_HOST, BACKUP_SERVER_DOMAIN, "RUNNING", "test backup server"),
        )[0][0]
    )
    env = dict(os.environ)
    env["PGBACKMAN_CONFIG"] = str(cfg_path)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    env.pop("PGPASSWORD", None)
    pe = PgbEnv(
        catalog_cluster=catalog_cluster,
        dbname=catalog_db,
        tmp=tmp_path,
        root=root,
        cron_dir=cron_dir,
        config_path=cfg_path,
        server_id=server_id,
        env=env,
    )
    yield pe
    if pe._cat is not None:
        pe._cat.close()
