"""Helpers (not fixtures) for pgbackman_maintenance tests: realistic dump files on disk and the catalog
rows that describe them, written directly (pgbackman_dump is built in parallel).

A "dump" is what pgbackman_dump leaves for a FULL backup: a pg_dump directory-format dir
(toc.dat + a data file), its log, the roles and dbconfig SQL files with their logs and a
manifest; an ERROR run leaves only its log.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


from support.pgbenv import PgbEnv
from pgbackman.config import Config
from pgbackman.maintenance.report import PassReport
from pgbackman.maintenance.runner import Maintenance

FILE_COLUMNS = (
    "pg_dump_file",
    "pg_dump_log_file",
    "pg_dump_roles_file",
    "pg_dump_roles_log_file",
    "pg_dump_dbconfig_file",
    "pg_dump_dbconfig_log_file",
    "pg_dump_manifest_file",
)


@dataclass
class Dump:
    bck_id: int
    files: dict[str, Path]

    def paths(self) -> list[Path]:
        return list(self.files.values())

    def on_disk(self) -> bool:
        return all(p.exists() for p in self.paths())

    def none_on_disk(self) -> bool:
        return not any(p.exists() or p.is_symlink() for p in self.paths())


@dataclass
class MaintEnv:
    """pgb_env plus helpers to build definitions, dumps and run passes."""

    pgb: PgbEnv
    node_id: int
    lines: list[str] = field(default_factory=list)
    _seq: int = 0

    @property
    def partition(self) -> Path:
        return self.pgb.root / f"pgsql_node_{self.node_id}"

    def now(self) -> datetime:
        return self.pgb.su_query("SELECT now()")[0][0]

    def definition(
        self,
        dbname: str = "app1",
        period: str = "7 days",
        redundancy: int = 1,
        code: str = "FULL",
        node_id: int | None = None,
        minutes: str | None = None,
    ) -> int:
        self._seq += 1
        rows = self.pgb.su_query(
            "INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname, minutes_cron,"
            " hours_cron, backup_code, retention_period, retention_redundancy, job_status)"
            " VALUES (%s, %s, %s, %s, '1', %s, %s::interval, %s, 'ACTIVE') RETURNING def_id",
            (
                self.pgb.server_id,
                node_id or self.node_id,
                dbname,
                minutes or str(self._seq % 60),
                code,
                period,
                redundancy,
            ),
        )
        return int(rows[0][0])

    def _write_files(self, stem: str, status: str, node_id: int) -> dict[str, Path]:
        part = self.pgb.root / f"pgsql_node_{node_id}"
        dump_dir, log_dir = part / "dump", part / "log"
        dump_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        files: dict[str, Path] = {"pg_dump_log_file": log_dir / f"{stem}-DATABASE.log"}
        files["pg_dump_log_file"].write_text("pg_dump: log\n")
        if status != "SUCCEEDED":
            return files
        d = dump_dir / f"{stem}-DATABASE.sql"
        d.mkdir(mode=0o700)
        (d / "toc.dat").write_bytes(b"PGDMP" + b"\0" * 64)
        (d / "3001.dat.gz").write_bytes(b"\x1f\x8b" + b"x" * 128)
        files["pg_dump_file"] = d
        for kind, col in (("USERS", "roles"), ("DBCONFIG", "dbconfig")):
            f = dump_dir / f"{stem}-{kind}.sql"
            f.write_text(f"-- {kind}\n")
            lf = log_dir / f"{stem}-{kind}.log"
            lf.write_text("ok\n")
            files[f"pg_dump_{col}_file"] = f
            files[f"pg_dump_{col}_log_file"] = lf
        m = dump_dir / f"{stem}-MANIFEST.json"
        m.write_text("{}\n")
        files["pg_dump_manifest_file"] = m
        return files

    def dump(
        self,
        def_id: int | None,
        finished: datetime,
        status: str = "SUCCEEDED",
        *,
        snapshot_id: int | None = None,
        node_id: int | None = None,
        dbname: str = "app1",
        files: dict[str, Path] | None = None,
    ) -> Dump:
        """Files on disk (unless ``files`` given) + the backup_catalog row describing them."""
        node = node_id or self.node_id
        self._seq += 1
        ident = f"defid{def_id}" if def_id is not None else f"snapid{snapshot_id}"
        stem = (
            f"{dbname}-127.0.0.1-v15-{ident}-cFULL-{finished:%Y%m%dT%H%M%S}-{self._seq}"
        )
        if files is None:
            files = self._write_files(stem, status, node)
        cols = [
            "def_id",
            "snapshot_id",
            "backup_server_id",
            "pgsql_node_id",
            "dbname",
            "started",
            "finished",
            "duration",
            "global_log_file",
            "execution_status",
            "execution_method",
        ]
        vals: list[Any] = [
            def_id,
            snapshot_id,
            self.pgb.server_id,
            node,
            dbname,
            finished - timedelta(minutes=1),
            finished,
            timedelta(minutes=1),
            str(self.pgb.tmp / "pgbackman.log"),
            status,
            "CRON" if def_id is not None else "AT",
        ]
        for c, p in files.items():
            cols.append(c)
            vals.append(str(p))
        rows = self.pgb.su_query(
            f"INSERT INTO backup_catalog ({', '.join(cols)}) VALUES "
            f"({', '.join(['%s'] * len(vals))}) RETURNING bck_id",
            tuple(vals),
        )
        return Dump(int(rows[0][0]), dict(files))

    def catalog_ids(self, def_id: int | None = None) -> set[int]:
        if def_id is None:
            rows = self.pgb.su_query("SELECT bck_id FROM backup_catalog")
        else:
            rows = self.pgb.su_query(
                "SELECT bck_id FROM backup_catalog WHERE def_id = %s", (def_id,)
            )
        return {int(r[0]) for r in rows}

    def run_pass(self, dry_run: bool = False) -> PassReport:
        cfg = Config.load(str(self.pgb.config_path))
        m = Maintenance(cfg, dry_run=dry_run, out=self.lines.append)
        return m.once()

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["pgbackman_maintenance", "--config", str(self.pgb.config_path), *args],
            env=self.pgb.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def tree(self) -> dict[str, bytes | None]:
        """Everything under the backup root (for "nothing changed" checks)."""
        out: dict[str, bytes | None] = {}
        for p in sorted(self.pgb.root.rglob("*")):
            rel = str(p.relative_to(self.pgb.root))
            if p.name.endswith(".lock"):
                continue  # lock files are created by whoever locks; not content
            out[rel] = p.read_bytes() if p.is_file() and not p.is_symlink() else None
        return out


DAY = timedelta(days=1)
