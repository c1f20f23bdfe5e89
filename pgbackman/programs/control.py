"""pgbackman_control: keeps a backup server's cron.d files, at jobs, directories and local
cache in line with the catalog.

    pgbackman_control [--config FILE] [--foreground] [--once]

Default: daemonize (python-daemon: pidfile, umask 027, log file kept open, cwd /).
``--foreground``: no fork (systemd, ``Type=notify``). ``--once``: one full resync, exit 0
(1 on failure).
"""

from __future__ import annotations

import argparse
import logging
import sys

from pgbackman.config import Config
from pgbackman.control.daemon import ControlDaemon
from pgbackman.infra.daemon import serve
from pgbackman.log import setup_logging
from pgbackman.programs.frame import ProgramArgumentParser, run_main

PROGRAM = "pgbackman_control"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ProgramArgumentParser(
        prog=PROGRAM, description="PgBackMan control daemon of one backup server"
    )
    p.add_config_option()
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--foreground", action="store_true", help="do not fork (for systemd)"
    )
    mode.add_argument("--once", action="store_true", help="one full resync, then exit")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_main(PROGRAM, argv, parse_args, _body, log_level=logging.CRITICAL)


def _body(cfg: Config, args: argparse.Namespace) -> int:
    to_stderr = (args.once or args.foreground) and sys.stderr.isatty()
    handler = setup_logging(cfg, PROGRAM, to_stderr=to_stderr)
    # python-crontab reports our header comments as "disabled jobs" at DEBUG: noise.
    logging.getLogger("crontab").setLevel(logging.WARNING)
    if args.once:
        return ControlDaemon(cfg).run_once()
    return serve(
        lambda: ControlDaemon(cfg, log_to_stderr=to_stderr),
        foreground=args.foreground,
        pidfile=cfg.control.pidfile,
        log_handler=handler,
    )


if __name__ == "__main__":
    sys.exit(main())
