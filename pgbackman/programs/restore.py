"""pgbackman_restore: run one restore — ``--restore-def N`` (started by the at job that
pgbackman_control queues).

Everything else comes from the catalog (the definition, the backup, the target node). The
work is done by :mod:`pgbackman.restore`; this module parses the command line, installs the
signal handlers and records the result: in ``restore_catalog``, or as a pending file when
the catalog is unreachable at the end (ingested later by pgbackman_maintenance).
Exit status: 0 SUCCEEDED (also when the result was spooled), 1 otherwise, 2 bad usage.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from pgbackman.catalog import restorejobs
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.errors import (
    CatalogUnavailableError,
    PgBackManError,
    UsageError,
    exit_code_for,
)
from pgbackman.infra import spool
from pgbackman.log import setup_logging
from pgbackman.restore import spec as specmod
from pgbackman.restore.runner import APPLICATION_NAME, RestoreRun

PROGRAM = "pgbackman_restore"
log = logging.getLogger(PROGRAM)


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = _ArgumentParser(prog=PROGRAM, description="Run one PgBackMan restore definition.")
    p.add_argument("--restore-def", type=int, metavar="N", required=True,
                   help="restore definition to run")
    p.add_argument("--config", metavar="FILE", help="configuration file")
    ns = p.parse_args(argv)
    if ns.restore_def <= 0:
        raise UsageError(f"{PROGRAM}: --restore-def must be a positive integer")
    return ns


class _Stop:
    """Signal flag for the phase before the run object exists, then forwarded to it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.run: RestoreRun | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.run is not None:
            self.run.request_stop(signum)
        elif self.signum is None:
            self.signum = signum


def main(argv: list[str] | None = None) -> int:
    # Restore logs may quote data: 0600/0700 whatever umask at gave us.
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
    stop = _Stop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        return run_restore(cfg, ns.restore_def, stop)
    except PgBackManError as exc:
        log.error("%s", exc)
        print(f"ERROR: {exc}", file=sys.stderr)
        return exit_code_for(exc)


def run_restore(cfg: Config, restore_def: int, stop: _Stop | None = None) -> int:
    started = _dt.datetime.now(_dt.UTC)
    cat = Catalog(cfg.database, application_name=APPLICATION_NAME)
    try:
        spec = specmod.resolve(cfg, cat, restore_def)
        setup_logging(cfg, PROGRAM, node=spec.target_fqdn, dbname=spec.target_dbname)
        run = RestoreRun(cfg, spec, started)
        if stop is not None:
            stop.run = run
            if stop.signum is not None:
                run.request_stop(stop.signum)
        outcome = run.execute()
        if stop is not None:
            stop.run = None
        record = run.record(_dt.datetime.now(_dt.UTC))
        if outcome.status != "SUCCEEDED":
            print(f"ERROR: {outcome.error_message}", file=sys.stderr)
        return register(cat, record, spec.root or cfg.backup_server.root_backup_partition)
    finally:
        cat.close()


def register(cat: Catalog, record: dict[str, Any], root: str | Path) -> int:
    """Record the result; spool it when the catalog is unreachable. Returns the exit status."""
    ok = record["execution_status"] == "SUCCEEDED"
    try:
        restore_id = restorejobs.record_restore(cat, record)
        log.info("Result %s registered in the catalog as RestoreID %s",
                 record["execution_status"], restore_id)
        return 0 if ok else 1
    except PgBackManError as exc:
        path = spool.write_pending(root, "restore", record)
        if isinstance(exc, CatalogUnavailableError):
            log.warning("%s; result %s spooled to %s (ingested later by pgbackman_maintenance)",
                        exc, record["execution_status"], path)
            return 0 if ok else 1
        log.error("The catalog refused the result (%s); spooled to %s", exc, path)
        return 1


if __name__ == "__main__":
    sys.exit(main())
