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
import sys

from pgbackman.backup import job as jobmod
from pgbackman.run import clients
from pgbackman.backup.runner import DumpRun
from pgbackman.catalog import jobs
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.errors import LockBusyError
from pgbackman.infra.locking import JobLock
from pgbackman.log import setup_logging
from pgbackman.infra.daemon import SignalFlags
from pgbackman.programs.frame import ProgramArgumentParser
from pgbackman.programs.jobmain import job_main, register_or_spool

PROGRAM = "pgbackman_dump"
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
    return job_main(PROGRAM, argv, parse_args, _body)


def _body(cfg: Config, ns: argparse.Namespace, stop: SignalFlags) -> int:
    warning = clients.pgpass_warning()
    if warning:
        log.warning("%s", warning)
    return _run(cfg, ns.def_id, ns.snapshot_id, stop)


def _run(
    cfg: Config, def_id: int | None, snapshot_id: int | None, stop: SignalFlags
) -> int:
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
            log.warning(
                "%s: another run of %s is in progress; locked, skipped", exc, spec.label
            )
            print(
                f"ERROR: {spec.label} is already running (locked, skipped)",
                file=sys.stderr,
            )
            return 1
        try:
            run.sweep()
            stop.attach(run)
            run.execute()
            stop.detach()
            record = run.record(_dt.datetime.now(_dt.timezone.utc))
            # The catalog's root wins (DESIGN.md); the config's when the spec came without one.
            root = spec.root or cfg.backup_server.root_backup_partition
            return register_or_spool(
                "backup", record, root, lambda r: jobs.register_backup_catalog(cat, r)
            )
        finally:
            lock.release()
    finally:
        cat.close()


if __name__ == "__main__":
    sys.exit(main())
