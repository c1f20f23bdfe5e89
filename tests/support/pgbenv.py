"""PgbEnv: one test's PgBackMan installation on the test clusters (typed, importable).

A test (or a helper module) annotates with ``PgbEnv``; the ``pgb_env`` fixture of
tests/conftest.py builds one per test with :func:`make_pgb_env`: a private clone of the
catalog, this host registered as backup server ``backup01.pgbackman.test``, a config file
and a backup root in the test's tmp dir, and every path of the product pointed there. The
programs' config file (``config_path``, ``env``) logs in as pgbackman_role_server, the
shell's (``shell_config_path``, ``shell_env``) as pgbackman_role_rw.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgbackman.catalog.connection import Catalog
from support.pgcluster import PgCluster

BACKUP_SERVER_HOST = "backup01"
BACKUP_SERVER_DOMAIN = "pgbackman.test"
BACKUP_SERVER_FQDN = f"{BACKUP_SERVER_HOST}.{BACKUP_SERVER_DOMAIN}"
VENV_BIN = Path(sys.executable).parent


@dataclass
class PgbEnv:
    """Everything a test needs to run PgBackMan programs against the test clusters."""

    catalog_cluster: PgCluster
    dbname: str
    tmp: Path
    root: Path
    cron_dir: Path
    config_path: Path  # the programs': pgbackman_role_server
    server_id: int
    env: dict[str, str] = field(default_factory=dict)
    shell_config_path: Path | None = None  # the shell's: pgbackman_role_rw
    shell_env: dict[str, str] = field(default_factory=dict)
    _cat: Catalog | None = None
    _operator: Catalog | None = None

    @property
    def cat(self) -> Catalog:
        """A Catalog on this test's catalog database as the backup server's role
        (pgbackman_role_server, like the programs)."""
        if self._cat is None:
            from pgbackman.config import Config

            self._cat = Catalog(
                Config.load(str(self.config_path)).database, "pgbackman_tests"
            )
        return self._cat

    @property
    def operator(self) -> Catalog:
        """A Catalog as pgbackman_role_rw: what an operator does through the shell."""
        if self._operator is None:
            from pgbackman.config import Config

            assert self.shell_config_path is not None  # set by make_pgb_env
            self._operator = Catalog(
                Config.load(str(self.shell_config_path)).database, "pgbackman_tests"
            )
        return self._operator

    def close(self) -> None:
        for cat in (self._cat, self._operator):
            if cat is not None:
                cat.close()
        self._cat = self._operator = None

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


def make_pgb_env(catalog_cluster: PgCluster, catalog_db: str, tmp_path: Path) -> PgbEnv:
    """A catalog clone with this host registered as backup server, and a config file for it."""
    os.chmod(tmp_path, 0o755)
    root = tmp_path / "srv"
    cron_dir = tmp_path / "cron.d"
    root.mkdir(mode=0o700)
    cron_dir.mkdir()
    # The programs (control, maintenance, dump, restore, alerts) log in as the backup
    # servers' role, the shell as the operators' role: each test checks both are enough.
    cfg_path = tmp_path / "pgbackman.conf"
    shell_cfg_path = tmp_path / "operator.conf"
    values: dict[str, dict[str, Any]] = {
        "backup_server": {
            "backup_server": BACKUP_SERVER_FQDN,
            "root_backup_partition": str(root),
            "crontab_dir": str(cron_dir),
            # Tests run as root: jobs run as root too (production default: pgbackman).
            "allow_root_backup_user": "ON",
        },
        "pgbackman_database": {
            "host": catalog_cluster.host,
            "port": catalog_cluster.port,
            "dbname": catalog_db,
            "user": "pgbackman_role_server",
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
    }
    write_config(cfg_path, values)
    values["pgbackman_database"] = {
        **values["pgbackman_database"],
        "user": "pgbackman_role_rw",
    }
    write_config(shell_cfg_path, values)
    q = lambda sql, params=None: catalog_cluster.query(sql, params, dbname=catalog_db)
    # Defaults that point every path of the product into this test's temp dir.
    q(
        "UPDATE backup_server_default_config SET value = %s WHERE parameter = 'root_backup_partition'",
        (str(root),),
    )
    # Tests run as root: jobs run as root too (allowed by allow_root_backup_user above).
    q(
        "UPDATE backup_server_default_config SET value = 'root' WHERE parameter = 'backup_user'"
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
    shell_env = dict(env)
    shell_env["PGBACKMAN_CONFIG"] = str(shell_cfg_path)
    pe = PgbEnv(
        catalog_cluster=catalog_cluster,
        dbname=catalog_db,
        tmp=tmp_path,
        root=root,
        cron_dir=cron_dir,
        config_path=cfg_path,
        server_id=server_id,
        env=env,
        shell_config_path=shell_cfg_path,
        shell_env=shell_env,
    )
    return pe
