"""Helpers (not fixtures) for pgbackman_maintenance tests: dump files on disk exactly as
pgbackman_dump writes them (names from pgbackman.core.naming, a real SHA-256 manifest and
its checksum) and the catalog rows that describe them, written directly (as superuser) so a
test can build any history in a second.

A FULL dump is: a pg_dump directory-format dir (toc.dat + a data file), the roles and
dbconfig SQL files, the manifest (all in ``dump/``) and the run's log (``log/``); an ERROR run
leaves only its log.
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


from support.pgbenv import PgbEnv
from pgbackman.archive.files import write_manifest
from pgbackman.config import Config
from pgbackman.core import naming
from pgbackman.infra.fsutil import tree_size
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
        return list(dict.fromkeys(self.files.values()))  # the log is named thrice

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
    _bases: set[str] = field(default_factory=set)

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

    def _write_files(
        self, names: naming.DumpNames, status: str, node_id: int
    ) -> tuple[dict[str, Path], str | None]:
        """The files of one run and, for a good one, the checksum of its manifest."""
        part = self.pgb.root / f"pgsql_node_{node_id}"
        dump_dir, log_dir = part / "dump", part / "log"
        dump_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        log = log_dir / names.log
        log.write_text("pgbackman_dump: log\n")
        files: dict[str, Path] = {"pg_dump_log_file": log}
        if status != "SUCCEEDED":
            return files, None
        d = dump_dir / names.database
        d.mkdir(mode=0o700)
        (d / "toc.dat").write_bytes(b"PGDMP" + b"\0" * 64)
        (d / "3001.dat.gz").write_bytes(b"\x1f\x8b" + b"x" * 128)
        files["pg_dump_file"] = d
        (dump_dir / names.users).write_text("-- USERS\n")
        (dump_dir / names.dbconfig).write_text("-- DBCONFIG\n")
        files["pg_dump_roles_file"] = dump_dir / names.users
        files["pg_dump_roles_log_file"] = log
        files["pg_dump_dbconfig_file"] = dump_dir / names.dbconfig
        files["pg_dump_dbconfig_log_file"] = log
        checksum = write_manifest(
            dump_dir, names.manifest, [names.database, names.users, names.dbconfig]
        ).checksum
        files["pg_dump_manifest_file"] = dump_dir / names.manifest
        return files, checksum

    def _names(
        self, def_id: int | None, snapshot_id: int | None, dbname: str, when: datetime
    ) -> naming.DumpNames:
        """Names pgbackman_dump would give a run that started at ``when`` (unique)."""
        stamp = when
        while True:
            names = naming.dump_names(
                dbname=dbname,
                node_fqdn="127.0.0.1",
                release_tag="15",
                tag=naming.job_tag(def_id, snapshot_id),
                backup_code="FULL",
                ts=naming.run_timestamp(stamp),
            )
            if names.base not in self._bases:
                self._bases.add(names.base)
                return names
            stamp += timedelta(seconds=1)

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
        """Files on disk (unless ``files`` given) + the backup_catalog row describing them,
        as register_backup_catalog records a run of pgbackman_dump (INTACT when it
        succeeded with a manifest)."""
        node = node_id or self.node_id
        self._seq += 1
        checksum = None
        if files is None:
            names = self._names(
                def_id, snapshot_id, dbname, finished - timedelta(minutes=1)
            )
            files, checksum = self._write_files(names, status, node)
        good = status == "SUCCEEDED" and checksum is not None
        sizes = {
            "pg_dump_file_size": "pg_dump_file",
            "pg_dump_roles_file_size": "pg_dump_roles_file",
            "pg_dump_dbconfig_file_size": "pg_dump_dbconfig_file",
        }
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
            "backup_code",
            "run_uuid",
            "checksum",
            "integrity",
            "integrity_checked",
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
            "FULL",
            str(uuid.uuid4()),
            checksum,
            ("INTACT" if good else "UNVERIFIED") if status == "SUCCEEDED" else None,
            finished if status == "SUCCEEDED" else None,
        ]
        for c, p in files.items():
            cols.append(c)
            vals.append(str(p))
        for size_col, file_col in sizes.items():
            if good and file_col in files:
                cols.append(size_col)
                vals.append(tree_size(files[file_col]))
        rows = self.pgb.su_query(
            f"INSERT INTO backup_catalog ({', '.join(cols)}) VALUES "
            f"({', '.join(['%s'] * len(vals))}) RETURNING bck_id",
            tuple(vals),
        )
        return Dump(int(rows[0][0]), dict(files))

    def restore_log(self, restore_def: int, target_dbname: str) -> Path:
        """A restore's log as pgbackman_restore names it, queued for deletion (as the
        trigger queues it when its restore_catalog row is deleted)."""
        log_dir = self.partition / "log"
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._seq += 1
        path = log_dir / naming.restore_log_name(
            target_dbname,
            "127.0.0.1",
            "15",
            restore_def,
            f"20260101T0000{self._seq % 60:02d}",
        )
        path.write_text("restore log\n")
        self.pgb.su_query(
            "INSERT INTO restore_logs_to_delete (backup_server_id, restore_log_file,"
            " restore_def, target_pgsql_node_id, target_dbname) VALUES (%s, %s, %s, %s, %s)",
            (self.pgb.server_id, str(path), restore_def, self.node_id, target_dbname),
        )
        return path

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

    def shell(self, command: str) -> subprocess.CompletedProcess[str]:
        """``pgbackman -C command`` as an operator (pgbackman_role_rw)."""
        return subprocess.run(
            ["pgbackman", "-C", command],
            env=self.pgb.shell_env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
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
