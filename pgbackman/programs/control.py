"""pgbackman_control: keeps a backup server's cron.d files, at jobs, directories and local
cache in line with the catalog.

    pgbackman_control [--config FILE] [--foreground] [--once]

Default: daemonize (python-daemon: pidfile, umask 027, log file kept open, cwd /).
``--foreground``: no fork (systemd). ``--once``: one full resync, exit 0 (1 on failure).
"""

from __future__ import annotations

import argparse
import logging
import sys

from pgbackman.config import Config
from pgbackman.control.daemon import ControlDaemon
from pgbackman.errors import EXIT_USAGE, PgBackManError, exit_code_for
from pgbackman.infra.daemon import (
    PidFile,
    SignalFlags,
    daemon_context,
    log_file_descriptors,
)
from pgbackman.log import setup_logging

PROGRAM = "pgbackman_control"
log = logging.getLogger(PROGRAM)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = _Parser(
        prog=PROGRAM, description="PgBackMan control daemon of one backup server"
    )
    p.add_argument("--config", metavar="FILE", help="configuration file")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--foreground", action="store_true", help="do not fork (for systemd)"
    )
    mode.add_argument("--once", action="store_true", help="one full resync, then exit")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = Config.load(args.config)
    except PgBackManError as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    interactive = args.once or args.foreground
    handler = setup_logging(cfg, PROGRAM, to_stderr=interactive and sys.stderr.isatty())
    # python-crontab reports our header comments as "disabled jobs" at DEBUG: noise.
    logging.getLogger("crontab").setLevel(logging.WARNING)

    def reload_config() -> Config:
        new = Config.load(cfg.path or args.config)
        setup_logging(new, PROGRAM, to_stderr=interactive and sys.stderr.isatty())
        return new

    try:
        if args.once:
            return ControlDaemon(cfg, SignalFlags()).run_once()
        if args.foreground:
            flags = SignalFlags()
            flags.install()
            with PidFile(cfg.control.pidfile):
                return ControlDaemon(cfg, flags, reload_config).run()
        PidFile(cfg.control.pidfile).check()  # fail here, not silently after the fork
        ctx = daemon_context(cfg.control.pidfile, log_file_descriptors(handler))
        with ctx:
            flags = SignalFlags()
            flags.install()
            return ControlDaemon(cfg, flags, reload_config).run()
    except PgBackManError as exc:
        log.critical("%s", exc)
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return exit_code_for(exc)


if __name__ == "__main__":
    sys.exit(main())
