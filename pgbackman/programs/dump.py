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
import signal
import sys
from types import FrameType

from pgbackman.backup import job as jobmod
from pgbackman.backup import tools
from pgbackman.backup.runner import DumpRun
from pgbackman.catalog import jobs
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.errors import (
    CatalogUnavailableError,
    LockBusyError,
    PgBackManError,
    UsageError,
    exit_code_for,
)
from pgbackman.infra import spool
from pgbackman.infra.locking import JobLock
from pgbackman.log import setup_logging

PROGRAM = "pgbackman_dump"
log = logging.getLogger(PROGRAM)


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = _ArgumentParser(prog=PROGRAM, description="Take one PgBackMan backup.")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--def-id", type=int, metavar="N", help="backup definition (cron jobs)")
    g.add_argument("--snapshot-id", type=int, metavar="N", help="snapshot definition (at jobs)")
    p.add_argument("--config", metavar="FILE", help="configuration file")
    ns = p.parse_args(argv)
    for name in ("def_id", "snapshot_id"):
        v = getattr(ns, name)
        if v is not None and v <= 0:
            raise UsageError(f"{PROGRAM}: --{name.replace('_', '-')} must be a positive integer")
    return ns


class _Stop:
    """Signal flag for the phase before the run object exists, then forwarded to it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.run: DumpRun | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.run is not None:
            self.run.request_stop(signum)
        elif self.signum is None:
            self.signum = signum


def main(argv: list[str] | None = None) -> int:
    # Dumps hold data and password hashes: 0600/0700 whatever umask cron or at gave us.
    os.umask(0o077)
    try:
        ns = parse_args(argv)
        cfg = Config.load(ns.config)
    except PgBackManError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except SystemExit as exc:  # --help
        return exit_code_for(exc)
    setup_logging(cfg, PROGRAM)
    warning = tools.pgpass_warning()
    if warning:
        log.warning("%s", warning)
    stop = _Stop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        return _run(cfg, ns.def_id, ns.snapshot_id, stop)
    except PgBackManError as exc:
        log.error("%s", exc)
        print(f"ERROR: {exc}", file=sys.stderr)
        return exit_code_for(exc)


def _run(cfg: Config, def_id: int | None, snapshot_id: int | None, stop: _Stop) -> int:
    started = _dt.datetime.now(_dt.timezone.utc)
    cat = Catalog(cfg.database, application_name=PROGRAM)
    try:
        spec = jobmod.resolve(cfg, cat, def_id, snapshot_id)
        setup_logging(cfg, PROGRAM, node=spec.node_fqdn, dbname=spec.dbname or None)
        run = DumpRun(cfg, spec, started)
        run.prepare_dirs()
        lock = JobLock.for_job(spec.partition, def_id, snapshot_id)
        try:
            lock.acquire()
        except LockBusyError as exc:
            log.warning("%s: another run of %s is in progress; locked, skipped", exc, spec.label)
            print(f"ERROR: {spec.label} is already running (locked, skipped)", file=sys.stderr)
            return 1
        try:
            run.sweep()
            stop.run = run
            if stop.signum is not None:
                run.request_stop(stop.signum)
            run.execute()
            stop.run = None
            record = run.record(_dt.datetime.now(_dt.timezone.utc))
            return _register(cat, spec, record, cfg.backup_server.root_backup_partition)
        finally:
            lock.release()
    finally:
        cat.close()


def _register(cat: Catalog, spec: jobmod.JobSpec, record: dict[str, object], root: str) -> int:
    ok = record["execution_status"] == "SUCCEEDED"
    try:
        bck_id = jobs.register_backup_catalog(cat, record)
        log.info("Result %s registered in the catalog as BckID %s", record["execution_status"], bck_id)
        return 0 if ok else 1
    except PgBackManError as exc:
        # The catalog's root wins (DESIGN.md); the config's when the spec came without one.
        path = spool.write_pending(spec.root or root, "backup", record)
        if isinstance(exc, CatalogUnavailableError):
            log.warning("%s; result %s spooled to %s (ingested later by pgbackman_maintenance)",
                        exc, record["execution_status"], path)
            return 0 if ok else 1
        log.error("The catalog refused the result (%s); spooled to %s", exc, path)
        return 1


if __name__ == "__main__":
    sys.exit(main())
