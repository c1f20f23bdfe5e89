"""pgbackman_dump: take one backup — ``--def-id N`` (cron) or ``--snapshot-id N`` (at).

Everything else comes from the catalog, or from the local cache when the catalog is down
(INTERFACES.md). The work is done by :mod:`pgbackman.backup`; this module parses the command
line, installs the signal handlers, takes the per-job lock and maps the result to an exit
status (0 success, 1 failure, 2 bad usage).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import os
import sys

from pgbackman.backup import job as jobmod
from pgbackman.run import clients
from pgbackman.backup.runner import DumpRun
from pgbackman.catalog import alerts, jobs
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.core import validate
from pgbackman.errors import LockBusyError, PgBackManError, UserInputError
from pgbackman.infra.locking import JobLock
from pgbackman.log import setup_logging
from pgbackman.infra.daemon import SignalFlags
from pgbackman.programs.frame import ProgramArgumentParser
from pgbackman.programs.jobmain import (
    check_partition,
    job_main,
    register_or_spool,
    say_failure,
)
from pgbackman.run.timeout import RunTimeout

PROGRAM = "pgbackman_dump"
DEFAULT_BACKUP_TIMEOUT = "1 day"  # as sql/schema/03_default_config.sql
log = logging.getLogger(PROGRAM)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ProgramArgumentParser(prog=PROGRAM, description="Take one PgBackMan backup.")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--def-id", type=int, metavar="N", help="backup definition (cron jobs)"
    )
    g.add_argument(
        "--snapshot-id", type=int, metavar="N", help="snapshot definition (at jobs)"
    )
    p.add_config_option()
    ns = p.parse_args(argv)
    p.require_positive(ns, "def_id", "snapshot_id")
    return ns


def main(argv: list[str] | None = None) -> int:
    return job_main(
        PROGRAM,
        argv,
        parse_args,
        _body,
        subject=lambda ns: jobmod.job_label(ns.def_id, ns.snapshot_id),
    )


def _body(cfg: Config, ns: argparse.Namespace, stop: SignalFlags) -> int:
    warning = clients.pgpass_warning()
    if warning:
        log.warning("%s", warning)
    return run_job(cfg, ns.def_id, ns.snapshot_id, stop)


def run_job(
    cfg: Config, def_id: int | None, snapshot_id: int | None, stop: SignalFlags
) -> int:
    """Take one backup (a definition's or a snapshot's) and record it; the exit status.
    Also the first step of a clone (programs/clone.py)."""
    started = _dt.datetime.now(_dt.timezone.utc)
    cat = Catalog(cfg.database, application_name=PROGRAM)
    try:
        spec = jobmod.resolve(cfg, cat, def_id, snapshot_id)
        setup_logging(cfg, PROGRAM, node=spec.node_fqdn, dbname=spec.dbname or None)
        check_partition(PROGRAM, cfg, cat, spec.server_id, spec.node_id, spec.partition)
        run = DumpRun(cfg, spec, started)
        run.prepare_dirs()
        # The catalog's root wins (DESIGN.md); the config's when the spec came without one.
        root = spec.root or cfg.backup_server.root_backup_partition
        who = f"{PROGRAM}: {spec.description}"
        lock = JobLock.for_job(spec.partition, def_id, snapshot_id)
        try:
            lock.acquire()
        except LockBusyError as exc:
            message = (
                f"{spec.description}: the previous run is still going ({exc}); "
                "this run was skipped (locked)"
            )
            log.warning("%s", message)
            _locked_alert(cat, spec, root, message)
            say_failure(f"{who} failed: already running (locked, skipped): {exc}")
            return 1
        watchdog = RunTimeout(
            run,
            _timeout_seconds(spec),
            spec.description,
            on_abandon=lambda: _abandon(cfg, run, root, who),
        )
        try:
            if lock.fileno is not None:
                run.keep_fds = (lock.fileno,)
            watchdog.start()
            if not spec.from_cache:
                _end_locked_episode(cat, spec)
            run.sweep()
            stop.attach(run)
            run.execute()
            stop.detach()
            with watchdog.finishing():
                record = run.record(_dt.datetime.now(_dt.timezone.utc))
                return register_or_spool(
                    "backup",
                    record,
                    root,
                    lambda r: jobs.register_backup_catalog(cat, r),
                    who=who,
                    kept=record.get("pg_dump_file"),
                )
        finally:
            watchdog.stop()
            lock.release()
    finally:
        cat.close()


def _timeout_seconds(spec: jobmod.JobSpec) -> float:
    """The node's backup_timeout in seconds (its default when unset or unreadable)."""
    value = spec.node_config.get("backup_timeout") or DEFAULT_BACKUP_TIMEOUT
    try:
        return validate.interval_seconds(validate.backup_timeout(value))
    except UserInputError as exc:
        log.warning("%s; using %s", exc, DEFAULT_BACKUP_TIMEOUT)
        return validate.interval_seconds(DEFAULT_BACKUP_TIMEOUT)


def _abandon(cfg: Config, run: DumpRun, root: str, who: str) -> None:
    """The run did not end after its timeout: record its ERROR from the watchdog thread
    (own catalog connection) and end the process (run/timeout.py)."""
    try:
        run.abandon(
            f"{run.timed_out}; the run did not end and was abandoned by its watchdog"
        )
        record = run.record(_dt.datetime.now(_dt.timezone.utc))
        cat = Catalog(cfg.database, application_name=PROGRAM)
        register_or_spool(
            "backup",
            record,
            root,
            lambda r: jobs.register_backup_catalog(cat, r),
            who=who,
        )
    finally:
        logging.shutdown()
        os._exit(1)


def _episode(spec: jobmod.JobSpec) -> str:
    if spec.def_id is not None:
        return f"locked:def:{spec.def_id}"
    return f"locked:snapshot:{spec.snapshot_id}"


def _locked_alert(cat: Catalog, spec: jobmod.JobSpec, root: str, message: str) -> None:
    """A run that finds its job locked says so in an alert row (once per episode), so a
    stuck job is visible instead of only "locked, skipped" in a log nobody reads."""
    alert = alerts.Alert(
        alerts.LOCKED,
        server_id=spec.server_id,
        message=message,
        node_id=spec.node_id,
        dbname=spec.dbname or None,
        ref_id=spec.def_id if spec.def_id is not None else spec.snapshot_id,
        episode_key=_episode(spec),
    )
    try:
        alerts.raise_or_spool(cat, root, alert)
    except (PgBackManError, OSError) as exc:
        log.error("Cannot raise the %s alert: %s", alerts.LOCKED, exc)


def _end_locked_episode(cat: Catalog, spec: jobmod.JobSpec) -> None:
    """This run holds the lock: a locked-job episode of this job is over."""
    try:
        alerts.end_episode(cat, _episode(spec))
    except PgBackManError as exc:
        log.warning("Cannot close the locked-job alert episode: %s", exc)


if __name__ == "__main__":
    sys.exit(main())
