"""One pgbackman_dump run, from job resolution to the recorded result.

Order of a run (each step either completes or the run ends as ONE ERROR result):
resolve the job (catalog, else local cache) -> take the per-job flock -> sweep stale
``.partial-*`` of this job -> wait for a slot of the node and of the server
(max_parallel_backups, backup/waiting.py) -> connect to the node (meanwhile the candidate
pg_dump programs report their versions) -> choose pg_dump by release -> facts for restore
drills (backup/facts.py: counted in a snapshot that pg_dump then dumps) -> dump into a
staging directory: pg_dump -Fd with, while it runs, the database size, the roles and
database settings files (FULL/SCHEMA/DATA) and the read-back check of every file as pg_dump
closes it (decompressed and hashed; for an encrypted definition then encrypted with age and
decrypted back), and its table of contents read back with pg_restore --list
(backup/dirdump.py); or pg_dumpall compressed in Python, then read back (backup/cluster.py)
-> data check of the archive's contents (FULL/DATA/RDS), the facts file -> modes, SHA-256
manifest (from the read-back), fsync of every file and the manifest at once -> rename into
place (manifest last) -> register_backup_catalog, or a pending file when the catalog is down.

A second run of the same job while one is running exits 1 after logging "locked, skipped"
and records no backup row (no files were produced, and an ERROR row would look like a
failed dump); it raises a Backup-locked alert instead (programs/dump.py), so a stuck job is
visible. SIGTERM/SIGINT set a flag and are forwarded to pg_dump; the node's backup_timeout
does the same from a watchdog thread (run/timeout.py); the run then records one ERROR and
exits 1. FULL/DATA/RDS archives are checked against the tables they must hold
(backup/datacheck.py). Exit status: 0 SUCCEEDED (also when the result was spooled), 1
otherwise.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import signal
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgbackman.archive import files
from pgbackman.archive.crypt import Sealer
from pgbackman.archive.readback import Verified
from pgbackman.run import clients
from pgbackman.backup import datacheck, dirdump, protection, waiting
from pgbackman.backup.facts import FactsRecorder
from pgbackman.backup.job import JobSpec
from pgbackman.run.jobrun import JobRun
from pgbackman.backup.recovery import APPLICATION_NAME, ReplayPause
from pgbackman.pgnode import globals as nodeglobals
from pgbackman.pgnode import connection as pgnode
from pgbackman.config import Config
from pgbackman.core import argv as argvmod
from pgbackman.core import compression, naming, pgversion, tablefilter
from pgbackman.errors import (
    DumpError,
    ExtraParameterError,
    NodeUnavailableError,
    PgBackManError,
)
from pgbackman.infra.fsutil import ensure_dir, safe_remove, tree_size

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a run produced; turned into a backup_catalog record by :meth:`DumpRun.record`."""

    status: str = "ERROR"
    error_message: str | None = None
    pg_dump_file: str | None = None
    pg_dump_file_size: int | None = None
    roles_file: str | None = None
    roles_file_size: int | None = None
    dbconfig_file: str | None = None
    dbconfig_file_size: int | None = None
    manifest_file: str | None = None
    checksum: str | None = None
    log_file: str | None = None
    role_list: list[str] = field(default_factory=list)
    node_release: str | None = None
    pg_dump_release: str | None = None
    dbname_size: int | None = None
    excluded_tables: list[str] | None = None  # FULL/DATA/RDS: tables without data
    compression: str | None = None
    encrypted: bool = False
    encryption_recipients: list[str] | None = None
    wait_duration: float | None = None  # seconds waited for a slot (backup/waiting.py)


class DumpRun(JobRun):
    """The dump part of a run (the caller holds the job lock)."""

    program = "pgbackman_dump"
    error = DumpError

    def __init__(self, cfg: Config, spec: JobSpec, started: _dt.datetime) -> None:
        super().__init__()
        self.cfg = cfg
        self.spec = spec
        self.started = started
        self.run_uuid = str(uuid.uuid4())
        self.tag = naming.job_tag(spec.def_id, spec.snapshot_id)
        self.partition = spec.partition
        self.dump_dir = self.partition / "dump"
        self.log_dir = self.partition / "log"
        self.outcome = Outcome()
        self._staging: Path | None = None
        self._conn: Any = None
        self._sealer: Sealer | None = None
        self._facts: FactsRecorder | None = None
        self._no_sync = False  # pg_dump >= 10: --no-sync (write_manifest syncs)
        self._turn: waiting.Turn | None = None  # its slots (max_parallel_backups)
        self._waiting = False
        self._known: dict[str, Verified] = {}  # read back: the manifest's digests

    # -- the run ----------------------------------------------------------------------------
    def prepare_dirs(self) -> None:
        for d in (self.partition, self.dump_dir, self.log_dir):
            ensure_dir(d, 0o700)

    def sweep(self) -> None:
        files.sweep_partials(self.partition, self.dump_dir, self.tag)

    def execute(self) -> Outcome:
        spec = self.spec
        try:
            self.checkpoint()
            code = spec.backup_code
            if code not in argvmod.BACKUP_CODES:
                raise DumpError(
                    f"Backup code {code!r} is not supported by pgbackman_dump"
                )
            tool = "pg_dumpall" if code == "CLUSTER" else "pg_dump"
            try:
                extra = argvmod.tokenize_extra(spec.extra_backup_parameters, tool)
            except ExtraParameterError as exc:
                raise DumpError(f"Invalid extra backup parameters: {exc}") from None
            dataless = tablefilter.dataless_reason(code, extra)
            if dataless:
                raise DumpError(f"Invalid extra backup parameters: {dataless}")
            prot = protection.resolve(spec, extra)
            extra = prot.extra
            self._take_turn()
            # The --version of every pg_dump the run could use is asked while it connects;
            # the probes are reaped when the block ends, whatever happens in it.
            with clients.VersionProbes(spec.server_config, tool) as probes:
                self._connect()
                version_num = pgnode.server_version_num(self._conn)
                node_rel = pgversion.release_from_version_num(version_num)
                self.outcome.node_release = pgversion.release_dotted(node_rel)
                try:
                    want = pgversion.choose_release(node_rel, spec.pg_dump_release)
                except ValueError as exc:
                    raise DumpError(str(exc)) from None
                programs = [tool, "pg_restore"] if tool == "pg_dump" else [tool]
                bindir, rel, full = clients.find_bindir(
                    want,
                    spec.server_config,
                    programs,
                    exact=spec.pg_dump_release is not None,
                    probes=probes,
                )
            self.outcome.pg_dump_release = pgversion.release_dotted(rel)
            self._no_sync = rel >= (10,)
            protection.check_release(prot, code, rel)
            self.outcome.compression = str(prot.compression)
            if prot.encrypted:
                self._sealer = Sealer(prot.recipients)
            names = self._names(pgversion.release_tag(rel), prot)
            self._open_runlog(names, full, version_num)
            self._staging = ensure_dir(
                self.dump_dir
                / naming.partial_dir_name(self.tag, os.getpid(), names.base[-15:]),
                0o700,
            )
            if code != "CLUSTER":
                extra = [compression.pg_dump_option(prot.compression, rel), *extra]
            items = self._dump(code, bindir, extra, names, prot)
            if self._sealer is not None:
                self._sealer.forget()
                self.outcome.encrypted = True
                self.outcome.encryption_recipients = prot.recipients
            self.checkpoint()
            for name in items:
                files.force_modes(self._staging / name)
            # Every file and the manifest made durable in one batch, then renamed.
            staged = files.write_manifest(
                self._staging, names.manifest, items, self._known
            )
            self.outcome.checksum = staged.checksum
            self.checkpoint()
            files.commit(self._staging, self.dump_dir, staged)
            self._staging = None
            self._fill_paths(names, items)
            self.outcome.status = "SUCCEEDED"
            log.info(
                "Backup completed: %s (checksum of manifest %s)",
                self.outcome.pg_dump_file,
                self.outcome.checksum,
            )
        except BaseException as exc:  # every failure becomes one ERROR result
            self.outcome.status = "ERROR"
            self.outcome.error_message = self._describe(exc)
            log.error("Backup failed: %s", self.outcome.error_message)
            if not isinstance(exc, PgBackManError):
                log.error("%s", "".join(traceback.format_exception(exc)).rstrip())
            self._cleanup()
            if (
                isinstance(exc, (KeyboardInterrupt, SystemExit))
                and self.stop_signal is None
            ):
                raise
        finally:
            self._close()
        return self.outcome

    # -- steps ------------------------------------------------------------------------------
    def _take_turn(self) -> None:
        """Wait for a slot of the node and of the server (backup/waiting.py)."""
        root = self.spec.root or self.cfg.backup_server.root_backup_partition
        started_ns = int(self.started.timestamp() * 1e9)
        self._waiting = True
        self._turn = waiting.take_turn(self.spec, root, started_ns, self.checkpoint)
        self._waiting = False
        self.outcome.wait_duration = round(self._turn.waited, 3)
        self.keep_fds = (*self.keep_fds, *self._turn.fds)

    def _connect(self) -> None:
        spec = self.spec
        dbname = None if spec.backup_code == "CLUSTER" else spec.dbname
        try:
            self._conn = pgnode.connect(spec.target, dbname, APPLICATION_NAME)
        except NodeUnavailableError as exc:
            what = "PgSQL node" if dbname is None else f"Database {dbname!r} to backup"
            raise DumpError(f"{what} not available: {exc}") from None

    def _names(self, release_tag: str, prot: protection.Protection) -> naming.DumpNames:
        """Names with one timestamp; a second run of the job in the same second waits."""
        while True:
            ts = naming.run_timestamp(_dt.datetime.now())
            names = naming.dump_names(
                dbname=self.spec.dbname,
                node_fqdn=self.spec.node_fqdn,
                release_tag=release_tag,
                tag=self.tag,
                backup_code=self.spec.backup_code,
                ts=ts,
                cluster_suffix=prot.compression.cluster_suffix,
                encrypted=prot.encrypted,
            )
            if not any(
                (self.dump_dir / n).exists() or (self.log_dir / n).exists()
                for n in (names.manifest, names.database, names.cluster_file, names.log)
            ):
                return names
            time.sleep(0.3)

    def _open_runlog(
        self, names: naming.DumpNames, pg_dump_version: str, version_num: int
    ) -> None:
        path = self.log_dir / names.log
        self.open_runlog(path)
        self.outcome.log_file = str(path)
        s = self.spec
        log.info(
            "pgbackman_dump run %s: %s, node %s:%s (server_version_num %s), database %r, code %s, "
            "pg_dump %s, source %s, waited %.1f s for a slot",
            self.run_uuid,
            s.label,
            s.node_fqdn,
            s.node_port,
            version_num,
            s.dbname,
            s.backup_code,
            pg_dump_version,
            "local cache" if s.from_cache else "catalog",
            self.outcome.wait_duration or 0.0,
        )
        for note in s.notes:
            log.warning("%s", note)
        if s.job_status not in ("ACTIVE", "WAITING", "DEFINED"):
            log.warning(
                "The job's status is %s; running it anyway (started by hand?)",
                s.job_status,
            )
        if s.node_status and s.node_status != "RUNNING":
            log.warning(
                "PgSQL node %s has status %s in the catalog", s.node_fqdn, s.node_status
            )

    def _env(self, dbname: str | None) -> dict[str, str]:
        s = self.spec
        env = argvmod.libpq_env(
            s.node_fqdn, s.node_port, s.admin_user, dbname or "", APPLICATION_NAME
        )
        if dbname is None:
            env.pop("PGDATABASE")
        return env

    def _dump(
        self,
        code: str,
        bindir: str,
        extra: list[str],
        names: naming.DumpNames,
        prot: protection.Protection,
    ) -> list[str]:
        assert self._staging is not None  # noqa: S101 - internal invariant, for the type checker
        pause_enabled = self.cfg.dump.pause_recovery_process_on_slave
        if code == "CLUSTER":  # its compression libraries only when needed
            from pgbackman.backup import cluster
        with ReplayPause(self._conn, pause_enabled):
            if code == "CLUSTER":
                cluster.dump_cluster(
                    self,
                    bindir,
                    extra,
                    self._env(None),
                    self._staging / names.cluster_file,
                    prot.compression,
                    self._sealer,
                )
                items = [names.cluster_file]
            else:
                items = self._dump_database(code, bindir, extra, names)
        self.checkpoint()
        if code == "CLUSTER":
            cluster.check_cluster_file(
                self, self._staging / names.cluster_file, self._sealer
            )
        elif self._sealer is not None:
            # What is left to read back: the roles and database configuration files.
            for path, digest in protection.check_sealed(self._sealer).items():
                st = path.stat()
                rel = path.relative_to(self._staging).as_posix()
                self._known[rel] = Verified(
                    path.name, digest, st.st_size, st.st_mtime_ns, path.name
                )
        return items

    def _dump_database(
        self, code: str, bindir: str, extra: list[str], names: naming.DumpNames
    ) -> list[str]:
        """pg_dump -Fd in the snapshot the facts were counted in, read back while it runs
        (backup/dirdump.py), the data check, and the facts file."""
        assert self._staging is not None  # noqa: S101 - internal invariant, for the type checker
        out = self._staging / names.database
        data = (
            datacheck.plan(self._conn, code, extra)
            if code in argvmod.DATA_CODES
            else None
        )
        items = [names.database]
        facts = self._facts = FactsRecorder(
            self.spec.target, self.spec.dbname, code, extra, self.checkpoint
        )
        try:
            result = self._dump_directory(
                code, bindir, [*extra, *facts.start()], out, names, items
            )
        finally:
            facts.close()
        for v in result.verified.values():
            self._known[f"{names.database}/{v.name}"] = v
        self.checkpoint()
        if data is not None:
            self.outcome.excluded_tables = datacheck.check(
                self._conn, data, result.listing
            )
        # After the read-back of pg_dump's files: hashed into the manifest (sealed like the
        # roles files for an encrypted definition, and read back with them).
        facts.write(out, self._sealer)
        return items

    def _dump_directory(
        self,
        code: str,
        bindir: str,
        extra: list[str],
        out: Path,
        names: naming.DumpNames,
        items: list[str],
    ) -> dirdump.DirDump:
        """pg_dump into ``out`` with its read-back; the database size and the roles and
        database settings files (their names added to ``items``) are done while it runs."""

        def meanwhile() -> None:  # while pg_dump runs
            if self._facts is not None:
                self._facts.collect()
            self.outcome.dbname_size = nodeglobals.database_size(self._conn)
            if code != "RDS":
                items.extend(self._write_globals(names))

        return dirdump.dump_directory(
            self,
            bindir,
            argvmod.pg_dump_argv(bindir, code, str(out), extra, no_sync=self._no_sync),
            self._env(self.spec.dbname),
            out,
            decode=self.cfg.dump.read_back_check,
            sealer=self._sealer,
            meanwhile=meanwhile,
        )

    def _write_globals(self, names: naming.DumpNames) -> list[str]:
        assert self._staging is not None  # noqa: S101 - internal invariant, for the type checker
        # Imported here: this runs while pg_dump works, not before it starts.
        from pgbackman.backup.globalsfiles import write_globals_files

        out = write_globals_files(
            self._conn,
            self._staging,
            names.users,
            names.dbconfig,
            f"{self.spec.node_fqdn}:{self.spec.node_port}",
            self._sealer,
        )
        self._known.update(out.verified)
        self.outcome.role_list = out.role_list
        return out.names

    def _fill_paths(self, names: naming.DumpNames, items: list[str]) -> None:
        o = self.outcome
        main = self.dump_dir / items[0]
        o.pg_dump_file, o.pg_dump_file_size = str(main), tree_size(main)
        if names.users in items:
            o.roles_file = str(self.dump_dir / names.users)
            o.roles_file_size = tree_size(self.dump_dir / names.users)
            o.dbconfig_file = str(self.dump_dir / names.dbconfig)
            o.dbconfig_file_size = tree_size(self.dump_dir / names.dbconfig)
        o.manifest_file = str(self.dump_dir / names.manifest)

    def node_socket(self) -> int | None:
        if self._facts is not None and self._facts.socket() is not None:
            return self._facts.socket()  # the facts step waits on its own connection
        conn = self._conn
        if conn is None or conn.closed:
            return None
        try:
            return int(conn.fileno())
        except Exception:  # noqa: BLE001 - a broken connection has no socket to shut
            return None

    def abandon(self, message: str) -> None:
        """The run did not end after its timeout (see run/timeout.py): its result becomes
        this ERROR and its staging directory goes, from the watchdog thread."""
        self.outcome.status = "ERROR"
        self.outcome.error_message = message
        self._cleanup()

    def _describe(self, exc: BaseException) -> str:
        if self.timed_out is not None and self._waiting:
            return f"{self.timed_out} while waiting for a backup slot (max_parallel_backups)"
        if self.timed_out is not None:
            return self.timed_out
        if self.stop_signal is not None:
            return f"pgbackman_dump stopped by {signal.Signals(self.stop_signal).name}; dump aborted"
        if isinstance(exc, PgBackManError):
            return str(exc)
        if isinstance(exc, OSError):
            return f"File system error: {exc}"
        return f"Internal error: {type(exc).__name__}: {exc}"

    def _cleanup(self) -> None:
        if self._staging is not None:
            try:
                safe_remove(self.partition, self._staging)
            except OSError as exc:
                log.error("Cannot remove partial output %s: %s", self._staging, exc)
            self._staging = None

    def _close(self) -> None:
        pgnode.close_quietly(self._conn)
        self._conn = None
        self.close_runlog()
        if self._turn is not None:  # the next waiting run may start
            self._turn.release()
            self._turn = None

    # -- the result -------------------------------------------------------------------------
    def record(self, finished: _dt.datetime) -> dict[str, Any]:
        """The backup_catalog record (catalog/jobs.BACKUP_FIELDS) of this run."""
        s, o = self.spec, self.outcome
        log_file = o.log_file
        return {
            "def_id": s.def_id,
            "procpid": os.getpid(),
            "server_id": s.server_id,
            "node_id": s.node_id,
            "dbname": s.dbname,
            "started": self.started.isoformat(),
            "finished": finished.isoformat(),
            "duration": (finished - self.started).total_seconds(),
            "pg_dump_file": o.pg_dump_file,
            "pg_dump_file_size": o.pg_dump_file_size,
            "pg_dump_log_file": log_file,
            "pg_dump_roles_file": o.roles_file,
            "pg_dump_roles_file_size": o.roles_file_size,
            "pg_dump_roles_log_file": log_file if o.roles_file else None,
            "pg_dump_dbconfig_file": o.dbconfig_file,
            "pg_dump_dbconfig_file_size": o.dbconfig_file_size,
            "pg_dump_dbconfig_log_file": log_file if o.dbconfig_file else None,
            "global_log_file": self.cfg.logging.log_file,
            "execution_status": o.status,
            "execution_method": s.execution_method,
            "error_message": o.error_message,
            "snapshot_id": s.snapshot_id,
            "role_list": o.role_list,
            "pgsql_node_release": o.node_release,
            "pg_dump_release": o.pg_dump_release,
            "run_uuid": self.run_uuid,
            "backup_code": s.backup_code,
            "checksum": o.checksum,
            "pg_dump_manifest_file": o.manifest_file,
            "dbname_size": o.dbname_size,
            "excluded_tables": o.excluded_tables,
            "compression": o.compression,
            "encrypted": o.encrypted,
            "encryption_recipients": o.encryption_recipients,
            "wait_duration": o.wait_duration,
        }
