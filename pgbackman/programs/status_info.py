"""pgbackman_status_info: one value for a Zabbix item (upstream 1.1, issue #36).

    pgbackman_status_info [--config FILE] [-b FQDN] [-d DEFID] -p PARAMETER

* ``-p job_queue``: crontab regenerations waiting for pgbackman_control -- of the server
  given with ``-b``, else of all servers (upstream resolved ``-b`` and then ignored it);
* ``-p backup_last_status -d DEFID``: ``succeeded``, ``error`` or ``warning`` (the newest
  run), ``unknown`` when it never ran or does not exist;
* ``-p backup_stale -d DEFID`` (new, "did it run on schedule?"): ``1`` STALE, ``0`` not,
  ``unknown`` when the definition does not exist.

Fixed from upstream: ``-d`` is required where it matters (upstream silently used DefID 0 and
answered ``unknown``); an unknown parameter is a usage error (exit 2), a catalog problem an
error on stderr (exit 1) instead of a value Zabbix would store.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pgbackman.catalog import monitoring as mon
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.core import health
from pgbackman.errors import PgBackManError
from pgbackman.programs.frame import ProgramArgumentParser, run_main

PROGRAM = "pgbackman_status_info"
PARAMETERS = ("job_queue", "backup_last_status", "backup_stale")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ProgramArgumentParser(
        prog=PROGRAM, description="One PgBackMan status value for Zabbix."
    )
    p.add_config_option()
    p.add_argument("-b", "--backup-server", metavar="FQDN", help="backup server")
    p.add_argument(
        "-d", "--backup-definition-id", metavar="DEFID", type=int, help="DefID"
    )
    p.add_argument(
        "-p",
        "--parameter-status",
        required=True,
        choices=PARAMETERS,
        metavar="P",
        help=f"one of {', '.join(PARAMETERS)}",
    )
    args = p.parse_args(argv)
    if args.parameter_status != "job_queue" and args.backup_definition_id is None:
        p.error(f"-p {args.parameter_status} needs -d DEFID")
    return args


def value(cat: Catalog, args: argparse.Namespace) -> str:
    if args.parameter_status == "job_queue":
        server_id = None
        if args.backup_server:
            server_id = mon.server_by_fqdn(cat, args.backup_server)
            if server_id is None:
                raise PgBackManError(
                    f"Backup server {args.backup_server} is not registered"
                )
        return str(mon.job_queue_length(cat, server_id))
    def_id = int(args.backup_definition_id)
    if args.parameter_status == "backup_last_status":
        status = mon.last_run_status(cat, def_id)
        return status.lower() if status else "unknown"
    rows = mon.definition_health(cat, mon.Scope(def_ids=[def_id]))
    if not rows:
        return "unknown"
    return "1" if health.judge(rows[0], mon.now(cat)).stale else "0"


def main(argv: list[str] | None = None) -> int:
    # Zabbix stores what is printed: logging must never reach stdout or stderr.
    logging.getLogger().addHandler(logging.NullHandler())
    return run_main(PROGRAM, argv, parse_args, _body)


def _body(cfg: Config, args: argparse.Namespace) -> int:
    cat = Catalog(cfg.database, application_name=PROGRAM)
    try:
        print(value(cat, args))
    finally:
        cat.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
