"""pgbackman_alerts: sends the unsent alerts of this backup server (upstream 1.1's program).

    pgbackman_alerts [--config FILE] [--foreground | --once]

Default: daemonize (python-daemon: pidfile ``[pgbackman_alerts] pidfile``), one delivery
cycle every ``alerts_check_interval`` seconds. ``--foreground``: the same loop without
forking (systemd). ``--once``: one cycle, exit 0, or 1 when something could not be
delivered. SIGHUP re-reads the configuration between two cycles. A lost catalog is
reconnected every ``pg_connect_retry_interval`` seconds; the daemon never dies of it.
The delivery itself is :class:`pgbackman.alerts.sender.AlertSender`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pgbackman.alerts.sender import AlertSender
from pgbackman.config import Config
from pgbackman.errors import (
    EXIT_USAGE,
    CatalogUnavailableError,
    PgBackManError,
    ServerNotRegisteredError,
    exit_code_for,
)
from pgbackman.infra.daemon import (
    PidFile,
    SignalFlags,
    daemon_context,
    log_file_descriptors,
)
from pgbackman.log import setup_logging

PROGRAM = "pgbackman_alerts"
log = logging.getLogger(PROGRAM)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = _Parser(
        prog=PROGRAM,
        description="Send the unsent PgBackMan alerts of this backup server "
        "(mail digests and notify_urls).",
    )
    p.add_argument("--config", metavar="FILE", help="configuration file")
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
    if report.failed:
        for failure in report.failures:
            print(f"{PROGRAM}: {failure}", file=sys.stderr)
        return 1
    return 0


def _loop(cfg: Config, flags: SignalFlags, config_arg: str | None) -> int:
    sender = AlertSender(cfg)
    sender.check()
    log.info("%s started (interval %ss)", PROGRAM, cfg.alerts.alerts_check_interval)
    while not flags.should_stop():
        if flags.reload_requested:
            flags.reload_requested = False
            try:
                new = Config.load(cfg.path or config_arg)
                setup_logging(new, PROGRAM, to_stderr=False)
                cfg = new
                sender.cfg = new
                sender.check()
                log.info("Configuration reloaded from %s", new.path)
            except PgBackManError as exc:
                log.error("Configuration not reloaded: %s", exc)
        try:
            sender.cat.connect_with_retry(flags.should_stop)
            sender.run_cycle()
        except CatalogUnavailableError as exc:
            if flags.should_stop():
                break
            log.error("Catalog lost during the cycle: %s; reconnecting", exc)
            sender.cat.close()
            flags.sleep(cfg.database.pg_connect_retry_interval)
            continue
        except ServerNotRegisteredError:
            raise
        except Exception:  # noqa: BLE001 - one bad cycle must not end the alerting
            log.exception(
                "Delivery cycle failed; next cycle in %ss",
                cfg.alerts.alerts_check_interval,
            )
            sender.cat.close()
        flags.sleep(cfg.alerts.alerts_check_interval)
    sender.cat.close()
    log.info("%s stopped", PROGRAM)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = Config.load(args.config)
    except PgBackManError as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    interactive = args.once or args.foreground
    handler = setup_logging(cfg, PROGRAM, to_stderr=interactive and sys.stderr.isatty())
    try:
        if args.once:
            return _once(cfg)
        flags = SignalFlags()
        if args.foreground:
            flags.install()
            with PidFile(cfg.alerts.pidfile):
                return _loop(cfg, flags, args.config)
        PidFile(cfg.alerts.pidfile).check()  # fail here, not silently after the fork
        with daemon_context(cfg.alerts.pidfile, log_file_descriptors(handler)):
            flags.install()  # after the fork: python-daemon's own handlers are replaced
            return _loop(cfg, flags, args.config)
    except PgBackManError as exc:
        log.error("%s", exc)
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return exit_code_for(exc)


if __name__ == "__main__":
    sys.exit(main())
