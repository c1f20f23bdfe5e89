"""pgbackman_maintenance: retention, file clean-up, pending results and dropped databases.

``pgbackman_maintenance [--config FILE] [--once] [--dry-run] [--foreground]``

* default: daemon (python-daemon, pidfile ``[pgbackman_maintenance] pidfile``), one pass every
  ``maintenance_interval`` seconds; ``--foreground`` is the same loop without forking (systemd);
* ``--once`` (alias ``--cron``, upstream's name): one pass; exit 0 when it did all of its own
  work, 1 when some failed (a task aborted, a deletion failed or was refused, a catalog
  change refused, a pending result not ingested). Warnings (a node that cannot be reached, a
  running job, a damaged backup found, an interval out of range) keep 0
  (:mod:`pgbackman.maintenance.report`);
* ``--dry-run``: one pass that prints (stdout, one line each) what would be deleted and why,
  and changes nothing;
* ``--verify [--bck-id N]``: check this server's SUCCEEDED backups (or one) in full, record
  the result in the catalog and alert damaged ones; one line per backup, exit 1 on any
  MISSING/CORRUPT/UNVERIFIED (:mod:`pgbackman.maintenance.verify`);
* ``--verify --offsite [--bck-id N]``: the same for their UPLOADED offsite copies, reading
  every object back (:mod:`pgbackman.maintenance.offsite_verify`).

The work itself is :mod:`pgbackman.maintenance`; this module only wires arguments, logging,
signals and the daemon.
"""

from __future__ import annotations

import argparse
import sys

from pgbackman.config import Config
from pgbackman.infra.daemon import SignalFlags, serve
from pgbackman.log import setup_logging
from pgbackman.maintenance import verify
from pgbackman.maintenance.daemon import MaintenanceDaemon
from pgbackman.maintenance.offsite_verify import verify_offsite
from pgbackman.maintenance.report import stdout_printer
from pgbackman.maintenance.runner import Maintenance
from pgbackman.programs.frame import ProgramArgumentParser, run_main

PROGRAM = "pgbackman_maintenance"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ProgramArgumentParser(
        prog=PROGRAM,
        description="Enforce retention and clean up files of this PgBackMan backup server.",
    )
    p.add_config_option()
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
        "--offsite",
        action="store_true",
        help="with --verify: check the offsite copies (every object read back)",
    )
    p.add_argument(
        "--bck-id", type=int, metavar="N", help="with --verify: only this backup"
    )
    args = p.parse_args(argv)
    if args.bck_id is not None and not args.verify:
        p.error("--bck-id needs --verify")
    if args.offsite and not args.verify:
        p.error("--offsite needs --verify")
    p.require_positive(args, "bck_id")
    return args


def _verify(cfg: Config, bck_id: int | None, offsite: bool = False) -> int:
    maint = Maintenance(cfg)
    maint.cat.connect()
    try:
        if offsite:
            return verify_offsite(
                cfg, maint.cat, maint.server_id(), bck_id, stdout_printer
            )
        return verify.verify(maint.cat, maint.server_id(), bck_id, stdout_printer)
    finally:
        maint.cat.close()


def _one_pass(cfg: Config, dry_run: bool) -> int:
    with SignalFlags().installed() as flags:
        report = Maintenance(cfg, dry_run=dry_run, should_stop=flags.should_stop).once()
    if report.failed:
        print(
            f"{PROGRAM}: {report.error_count} error(s) in the pass; see {cfg.logging.log_file}",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main(PROGRAM, argv, parse_args, _body)


def _body(cfg: Config, args: argparse.Namespace) -> int:
    handler = setup_logging(cfg, PROGRAM, to_stderr=args.foreground)
    if args.verify:
        return _verify(cfg, args.bck_id, args.offsite)
    if args.once or args.dry_run:
        return _one_pass(cfg, args.dry_run)
    # As documented for [pgbackman_maintenance] pidfile: none in the foreground (systemd
    # tracks the process); detached, a second instance is refused (and logged) in the child.
    return serve(
        lambda: MaintenanceDaemon(cfg, log_to_stderr=args.foreground),
        foreground=args.foreground,
        pidfile=cfg.maintenance.pidfile,
        log_handler=handler,
        pidfile_in_foreground=False,
        check_before_fork=False,
    )


if __name__ == "__main__":
    sys.exit(main())
