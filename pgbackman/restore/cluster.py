"""CLUSTER restores: a ``pg_dumpall`` file replayed by ``psql`` on the target node.

The file is decrypted when the backup is encrypted (age, with this server's identity file:
restore/decrypt.py), decompressed in Python whatever its method (gzip, zstd, lz4 or none,
recognised by its magic bytes: archive/compress.py) and fed to psql's stdin (no shell pipe,
so psql's own exit status counts; psql runs with ``ON_ERROR_STOP=1``), with no plaintext copy
on disk. The stream must end with pg_dumpall's completion trailer, or the restore fails and
is undone.

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

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from pgbackman.archive import compress
from pgbackman.archive.crypt import DecryptingReader
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
    identities: list[Any]  # age identities when the backup is encrypted

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
    """The plaintext SQL of the dump, chunk by chunk; RestoreError when it cannot be read
    (decryption, decompression) or does not end with pg_dumpall's trailer. The method is
    recognised by its magic bytes: PgBackMan 1.x's plain .sql files (written when
    /bin/gzip was missing) are read as they are."""
    tail = b""
    try:
        raw: Any = (
            DecryptingReader(Path(path), run.identities)
            if run.spec.encrypted
            else open(path, "rb")
        )
        try:
            method, stream = compress.open_reader(raw)
            log.info(
                "Cluster dump stream: %s%s",
                "age, " if run.spec.encrypted else "",
                method,
            )
            while True:
                run.checkpoint()
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                tail = (tail + chunk)[-compress.TAIL :]
                yield chunk
        finally:
            raw.close()
    except compress.read_errors as exc:
        raise RestoreError(f"Cannot read the cluster dump {path}: {exc}") from None
    if compress.CLUSTER_TRAILER not in tail:
        raise RestoreError(
            f"The cluster dump {path} is incomplete (no pg_dumpall completion trailer)"
        )


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
