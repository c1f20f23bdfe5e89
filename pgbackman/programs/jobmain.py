"""What pgbackman_dump and pgbackman_restore share as programs started by cron or at.

The frame of ``main()`` (private umask, configuration, logging, signal flags forwarded to
the run once it exists, error to exit status), and the final "record the result in the
catalog, or spool it for pgbackman_maintenance when the catalog is unreachable" step.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pgbackman.config import Config
from pgbackman.errors import (
    CatalogUnavailableError,
    PgBackManError,
)
from pgbackman.infra import spool
from pgbackman.infra.daemon import SignalFlags
from pgbackman.log import setup_logging
from pgbackman.programs.frame import run_main

log = logging.getLogger(__name__)


def job_main(
    program: str,
    argv: list[str] | None,
    parse: Callable[[list[str] | None], argparse.Namespace],
    body: Callable[[Config, argparse.Namespace, SignalFlags], int],
) -> int:
    """Run ``body`` with the configuration, logging and signal handling of a job program."""
    # Dumps, logs and roles files hold data and password hashes: 0600/0700 whatever umask
    # cron or at gave us (files are also chmod-ed explicitly).
    os.umask(0o077)

    def job(cfg: Config, ns: argparse.Namespace) -> int:
        setup_logging(cfg, program)
        if os.environ.pop("PGPASSWORD", None) is not None:
            # Children never get it (infra/proc.child_env); dropping it here too keeps our
            # own node connections consistent with pg_dump/pg_restore.
            logging.getLogger(program).warning(
                "PGPASSWORD is set and ignored: give passwords in a .pgpass file (PGPASSFILE)"
            )
        # Every signal is a stop (SIGHUP too: the terminal of a manual run went away); it is
        # forwarded to the run once that exists, which stops its child and records one ERROR.
        stop = SignalFlags(hup_reloads=False)
        stop.install()
        return body(cfg, ns, stop)

    return run_main(program, argv, parse, job, error_prefix="ERROR: ")


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
