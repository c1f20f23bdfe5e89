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

from pgbackman.catalog import alerts
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.core import authority
from pgbackman.errors import (
    CatalogUnavailableError,
    ConfigRefusedError,
    PgBackManError,
)
from pgbackman.infra import spool
from pgbackman.core.text import printable
from pgbackman.infra.daemon import SignalFlags
from pgbackman.log import setup_logging
from pgbackman.programs.frame import run_main

log = logging.getLogger(__name__)


def say_failure(text: str) -> None:
    """The one stderr line of a failed run (cron/at mail whatever a job prints, so the
    operator learns which job failed and why without opening the log)."""
    print(printable(" ".join(text.split("\n"))), file=sys.stderr, flush=True)


def job_main(
    program: str,
    argv: list[str] | None,
    parse: Callable[[list[str] | None], argparse.Namespace],
    body: Callable[[Config, argparse.Namespace, SignalFlags], int],
    subject: Callable[[argparse.Namespace], str] = lambda ns: "",
) -> int:
    """Run ``body`` with the configuration, logging and signal handling of a job program.

    ``subject(ns)`` names the job ("backup definition 12") in the one stderr line printed
    when the run fails before it produced a result of its own.
    """
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
        try:
            return body(cfg, ns, stop)
        except PgBackManError:
            raise
        except Exception as exc:  # one line for cron, the traceback in the log
            logging.getLogger(program).exception("Unexpected error")
            say_failure(
                f"{who(ns)} failed: internal error {type(exc).__name__}: {exc} "
                f"(traceback in {cfg.logging.log_file})"
            )
            return 1

    def who(ns: argparse.Namespace) -> str:
        return f"{program}: {subject(ns)}" if subject(ns) else program

    return run_main(
        program, argv, parse, job, error_prefix=lambda ns: f"{who(ns)} failed: "
    )


def check_partition(
    program: str,
    cfg: Config,
    cat: Catalog,
    server_id: int,
    node_id: int,
    partition: Path,
) -> None:
    """Jobs write only inside the local root_backup_partition, as pgbackman_control does:
    a partition elsewhere is refused (ConfigRefusedError), logged and alerted once."""
    root = cfg.backup_server.root_backup_partition
    try:
        authority.check_partition("pgnode_backup_partition", str(partition), root)
    except ConfigRefusedError as exc:
        alerts.raise_or_spool(
            cat,
            root,
            alerts.Alert(
                alert_type=alerts.CONFIG_REFUSED,
                server_id=server_id,
                node_id=node_id,
                message=f"{program} on {cfg.backup_server.fqdn}, PgSQL node {node_id}: {exc}",
                episode_key=f"config:node:{node_id}:pgnode_backup_partition",
            ),
        )
        raise


def register_or_spool(
    kind: str,
    record: Mapping[str, Any],
    root: str | Path,
    register: Callable[[Mapping[str, Any]], int],
    who: str = "",
    kept: str | None = None,
) -> int:
    """Record a result; spool it when the catalog cannot take it. Returns the exit status.

    A result spooled because the catalog is unreachable keeps its own status (a good backup
    taken while the catalog was down is a success); one the catalog refused is a failure,
    and so is a result that can be neither registered nor spooled (e.g. the spool directory
    is unusable): its files (``kept``) stay where they are and the one stderr line says so.
    A failed run or a result that is not recorded prints exactly one line, ``who`` (the
    program and the job) first.
    """
    ok = record["execution_status"] == "SUCCEEDED"
    problem: str | None = None
    try:
        ident = register(record)
        log.info(
            "Result %s registered in the catalog (%s id %s)",
            record["execution_status"],
            kind,
            ident,
        )
    except PgBackManError as exc:
        try:
            path = spool.write_pending(root, kind, dict(record))
        except OSError as sp_exc:
            where = spool.pending_dir(root)
            problem = (
                f"the result was NOT recorded: catalog: {exc}; spool directory "
                f"{where}: {sp_exc.strerror or sp_exc}"
            )
            if kept:
                problem += f"; the files are kept: {kept}"
            log.error("%s", problem)
        else:
            if isinstance(exc, CatalogUnavailableError):
                log.warning(
                    "%s; result %s spooled to %s (ingested later by pgbackman_maintenance)",
                    exc,
                    record["execution_status"],
                    path,
                )
            else:
                problem = f"the catalog refused the result ({exc}); spooled to {path}"
                log.error("%s", problem)
    prefix = who or kind
    if not ok:
        reason = record.get("error_message") or "failed (see the log)"
        say_failure(f"{prefix} failed: {reason}" + (f"; {problem}" if problem else ""))
    elif problem:
        say_failure(f"{prefix}: {kind} completed, but {problem}")
    return 0 if ok and problem is None else 1
