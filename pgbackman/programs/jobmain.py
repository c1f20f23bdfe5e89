"""What pgbackman_dump and pgbackman_restore share as programs started by cron or at.

The frame of ``main()`` (private umask, configuration, logging, signal flag, error to exit
status), argparse that raises UsageError (exit 2) instead of exiting, the signal flag that is
forwarded to the run once it exists, and the final "record the result in the catalog, or
spool it for pgbackman_maintenance when the catalog is unreachable" step.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from pgbackman.config import Config
from pgbackman.errors import (
    CatalogUnavailableError,
    PgBackManError,
    UsageError,
    exit_code_for,
)
from pgbackman.infra import spool
from pgbackman.log import setup_logging

log = logging.getLogger(__name__)


class JobArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are UsageError (exit 2 through errors.exit_code_for)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def positive(program: str, ns: argparse.Namespace, *names: str) -> None:
    """Refuse ids that are not positive integers."""
    for name in names:
        v = getattr(ns, name)
        if v is not None and v <= 0:
            raise UsageError(
                f"{program}: --{name.replace('_', '-')} must be a positive integer"
            )


class Stoppable(Protocol):
    def request_stop(self, signum: int) -> None: ...


class StopFlag:
    """Signal handler: remembers the first signal until the run exists, then forwards it.

    Handlers only set flags; the run stops its child program and records one ERROR.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.run: Stoppable | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.run is not None:
            self.run.request_stop(signum)
        elif self.signum is None:
            self.signum = signum

    def attach(self, run: Stoppable) -> None:
        self.run = run
        if self.signum is not None:
            run.request_stop(self.signum)

    def detach(self) -> None:
        self.run = None


def job_main(
    program: str,
    argv: list[str] | None,
    parse: Callable[[list[str] | None], argparse.Namespace],
    body: Callable[[Config, argparse.Namespace, StopFlag], int],
) -> int:
    """Run ``body`` with the configuration, logging and signal handling of a job program."""
    # Dumps, logs and roles files hold data and password hashes: 0600/0700 whatever umask
    # cron or at gave us (files are also chmod-ed explicitly).
    os.umask(0o077)
    try:
        ns = parse(argv)
        cfg = Config.load(ns.config)
    except PgBackManError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except SystemExit as exc:  # --help
        return exit_code_for(exc)
    setup_logging(cfg, program)
    if os.environ.pop("PGPASSWORD", None) is not None:
        # Children never get it (infra/proc.child_env); dropping it here too keeps our own
        # node connections consistent with pg_dump/pg_restore instead of half-working.
        logging.getLogger(program).warning(
            "PGPASSWORD is set and ignored: give passwords in a .pgpass file (PGPASSFILE)"
        )
    stop = StopFlag()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        return body(cfg, ns, stop)
    except PgBackManError as exc:
        logging.getLogger(program).error("%s", exc)
        print(f"ERROR: {exc}", file=sys.stderr)
        return exit_code_for(exc)


def register_or_spool(
    kind: str,
    record: Mapping[str, Any],
    root: str | Path,
    register: Callable[[Mapping[str, Any]], int],
) -> int:
    """Record a result; spool it when the catalog cannot take it. Returns the exit status.

    A result spooled because the catalog is unreachable keeps its own status (a good backup
    taken while the catalog was down is a success); one the catalog refused is a failure.
    """
    ok = record["execution_status"] == "SUCCEEDED"
    if not ok:
        # cron/at mail whatever a job prints: the operator sees why without opening the log.
        print(
            f"ERROR: {record.get('error_message') or 'failed (see the log)'}",
            file=sys.stderr,
        )
    try:
        ident = register(record)
        log.info(
            "Result %s registered in the catalog (%s id %s)",
            record["execution_status"],
            kind,
            ident,
        )
        return 0 if ok else 1
    except PgBackManError as exc:
        path = spool.write_pending(root, kind, dict(record))
        if isinstance(exc, CatalogUnavailableError):
            log.warning(
                "%s; result %s spooled to %s (ingested later by pgbackman_maintenance)",
                exc,
                record["execution_status"],
                path,
            )
            return 0 if ok else 1
        log.error("The catalog refused the result (%s); spooled to %s", exc, path)
        return 1
