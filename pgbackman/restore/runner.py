"""One pgbackman_restore run, from the resolved spec to the result record.

Order (each step completes or the run ends as ONE ERROR result):

1. open the per-run log (target node's ``log/``), then verify the dump FIRST: the manifest's
   own SHA-256 against the catalog, every file against the manifest — a mismatch refuses the
   restore before the target node is even contacted; an encrypted backup then needs this
   server's identity file and is decrypted (restore/decrypt.py) before the target is touched;
2. connect to the target node; its release must be >= the backup's (tuples, 9.x..18);
3. pre-flight for a new database (FULL, SCHEMA, RDS): the target must not exist unless a
   Renamed DBname is given, and then nobody may be connected to it (sessions are never
   ended) and the new name must be free;
4. create only the roles of ``roles_to_restore`` (rendered from the backup's globals, with
   their settings, comments and memberships);
5. restore into a TEMPORARY database ``<target>_pgbackman_restore_<N>``: created by the
   backup's DBCONFIG script (encoding, locale, owner, settings, ``ALTER ROLE ... IN
   DATABASE``, ACL, comment — all bound to the database's OID, so they survive the rename),
   or empty for RDS; then pg_restore ``--exit-on-error`` (extra parameters, ``-j``);
6. only then the switch: existing target -> Renamed DBname, temporary -> target. Renaming at
   the end (not first, as upstream did) keeps the existing database in place and in use while
   the restore runs, and untouched when the restore fails;
7. any failure: the temporary database is dropped (it is ours: ``WITH (FORCE)``), roles this
   run created are dropped again, a rename already done is undone when possible — never a
   half-restored database under the requested name.

DATA restores go into the EXISTING target database (``--data-only --single-transaction``,
no temporary database); CLUSTER restores are in :mod:`pgbackman.restore.cluster`.
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

from pgbackman.run import clients
from pgbackman.archive.globalsfile import read_globals_from_users_file, render_roles_sql
from pgbackman.run.jobrun import JobRun
from pgbackman.pgnode import connection as pgnode
from pgbackman.pgnode import restore as rnode
from pgbackman.pgnode.globals import DatabaseGlobals
from pgbackman.config import Config
from pgbackman.core import argv as argvmod
from pgbackman.core import naming, pgversion
from pgbackman.errors import NodeUnavailableError, PgBackManError, RestoreError
from pgbackman.infra import proc
from pgbackman.infra.fsutil import ensure_dir
from pgbackman.restore import decrypt, legacy, offsite, plan, verification
from pgbackman.restore.cluster import CleanupHook, restore_cluster
from pgbackman.restore.spec import RestoreSpec, check_backup

log = logging.getLogger(__name__)
APPLICATION_NAME = "pgbackman_restore"
# A database-level default_transaction_read_only=on must not make the restore itself fail.
PGOPTIONS = "-c default_transaction_read_only=off"


@dataclass
class Outcome:
    status: str = "ERROR"
    error_message: str | None = None
    log_file: str | None = None
    target_release: str | None = None
    renamed_dbname: str | None = None
    role_list: list[str] = field(default_factory=list)
    # Said in the log and kept in the restore_catalog row even when the restore succeeds.
    warnings: list[str] = field(default_factory=list)


class RestoreRun(JobRun):
    """A restore run; :meth:`execute` never raises for a failed restore (it records it)."""

    program = "pgbackman_restore"
    error = RestoreError

    def __init__(self, cfg: Config, spec: RestoreSpec, started: _dt.datetime) -> None:
        super().__init__()
        self.cfg = cfg
        self.spec = spec
        self.started = started
        self.run_uuid = str(uuid.uuid4())
        self.outcome = Outcome(role_list=list(spec.roles_to_restore))
        self.conn: Any = None
        self.maint_db = "postgres"
        self.bindir = ""
        self.target_version_num = 0
        self._temp_db: str | None = None
        self._renamed: str | None = (
            None  # the existing target now lives under this name
        )
        self._created_roles: list[str] = []
        self._cleanup_hooks: list[CleanupHook] = []
        self.legacy_globals: DatabaseGlobals | None = None  # restore/legacy.py
        self.identities: list[Any] = []  # age identities of an encrypted backup
        self.plain_dir: Path | None = None  # its decrypted copy (restore/decrypt.py)
        self.staging: Path | None = None  # a fetched offsite copy (restore/offsite.py)

    # -- the run ----------------------------------------------------------------------------
    def execute(self) -> Outcome:
        spec = self.spec
        try:
            self._open_runlog()
            self.checkpoint()
            check_backup(spec)
            if spec.backup_code not in plan.RESTORE_CODES:
                raise RestoreError(
                    f"Backup code {spec.backup_code!r} cannot be restored"
                )
            self._fetch_if_missing()
            self._verify_dump()
            self.checkpoint()
            if spec.encrypted:
                decrypt.prepare(self)
                self.checkpoint()
            self._connect()
            self.before_restore()
            if spec.backup_code == "CLUSTER":
                self.outcome.role_list = restore_cluster(self)
            elif spec.backup_code == "DATA":
                self._restore_data()
            else:
                self._restore_new_database()
            self.after_restore()
            self.outcome.status = "SUCCEEDED"
            log.info("Restore completed: %s", self._what_done())
        except BaseException as exc:
            self.outcome.status = "ERROR"
            message = self._describe(exc)
            log.error("Restore failed: %s", message)
            if not isinstance(exc, PgBackManError):
                log.error("%s", "".join(traceback.format_exception(exc)).rstrip())
            notes = self._cleanup()
            self.outcome.error_message = " ".join([message, *notes])
            if (
                isinstance(exc, (KeyboardInterrupt, SystemExit))
                and self.stop_signal is None
            ):
                raise
        finally:
            self._close()
            offsite.discard(self.cfg, self.spec, self.staging)
        return self.outcome

    def _fetch_if_missing(self) -> None:
        """Files gone from this server but uploaded offsite: fetch them (restore/offsite.py)."""
        self.spec, self.staging = offsite.fetch_if_missing(
            self.cfg, self.spec, self.checkpoint
        )

    # -- hooks of runs that do more than a restore (restore/drill.py) ----------------------
    def before_restore(self) -> None:
        """Called once the target node is connected, before anything is changed there."""

    def after_restore(self) -> None:
        """Called when the restore is complete; raising fails the run (and cleans up)."""

    def _what_done(self) -> str:
        s = self.spec
        if s.backup_code == "CLUSTER":
            return f"cluster dump restored on {s.target}"
        text = f"database {s.target_dbname!r} on {s.target}"
        if self.outcome.renamed_dbname:
            text += f" (the existing database is now {self.outcome.renamed_dbname!r})"
        return text

    # -- log and verification ---------------------------------------------------------------
    def _open_runlog(self) -> None:
        s = self.spec
        log_dir = s.partition / "log"
        ensure_dir(s.partition, 0o700)
        ensure_dir(log_dir, 0o700)
        rel = s.backup_pg_release or "unknown"
        try:
            tag = pgversion.release_tag(pgversion.parse_release(rel))
        except ValueError:
            tag = "unknown"
        ts = naming.run_timestamp(_dt.datetime.now())
        path = log_dir / plan.log_file_name(
            s.target_dbname, s.target_fqdn, tag, s.restore_def, ts, s.job
        )
        n = 1
        while path.exists():  # two runs of one definition in the same second
            n += 1
            path = path.with_name(path.name[:-4] + f"-{n}.log")
        self.open_runlog(path)
        self.outcome.log_file = str(path)
        log.info(
            "pgbackman_restore run %s: %s, BckID %s (code %s, database %r, release %s) -> node %s "
            "database %r%s, roles to restore: %s",
            self.run_uuid,
            s.label,
            s.bck_id,
            s.backup_code,
            s.source_dbname,
            rel,
            s.target,
            s.target_dbname,
            f", existing database to be renamed to {s.renamed_dbname!r}"
            if s.renamed_dbname
            else "",
            ", ".join(s.roles_to_restore) or "none",
        )
        for note in s.notes:
            log.warning("%s", note)

    def _verify_dump(self) -> None:
        verification.verify(self)

    # -- node -------------------------------------------------------------------------------
    def _connect(self) -> None:
        s = self.spec
        names = {
            s.target_dbname,
            s.renamed_dbname,
            plan.temp_db_name(s.target_dbname, s.restore_def),
        }
        self.maint_db = "template1" if "postgres" in names else "postgres"
        try:
            self.conn = pgnode.connect(s.target, self.maint_db, APPLICATION_NAME)
        except NodeUnavailableError as exc:
            raise RestoreError(f"Target PgSQL node not available: {exc}") from None
        self.target_version_num = rnode.server_version_num(self.conn)
        target_rel = pgversion.release_from_version_num(self.target_version_num)
        self.outcome.target_release = pgversion.release_dotted(target_rel)
        plan.check_release(s.backup_pg_release, target_rel)
        programs = ["psql"] if s.backup_code == "CLUSTER" else ["pg_restore", "psql"]
        self.bindir, _rel, full = clients.find_bindir(
            target_rel, s.server_config, programs, exact=False
        )
        log.info(
            "Target node %s runs PostgreSQL %s (server_version_num %s); client programs %s "
            "from %s",
            s.target,
            self.outcome.target_release,
            self.target_version_num,
            full,
            self.bindir,
        )

    def add_cleanup(self, hook: CleanupHook) -> None:
        """Undo ``hook(conn) -> notes`` if the run fails (see :meth:`_cleanup`)."""
        self._cleanup_hooks.append(hook)

    def remove_cleanup(self, hook: CleanupHook) -> None:
        self._cleanup_hooks.remove(hook)

    def env(self, dbname: str | None = None) -> dict[str, str]:
        s = self.spec
        env = argvmod.libpq_env(
            s.target_fqdn,
            s.target_port,
            s.admin_user,
            dbname or self.maint_db,
            APPLICATION_NAME,
        )
        env["PGOPTIONS"] = PGOPTIONS
        return env

    def run(
        self, argv: list[str], env: dict[str, str], input: str | None = None
    ) -> proc.Result:
        """Run a client program with its output in the run log; RestoreError on failure."""
        return self.run_logged(argv, env, input)

    # -- database codes ---------------------------------------------------------------------
    def _restore_new_database(self) -> None:
        s = self.spec
        extra = plan.tokenize_restore_extra(s.extra_restore_parameters)
        temp = plan.temp_db_name(s.target_dbname, s.restore_def)
        exists = rnode.database_exists(self.conn, s.target_dbname)
        renamed = s.renamed_dbname
        if exists:
            if not renamed:
                raise RestoreError(
                    f"The target database {s.target_dbname!r} already exists in the "
                    "target PgSQL node and no Renamed DBname was given"
                )
            self._check_rename_possible(s.target_dbname, renamed)
        elif renamed:
            log.warning(
                "Target database %r does not exist: nothing to rename to %r",
                s.target_dbname,
                renamed,
            )
            renamed = None
        if rnode.database_exists(self.conn, temp):
            log.warning("Dropping temporary database %r left by an earlier run", temp)
            rnode.drop_database(self.conn, temp, force=self._can_force)
        if s.backup_code != "RDS":
            self.restore_roles()
        self.checkpoint()
        self._temp_db = temp
        if s.backup_code == "RDS":
            log.info(
                "Creating empty database %r (RDS backups carry no database configuration)",
                temp,
            )
            rnode.create_database(self.conn, temp)
        else:
            log.info(
                "Creating temporary database %r from the database configuration file",
                temp,
            )
            assert s.dbconfig_file is not None  # noqa: S101 - internal invariant, for the type checker
            if s.legacy:  # 1.x's file names the source database: rendered again
                self.run(
                    plan.psql_argv(self.bindir, [("target_db", temp)]),
                    self.env(),
                    input=legacy.dbconfig_script(self),
                )
            else:
                self.run(
                    plan.psql_argv(self.bindir, [("target_db", temp)], s.dbconfig_file),
                    self.env(),
                )
        self.checkpoint()
        acl_pass = plan.separate_acl_pass(s.backup_code, extra)
        argv, notes = plan.pg_restore_argv(
            self.bindir,
            s.backup_code,
            temp,
            str(s.pg_dump_file),
            [*extra, "--no-acl"] if acl_pass else extra,
        )
        for note in notes:
            log.warning("%s", note)
        log.info("Restoring %s into %r", Path(str(s.pg_dump_file)).name, temp)
        self.run(argv, self.env(temp))
        self.checkpoint()
        if acl_pass:
            from pgbackman.restore.privileges import restore_privileges

            restore_privileges(self, temp, plan.without_jobs(extra))
        if renamed:
            self._check_rename_possible(s.target_dbname, renamed)
            rnode.rename_database(self.conn, s.target_dbname, renamed)
            self._renamed = renamed
            log.info("Existing database %r renamed to %r", s.target_dbname, renamed)
        rnode.rename_database(self.conn, temp, s.target_dbname)
        self._temp_db = None
        self.outcome.renamed_dbname = self._renamed
        self._renamed = None
        log.info("Temporary database %r renamed to %r", temp, s.target_dbname)

    def _check_rename_possible(self, target: str, renamed: str) -> None:
        if rnode.database_exists(self.conn, renamed):
            raise RestoreError(
                f"Cannot rename the existing database {target!r}: a database "
                f"{renamed!r} already exists"
            )
        n = rnode.other_sessions(self.conn, target)
        if n:
            raise RestoreError(
                f"Problems renaming an existing database: {n} session(s) connected "
                f"to {target!r} (PgBackMan never ends sessions); nothing renamed"
            )

    @property
    def _can_force(self) -> bool:
        return self.target_version_num >= 130000

    def _restore_data(self) -> None:
        s = self.spec
        extra = plan.tokenize_restore_extra(s.extra_restore_parameters)
        if s.renamed_dbname:
            raise RestoreError(
                f"A DATA backup is restored into the existing database "
                f"{s.target_dbname!r}: a Renamed DBname cannot be used"
            )
        if not rnode.database_exists(self.conn, s.target_dbname):
            raise RestoreError(
                f"The target database {s.target_dbname!r} does not exist: a DATA "
                "backup is restored into an existing database that has the schema"
            )
        self.restore_roles()
        self.checkpoint()
        argv, notes = plan.pg_restore_argv(
            self.bindir, "DATA", s.target_dbname, str(s.pg_dump_file), extra
        )
        for note in notes:
            log.warning("%s", note)
        log.info(
            "Restoring data of %s into the existing database %r (one transaction)",
            Path(str(s.pg_dump_file)).name,
            s.target_dbname,
        )
        self.run(argv, self.env(s.target_dbname))

    # -- roles ------------------------------------------------------------------------------
    def _load_globals(self) -> DatabaseGlobals:
        s = self.spec
        if not s.roles_file:
            raise RestoreError(
                f"Backup {s.bck_id} has no roles file: roles cannot be restored"
            )
        try:
            data = read_globals_from_users_file(s.roles_file)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RestoreError(
                f"Cannot read the roles data of backup {s.bck_id}: {exc}"
            ) from None
        if data is None and s.legacy:
            return legacy.globals_of(self)
        if data is None:
            raise RestoreError(
                f"Backup {s.bck_id} has no machine-readable roles data: "
                "roles cannot be restored selectively"
            )
        return data

    def restore_roles(self) -> None:
        """Create the roles of ``roles_to_restore`` that are missing on the target."""
        s = self.spec
        if not s.roles_to_restore:
            log.info("No roles to restore")
            return
        g = self._load_globals()
        backup_roles = [r.name for r in g.roles if not r.predefined]
        for r in s.roles_to_restore:
            if r not in backup_roles:
                log.warning("Role %r is not part of backup %s: ignored", r, s.bck_id)
        existing = rnode.role_names(self.conn)
        render, created = plan.roles_to_render(
            s.roles_to_restore, backup_roles, existing
        )
        for r in s.roles_to_restore:
            if r in existing:
                log.warning("Role %r already exists on the target: left unchanged", r)
        if not created:
            log.info("Every role to restore already exists on the target")
            return
        text = render_roles_sql(
            g, node=f"{s.target_fqdn}:{s.target_port}", roles=render
        )
        log.info("Creating roles: %s", ", ".join(created))
        self.run(plan.psql_argv(self.bindir), self.env(), input=text)
        self._created_roles = [r for r in created if r in rnode.role_names(self.conn)]

    # -- failure ----------------------------------------------------------------------------
    def _describe(self, exc: BaseException) -> str:
        if self.stop_signal is not None:
            return f"pgbackman_restore stopped by {signal.Signals(self.stop_signal).name}; restore aborted."
        if isinstance(exc, PgBackManError):
            return str(exc)
        if isinstance(exc, OSError):
            return f"File system error: {exc}"
        return f"Internal error: {type(exc).__name__}: {exc}"

    def node_conn(self) -> Any:
        """The node connection, reconnected once if it broke (cleanup must still work)."""
        try:
            if self.conn is not None and not self.conn.closed:
                rnode.server_version_num(self.conn)
                return self.conn
        except PgBackManError:
            pass
        self.conn = pgnode.connect(self.spec.target, self.maint_db, APPLICATION_NAME)
        return self.conn

    def _cleanup(self) -> list[str]:
        """Undo what this run did; returns notes for the error message."""
        notes: list[str] = []
        if (
            self._temp_db is None
            and self._renamed is None
            and not self._created_roles
            and not self._cleanup_hooks
        ):
            return notes
        try:
            conn = self.node_conn()
        except PgBackManError as exc:
            roles = ", ".join(self._created_roles) or "none"
            return [
                (
                    f"Cleanup impossible ({exc}): temporary database {self._temp_db!r} and "
                    f"roles {roles} may remain."
                )
            ]
        for hook in self._cleanup_hooks:
            notes += hook(conn)
        if self._temp_db is not None:
            notes += self._drop_temp(conn, self._temp_db)
        if self._renamed is not None:
            s = self.spec
            try:
                rnode.rename_database(conn, self._renamed, s.target_dbname)
                log.warning("Existing database renamed back to %r", s.target_dbname)
                notes.append(
                    f"The existing database keeps its name {s.target_dbname!r}."
                )
            except PgBackManError as exc:
                log.error("%s", exc)
                self.outcome.renamed_dbname = self._renamed
                notes.append(
                    f"The existing database {s.target_dbname!r} stays under its new "
                    f"name {self._renamed!r}."
                )
        notes += rnode.drop_roles(conn, reversed(self._created_roles))
        return notes

    def _drop_temp(self, conn: Any, name: str) -> list[str]:
        for attempt in range(5):
            try:
                rnode.drop_database(conn, name, force=self._can_force)
                log.info("Temporary database %r dropped", name)
                return []
            except PgBackManError as exc:
                if attempt == 4:
                    log.error("%s", exc)
                    return [f"The temporary database {name!r} could not be dropped."]
                time.sleep(1)  # pg_restore -j workers may still be disconnecting
        return []

    def _close(self) -> None:
        decrypt.remove(self)
        pgnode.close_quietly(self.conn)
        self.conn = None
        self.close_runlog()

    # -- the result -------------------------------------------------------------------------
    def record(self, finished: _dt.datetime) -> dict[str, Any]:
        """The restore_catalog record (catalog/jobs.RESTORE_FIELDS) of this run."""
        s, o = self.spec, self.outcome
        return {
            "restore_def": s.restore_def,
            "procpid": os.getpid(),
            "server_id": s.server_id,
            "target_node_id": s.target_node_id,
            "source_dbname": s.source_dbname,
            "target_dbname": s.target_dbname,
            "renamed_dbname": o.renamed_dbname,
            "started": self.started.isoformat(),
            "finished": finished.isoformat(),
            "duration": (finished - self.started).total_seconds(),
            "restore_log_file": o.log_file,
            "global_log_file": self.cfg.logging.log_file,
            "execution_status": o.status,
            "error_message": " ".join([*filter(None, [o.error_message]), *o.warnings])
            or None,
            "role_list": o.role_list,
            "target_pgsql_node_release": o.target_release,
            "backup_pg_release": s.backup_pg_release,
            "run_uuid": self.run_uuid,
        }
