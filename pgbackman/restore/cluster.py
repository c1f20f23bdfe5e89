"""CLUSTER restores: a ``pg_dumpall`` file (gzip) replayed by ``psql`` on the target node.

The file is decompressed in Python and fed to psql's stdin (no shell pipe, so psql's own exit
status counts; psql runs with ``ON_ERROR_STOP=1``).

Chosen behaviour, kept deliberately simple and honest:

* The target node must have NO user databases (only postgres/template0/template1): a cluster
  restore creates every database of the source, and a name collision would stop it half-way.
  It is refused before anything is changed otherwise.
* Roles that already exist on the target (at least the admin role) would make pg_dumpall's
  ``CREATE ROLE`` fail: those ``CREATE ROLE`` lines are skipped (globals section only, see
  :class:`pgbackman.restore.plan.ClusterStreamFilter`); the ``ALTER ROLE ... WITH ...`` that
  follows still gives them the source's attributes (and password hash), as a pg_dumpall
  restore normally does.
* On failure, the databases and roles that did not exist before the run are dropped again
  (best effort; objects restored into the existing ``postgres``/``template1`` databases
  before the failure stay and are named in the log).

``target_dbname``, ``renamed_dbname`` and ``roles_to_restore`` do not apply to a cluster.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from pgbackman.errors import PgBackManError, RestoreError
from pgbackman.infra import proc
from pgbackman.pgnode import restore as rnode
from pgbackman.restore import plan
from pgbackman.restore.spec import RestoreSpec
from pgbackman.run import clients

log = logging.getLogger(__name__)
CHUNK = 1 << 20

CleanupHook = Callable[[Any], list[str]]


class ClusterRun(Protocol):
    """What a cluster restore needs from the run (``restore.runner.RestoreRun`` has it);
    a protocol, so that this module does not import the runner that calls it."""

    spec: RestoreSpec
    conn: Any
    bindir: str
    target_version_num: int

    @property
    def runlog(self) -> clients.RunLog: ...

    def env(self, dbname: str | None = None) -> dict[str, str]: ...

    def checkpoint(self) -> None: ...

    def failure(self, res: proc.Result, offset: int) -> str: ...

    def add_cleanup(self, hook: CleanupHook) -> None: ...

    def remove_cleanup(self, hook: CleanupHook) -> None: ...


def _all_databases(conn: Any) -> set[str]:
    return set(rnode.user_databases(conn))


def restore_cluster(run: ClusterRun) -> list[str]:
    """Replay the cluster dump; return the roles it created."""
    s = run.spec
    conn = run.conn
    if s.renamed_dbname:
        log.warning(
            "Renamed DBname %r ignored: a CLUSTER backup restores whole databases",
            s.renamed_dbname,
        )
    if s.roles_to_restore:
        log.warning(
            "Roles to restore ignored: a CLUSTER backup restores every role it holds"
        )
    existing_dbs = _all_databases(conn)
    if existing_dbs:
        shown = ", ".join(sorted(existing_dbs)[:10])
        raise RestoreError(
            f"A CLUSTER backup is restored only into a PgSQL node without user "
            f"databases; {s.target} has: {shown}"
        )
    roles_before = rnode.role_names(conn)
    filt = plan.ClusterStreamFilter(roles_before)

    def undo(c: Any) -> list[str]:
        return _undo(c, run, roles_before)

    run.add_cleanup(undo)
    path = str(s.pg_dump_file)
    argv = plan.psql_argv(run.bindir)
    env = run.env("postgres")
    run.runlog.fh.flush()
    offset = run.runlog.header(argv, env)
    log.info("Replaying the cluster dump %s with psql", path)
    res = proc.run_feeding(
        argv,
        filt.filter(_chunks(run, path)),
        env=proc.child_env(env),
        stdout=run.runlog.fh,
        stderr=run.runlog.fh,
    )
    run.checkpoint()
    if filt.skipped:
        log.info(
            "Existing roles kept (CREATE skipped, attributes applied): %s",
            ", ".join(filt.skipped),
        )
    if not res.ok:
        raise RestoreError(run.failure(res, offset))
    run.remove_cleanup(undo)
    log.info(
        "Cluster restored: databases %s",
        ", ".join(sorted(_all_databases(conn))) or "none",
    )
    return sorted(filt.created)


def _chunks(run: ClusterRun, path: str) -> Iterator[bytes]:
    # PgBackMan 1.x wrote a plain .sql file when /bin/gzip was missing.
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            while True:
                run.checkpoint()
                chunk = fh.read(CHUNK)
                if not chunk:
                    return
                yield chunk
    except (OSError, EOFError) as exc:
        raise RestoreError(f"Cannot read the cluster dump {path}: {exc}") from None


def _undo(conn: Any, run: ClusterRun, roles_before: set[str]) -> list[str]:
    notes: list[str] = []
    try:
        new_dbs = sorted(_all_databases(conn))
    except PgBackManError as exc:
        return [f"Cleanup impossible: {exc}"]
    for db in new_dbs:
        try:
            rnode.drop_database(conn, db, force=run.target_version_num >= 130000)
            log.info("Database %r created by this run dropped", db)
        except PgBackManError as exc:
            log.error("%s", exc)
            notes.append(f"Database {db!r} created by this run remains.")
    try:
        new_roles = sorted(rnode.role_names(conn) - roles_before)
    except PgBackManError as exc:
        return [*notes, f"Cleanup of roles impossible: {exc}"]
    notes += rnode.drop_roles(conn, new_roles)
    if new_dbs or new_roles:
        notes.append(
            "Databases and roles created by the failed cluster restore were dropped."
        )
    return notes
