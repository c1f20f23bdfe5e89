"""pgbackman_alerts: sends the unsent alerts of this backup server (upstream 1.1's program).

    pgbackman_alerts [--config FILE] [--foreground | --once]

Default: daemonize (python-daemon: pidfile ``[pgbackman_alerts] pidfile``), one delivery
cycle every ``alerts_check_interval`` seconds. ``--foreground``: the same loop without
forking (systemd, ``Type=notify``); the pidfile still refuses a second instance, which
would send every mail twice. ``--once``: one cycle, exit 0, or 1 when something could not
be delivered (the reasons on stderr). SIGHUP re-reads the configuration.
The daemon is :class:`pgbackman.alerts.daemon.AlertsDaemon`; a cycle is
:class:`pgbackman.alerts.sender.AlertSender`.
"""

from __future__ import annotations

import argparse
import sys

from pgbackman.alerts.daemon import AlertsDaemon
from pgbackman.alerts.sender import AlertSender
from pgbackman.config import Config
from pgbackman.infra.daemon import serve
from pgbackman.log import setup_logging
from pgbackman.programs.frame import ProgramArgumentParser, run_main

PROGRAM = "pgbackman_alerts"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ProgramArgumentParser(
        prog=PROGRAM,
        description="Send the unsent PgBackMan alerts of this backup server "
        "(mail digests and notify_urls).",
    )
    p.add_config_option()
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--foreground", action="store_true", help="do not fork (for systemd)"
    )
    mode.add_argument(
        "--once",
        action="store_true",
        help="send what is pending, then exit (1 if anything could not be delivered)",
    )
    return p.parse_args(argv)


def _once(cfg: Config) -> int:
    sender = AlertSender(cfg)
    sender.check()
    sender.cat.connect()
    try:
        report = sender.run_cycle()
    finally:
        sender.cat.close()
    for failure in report.failures:
        print(f"{PROGRAM}: {failure}", file=sys.stderr)
    return 1 if report.failed else 0


def main(argv: list[str] | None = None) -> int:
    return run_main(PROGRAM, argv, parse_args, _body)


def _body(cfg: Config, args: argparse.Namespace) -> int:
    interactive = args.once or args.foreground
    handler = setup_logging(cfg, PROGRAM, to_stderr=interactive and sys.stderr.isatty())
    if args.once:
        return _once(cfg)
    return serve(
        lambda: AlertsDaemon(cfg, log_to_stderr=interactive and sys.stderr.isatty()),
        foreground=args.foreground,
        pidfile=cfg.alerts.pidfile,
        log_handler=handler,
    )


if __name__ == "__main__":
    sys.exit(main())
