"""One restore drill: the newest SUCCEEDED backup of a definition restored into a scratch
database on the drill node, checked against the facts of its dump, then dropped again.

A drill IS a restore run (:class:`pgbackman.restore.runner.RestoreRun`: checksums first,
the release check, the roles, the database configuration, pg_restore, the cleanup after a
failure) with a target of its own, ``pgbackman_drill_<DrillID>``, and three additions:

* before the restore: the drill node's lock (a session advisory lock in its ``postgres``
  database, so drills of one node never run at once, whichever backup server starts them;
  a second drill waits) and the leftovers of a killed drill of this id (its scratch
  database, the roles it marked);
* the roles: the backup's roles that the drill node lacks are created, NOLOGIN and without
  their password (a drill never opens a production login on the drill node), marked with
  the comment :func:`role_marker` in the same transaction that creates them; roles the node
  already has are used as they are, and no membership between two of them is granted, so the
  node's own roles are never changed. Exactly the marked roles are dropped afterwards, also
  by the next drill of this id when this one was killed before it could;
* after the restore: the check (:func:`pgbackman.core.facts.compare`), then the scratch
  database and the created roles are dropped, whether the check passed or not.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgbackman.config import Config
from pgbackman.core import facts as core
from pgbackman.core import argv as argvmod
from pgbackman.core import tablefilter
from pgbackman.errors import RestoreError
from pgbackman.infra import proc
from pgbackman.pgnode import connection as pgnode
from pgbackman.pgnode import facts as nodefacts
from pgbackman.pgnode import restore as rnode
from pgbackman.pgnode.globals import DatabaseGlobals
from pgbackman.restore.runner import APPLICATION_NAME, Outcome, RestoreRun
from pgbackman.restore.spec import RestoreSpec

log = logging.getLogger(__name__)
SCRATCH_PREFIX = "pgbackman_drill_"
# pg_try_advisory_lock key of "a restore drill runs on this node" (in its postgres database).
LOCK_KEY = 0x7067626D_64726C6C  # "pgbm" "drll"
LOCK_POLL = 1.0


def scratch_dbname(drill_id: int) -> str:
    return f"{SCRATCH_PREFIX}{int(drill_id)}"


def role_marker(drill_id: int) -> str:
    return f"PgBackMan restore drill {int(drill_id)}: created for the drill, dropped after it"


@dataclass
class DrillJob:
    """The drill being run: its ids and what the check needs from the catalog."""

    drill_id: int
    def_id: int
    dbname: str
    drill_node_id: int
    server_id: int
    excluded_tables: list[str] = field(default_factory=list)


class DrillRun(RestoreRun):
    """A restore into the scratch database, checked and dropped (see the module docstring)."""

    def __init__(
        self, cfg: Config, spec: RestoreSpec, job: DrillJob, started: _dt.datetime
    ) -> None:
        super().__init__(cfg, spec, started)
        self.job = job
        self.checks: list[str] = []
        self.roles_created: list[str] = []
        self._lock_conn: Any = None

    def execute(self) -> Outcome:
        try:
            return super().execute()
        finally:
            if self._lock_conn is not None:
                self._lock_conn.close()  # releases the drill node's lock
                self._lock_conn = None

    # -- before ---------------------------------------------------------------------------
    def before_restore(self) -> None:
        self.checks.append(
            f"checksums: the files of backup {self.spec.bck_id} match its manifest"
        )
        self._lock_node()
        self._drop_leftovers()

    def _lock_node(self) -> None:
        self._lock_conn = pgnode.connect(
            self.spec.target, self.maint_db, APPLICATION_NAME
        )
        waiting = False
        while not rnode.try_advisory_lock(self._lock_conn, LOCK_KEY):
            if not waiting:
                log.info(
                    "Another restore drill runs on PgSQL node %s: waiting for it to end",
                    self.spec.target,
                )
                waiting = True
            self.checkpoint()
            time.sleep(LOCK_POLL)

    def _drop_leftovers(self) -> None:
        scratch = self.spec.target_dbname
        if rnode.database_exists(self.conn, scratch):
            log.warning("Dropping scratch database %r left by a killed drill", scratch)
            rnode.drop_database(self.conn, scratch, force=self._can_force)
        for role in rnode.roles_with_comment(self.conn, role_marker(self.job.drill_id)):
            try:
                rnode.drop_role(self.conn, role)
                log.warning("Role %r left by a killed drill dropped", role)
            except RestoreError as exc:
                log.error("Role %r left by a killed drill remains: %s", role, exc)

    # -- roles ----------------------------------------------------------------------------
    def _load_globals(self) -> DatabaseGlobals:
        g = super()._load_globals()
        existing = rnode.role_names(self.conn)
        marker = role_marker(self.job.drill_id)
        roles = [
            r
            if r.predefined or r.name in existing
            else dataclasses.replace(
                r, canlogin=False, password=None, valid_until=None, comment=marker
            )
            for r in g.roles
        ]
        memberships = [
            m
            for m in g.memberships
            if not (m.role in existing and m.member in existing)
        ]
        return dataclasses.replace(g, roles=roles, memberships=memberships)

    # -- after ----------------------------------------------------------------------------
    def after_restore(self) -> None:
        scratch = self.spec.target_dbname
        self._temp_db = scratch  # ours from now on: dropped whatever happens next
        self.roles_created = list(self._created_roles)
        self.checks.append(f"restore: pg_restore completed into {scratch!r}")
        self.checkpoint()
        verdict = self._check(scratch)
        self.checks += verdict.checks
        for line in verdict.checks:
            log.info("Checked %s", line)
        if not verdict.ok:
            raise RestoreError(
                "Restore drill check failed: " + "; ".join(verdict.problems)
            )
        notes = self._cleanup()
        if notes:
            raise RestoreError(" ".join(notes))
        self._temp_db = None
        self._created_roles = []
        self.checks.append(
            f"cleanup: scratch database and {len(self.roles_created)} created role(s) "
            "dropped"
        )

    def _facts(self) -> core.Facts | None:
        path = Path(str(self.spec.pg_dump_file)) / core.FACTS_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            log.warning(
                "Backup %s carries no facts: the archive alone is checked",
                self.spec.bck_id,
            )
            return None
        except OSError as exc:
            raise RestoreError(f"Cannot read the facts of the backup: {exc}") from None
        try:
            return core.Facts.from_json(text)
        except ValueError as exc:
            raise RestoreError(
                f"The facts of backup {self.spec.bck_id}: {exc}"
            ) from None

    def _check(self, scratch: str) -> core.Verdict:
        facts = self._facts()
        conn = pgnode.connect(self.spec.target, scratch, APPLICATION_NAME)
        try:
            present = {(t["schema"], t["name"]) for t in nodefacts.tables(conn)}
            if facts is None:
                return core.toc_only_verdict(self._toc_data_entries(), len(present))
            restored: dict[core.Key, core.RestoredTable] = {}
            for t in facts.tables:
                if t.key not in present:
                    continue
                self.checkpoint()
                if not facts.data_expected:
                    restored[t.key] = core.RestoredTable()
                elif t.rows is not None:
                    restored[t.key] = core.RestoredTable(
                        rows=nodefacts.count_rows(conn, *t.key)
                    )
                else:
                    restored[t.key] = core.RestoredTable(
                        has_rows=nodefacts.has_rows(conn, *t.key)
                    )
        finally:
            conn.close()
        return core.compare(facts, restored, self.job.excluded_tables)

    def _toc_data_entries(self) -> int:
        res = proc.run(
            argvmod.pg_restore_list_argv(self.bindir, str(self.spec.pg_dump_file)),
            stderr=self.runlog.fh,
        )
        if not res.ok:
            raise RestoreError(f"Listing the archive failed: {res.describe()}")
        return len(tablefilter.toc_table_data(res.stdout))

    # -- the result -----------------------------------------------------------------------
    def drill_record(self, finished: _dt.datetime) -> dict[str, Any]:
        """The restore_drill_run record (catalog/jobs.DRILL_FIELDS) of this run."""
        s, o = self.spec, self.outcome
        return drill_record(
            self.job,
            self.cfg,
            started=self.started,
            finished=finished,
            status=o.status,
            error=o.error_message,
            run_uuid=self.run_uuid,
            bck_id=s.bck_id,
            checks=self.checks,
            roles_created=self.roles_created,
            log_file=o.log_file,
        )


def drill_record(
    job: DrillJob,
    cfg: Config,
    *,
    started: _dt.datetime,
    finished: _dt.datetime,
    status: str,
    error: str | None,
    run_uuid: str,
    bck_id: int | None = None,
    checks: list[str] | None = None,
    roles_created: list[str] | None = None,
    log_file: str | None = None,
) -> dict[str, Any]:
    """A restore_drill_run record; also for a drill that found nothing to restore."""
    return {
        "drill_id": job.drill_id,
        "def_id": job.def_id,
        "bck_id": bck_id,
        "server_id": job.server_id,
        "drill_node_id": job.drill_node_id,
        "procpid": os.getpid(),
        "dbname": job.dbname,
        "scratch_dbname": scratch_dbname(job.drill_id),
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "duration": (finished - started).total_seconds(),
        "execution_status": status,
        "checks": checks or [],
        "roles_created": roles_created or [],
        "error_message": error,
        "drill_log_file": log_file,
        "global_log_file": cfg.logging.log_file,
        "run_uuid": run_uuid,
    }
