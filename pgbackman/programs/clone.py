"""``pgbackman_restore --clone N``: one clone, as one job (the at job pgbackman_control
queues at the clone's AT time; a test or a person may run it directly).

Two existing runs, one after the other, nothing of their own: a FULL snapshot of the source
database taken now (the dump run of ``pgbackman_dump --snapshot-id``, in this process:
:func:`pgbackman.programs.dump.run_job`), then an ordinary restore definition of that
snapshot onto the target, run by :func:`pgbackman.programs.restore.run_restore`. So the
clone shows in ``show_restore_catalog`` like any restore, its snapshot stays in the catalog
like any snapshot (and expires with its retention period), and a failed snapshot is recorded
as a failed restore of it (status ERROR, Restore-def alert), next to the snapshot's own
Snapshot-def alert. Only a snapshot that left no result in the catalog (spooled while the
catalog was down) ends the clone before its restore: said in the clone row, an alert and
the one stderr line. Exit status: 0 when the clone restored, 1 otherwise.
"""

from __future__ import annotations

import logging

from pgbackman.catalog import alerts, clones, servers
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.errors import PgBackManError, UserInputError
from pgbackman.infra.daemon import SignalFlags
from pgbackman.log import setup_logging
from pgbackman.programs.jobmain import say_failure

PROGRAM = "pgbackman_restore"
log = logging.getLogger(PROGRAM)


def run_clone(cfg: Config, clone_id: int, stop: SignalFlags) -> int:
    from pgbackman.programs.dump import run_job
    from pgbackman.programs.restore import run_restore

    cat = Catalog(cfg.database, application_name=PROGRAM)
    try:
        c = clones.get(cat, clone_id)
        if c is None:
            raise UserInputError(f"Clone {clone_id} does not exist in the catalog")
        server_id = int(c["backup_server_id"])
        mine = servers.server_id_by_fqdn(cat, cfg.backup_server.fqdn)
        if mine is not None and mine != server_id:
            raise UserInputError(
                f"Clone {clone_id} belongs to backup server {server_id}, not to this one "
                f"({cfg.backup_server.fqdn}, {mine}): not run"
            )
        setup_logging(
            cfg, PROGRAM, node=str(c["source_node"]), dbname=c["source_dbname"]
        )
        snapshot_id = clones.start_snapshot(cat, clone_id)
        log.info(
            "Clone %s: snapshot %s of database %r on %s, to be restored as %r on %s",
            clone_id,
            snapshot_id,
            c["source_dbname"],
            c["source_node"],
            c["target_dbname"],
            c["target_node"],
        )
        run_job(cfg, None, snapshot_id, stop)
        bck = clones.snapshot_backup(cat, snapshot_id)
        if bck is None:
            return _no_snapshot(cfg, cat, c, clone_id, snapshot_id)
        restore_def = clones.define_restore(cat, clone_id, int(bck["bck_id"]))
        setup_logging(
            cfg, PROGRAM, node=str(c["target_node"]), dbname=c["target_dbname"]
        )
        log.info(
            "Clone %s: backup %s (%s) restored by restore definition %s",
            clone_id,
            bck["bck_id"],
            bck["execution_status"],
            restore_def,
        )
        return run_restore(cfg, restore_def, stop)
    finally:
        cat.close()


def _no_snapshot(
    cfg: Config, cat: Catalog, c: dict[str, object], clone_id: int, snapshot_id: int
) -> int:
    message = (
        f"Clone {clone_id}: snapshot {snapshot_id} of database {c['source_dbname']!r} left "
        f"no result in the catalog (see {cfg.logging.log_file}); nothing restored"
    )
    log.error("%s", message)
    root = cfg.backup_server.root_backup_partition
    try:
        clones.record_error(cat, clone_id, message)
    except PgBackManError as exc:
        log.error("Cannot record the clone's error: %s", exc)
    try:
        alerts.raise_or_spool(
            cat,
            root,
            alerts.Alert(
                alerts.RESTORE_FAILED,
                server_id=int(str(c["backup_server_id"])),
                message=message,
                node_id=int(str(c["target_pgsql_node_id"])),
                dbname=str(c["target_dbname"]),
            ),
        )
    except (PgBackManError, OSError) as exc:
        log.error("Cannot raise the %s alert: %s", alerts.RESTORE_FAILED, exc)
    say_failure(f"{PROGRAM}: clone {clone_id} failed: {message}")
    return 1
