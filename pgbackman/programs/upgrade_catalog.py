"""``pgbackman_upgrade_catalog``: bring the catalog to the schema version this software needs.

``pgbackman_upgrade_catalog [--config FILE] [--admin-user ROLE] [--dry-run] [--force]
[--sql-dir DIR] [--psql PATH]``

Applies the numbered ``sql/pgbackman_<n>.sql`` files, also to a PgBackMan 1.x catalog
(versions 1-4), connecting to the catalog of the configuration file as ``ROLE`` (default
``postgres``; it must be a superuser; its password comes from ``~/.pgpass`` or
``PGPASSFILE``). Refuses while other sessions are connected to the catalog (PgBackMan still
running somewhere) unless ``--force``. ``--dry-run`` runs the upgrade, prints its report
(what it would carry over and what not) and rolls back.

Exit status: 0 done (or nothing to do), 1 failure (the file that failed changed nothing),
2 bad usage.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pgbackman.catalog import upgrade
from pgbackman.config import Config
from pgbackman.log import setup_logging
from pgbackman.programs.frame import ProgramArgumentParser, run_main

PROGRAM = "pgbackman_upgrade_catalog"
log = logging.getLogger(PROGRAM)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ProgramArgumentParser(
        prog=PROGRAM,
        description="Upgrade the PgBackMan catalog database to the schema version this "
        "software needs (also from PgBackMan 1.x).",
    )
    p.add_config_option()
    p.add_argument(
        "--admin-user",
        metavar="ROLE",
        default="postgres",
        help="superuser role that runs the upgrade (default: postgres; password from "
        "~/.pgpass)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="run the upgrade, print what it does and roll back",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="upgrade even while other sessions are connected to the catalog",
    )
    p.add_argument(
        "--sql-dir",
        metavar="DIR",
        help="directory holding pgbackman.sql and pgbackman_<n>.sql "
        "(default: [pgbackman_database] database_source_dir, then the installed copy)",
    )
    p.add_argument("--psql", metavar="PATH", help="psql program to use")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_main(PROGRAM, argv, parse_args, _upgrade, error_prefix="[ERROR]: ")


def _upgrade(cfg: Config, args: argparse.Namespace) -> int:
    setup_logging(cfg, PROGRAM)
    sql_dir = upgrade.find_sql_dir(cfg.database.database_source_dir, args.sql_dir)
    log.info(
        "Catalog upgrade%s of %s as %s with the files of %s",
        " (dry run)" if args.dry_run else "",
        cfg.database.dbname,
        args.admin_user,
        sql_dir,
    )
    rc = upgrade.upgrade(
        upgrade.admin_config(cfg.database, args.admin_user),
        sql_dir,
        upgrade.find_psql(args.psql),
        lambda line: print(line, flush=True),
        dry_run=args.dry_run,
        force=args.force,
    )
    log.info("Catalog upgrade finished")
    return rc


if __name__ == "__main__":
    sys.exit(main())
