"""pgbackman_maintenance: retention, file clean-up, pending results and dropped databases.

``pgbackman_maintenance [--config FILE] [--once] [--dry-run] [--foreground]``

* default: daemon (python-daemon, pidfile ``[pgbackman_maintenance] pidfile``), one pass every
  ``maintenance_interval`` seconds; ``--foreground`` is the same loop without forking (systemd);
* ``--once`` (alias ``--cron``, upstream's name): one pass, exit 0, or 1 if any task failed;
* ``--dry-run``: one pass that prints (stdout, one line each) what would be deleted and why,
  and changes nothing;
* ``--verify [--bck-id N]``: re-check the SHA-256 manifests of this server's SUCCEEDED
  backups (or one) against the files and the catalog; one line per backup, exit 1 on any
  MISMATCH/MISSING (:mod:`pgbackman.maintenance.verify`).

The work itself is :mod:`pgbackman.maintenance`; this module only wires arguments, logging,
signals and the daemon.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pgbackman.config import Config
from pgbackman.errors import PgBackManError, exit_code_for
from pgbackman.infra.daemon import SignalFlags, daemon_context, log_file_descriptors
from pgbackman.log import setup_logging
from pgbackman.maintenance import verify
from pgbackman.maintenance.report import stdout_printer
from pgbackman.maintenance.runner import Maintenance

PROGRAM = "pgbackman_maintenance"
log = logging.getLogger(PROGRAM)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Enforce retention and clean up files of this PgBackMan backup server.",
    )
    p.add_argument("--config", metavar="FILE", help="configuration file")
    p.add_argument(
        "--once",
        "--cron",
        action="store_true",
        dest="once",
        help="run one full pass and exit (0 ok, 1 if any task failed)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print what one pass would delete and why; change nothing",
    )
    p.add_argument(
        "--foreground", action="store_true", help="loop without detaching (for systemd)"
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="check the checksums of stored backups; print one line per backup",
    )
    p.add_argument(
        "--bck-id", type=int, metavar="N", help="with --verify: only this backup"
    )
    args = p.parse_args(argv)
    if args.bck_id is not None and not args.verify:
        p.error("--bck-id needs --verify")
    if args.bck_id is not None and args.bck_id <= 0:
        p.error("--bck-id must be a positive integer")
    return args


def _verify(cfg: Config, bck_id: int | None) -> int:
    maint = Maintenance(cfg)
    maint.cat.connect()
    try:
        return verify.verify(maint.cat, maint.server_id(), bck_id, stdout_printer)
    finally:
        maint.cat.close()


def _one_pass(cfg: Config, dry_run: bool, flags: SignalFlags) -> int:
    report = Maintenance(cfg, dry_run=dry_run, should_stop=flags.should_stop).once()
    if report.failed:
        print(
            f"{PROGRAM}: {report.error_count} error(s) in the pass; see {cfg.logging.log_file}",
            file=sys.stderr,
        )
        return 1
    return 0


def _loop(cfg: Config, flags: SignalFlags) -> None:
    state = {"cfg": cfg}

    def interval() -> int:
        # SIGHUP: re-read the configuration between two passes (interval, log level...).
        if flags.reload_requested:
            flags.reload_requested = False
            try:
                new = Config.load(state["cfg"].path)
                setup_logging(new, PROGRAM, to_stderr=False)
                state["cfg"] = new
                log.info("Configuration reloaded from %s", new.path)
            except PgBackManError as exc:
                log.error("Configuration not reloaded: %s", exc)
        return state["cfg"].maintenance.maintenance_interval

    log.info("%s started (interval %ss)", PROGRAM, cfg.maintenance.maintenance_interval)
    Maintenance(cfg, should_stop=flags.should_stop).loop(interval)
    log.info("%s stopped", PROGRAM)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = Config.load(args.config)
        single = args.once or args.dry_run
        handler = setup_logging(cfg, PROGRAM, to_stderr=args.foreground)
        flags = SignalFlags()
        if args.verify:
            return _verify(cfg, args.bck_id)
        if single:
            flags.install()
            return _one_pass(cfg, args.dry_run, flags)
        if args.foreground:
            flags.install()
            _loop(cfg, flags)
            return 0
        with daemon_context(cfg.maintenance.pidfile, log_file_descriptors(handler)):
            flags.install()  # after the fork: python-daemon's own handlers are replaced
            _loop(cfg, flags)
        return 0
    except PgBackManError as exc:
        log.error("%s", exc)
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return exit_code_for(exc)


if __name__ == "__main__":
    sys.exit(main())
