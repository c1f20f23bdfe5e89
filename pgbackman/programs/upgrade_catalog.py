"""``pgbackman_upgrade_catalog``: bring the catalog to the schema version this software needs.

``pgbackman_upgrade_catalog [--config FILE] [--admin-user ROLE] [--dry-run] [--force]
[--sql-dir DIR] [--psql PATH]``

Applies the numbered ``sql/pgbackman_<n>.sql`` files, also to a PgBackMan 1.x catalog
(versions 1-4), connecting to the catalog of the configuration file as ``ROLE`` (default
``postgres``; it must be a superuser; its password comes from ``~/.pgpass`` or
``PGPASSFILE``). Refuses while other sessions are connected to the catalog (PgBackMan still
running somewhere) unless ``--force``. ``--dry-run`` runs the upgrade, prints its report
(what it would carry over and what not) and rolls back.

Exit status: 0 done (or nothing to do), 1 failure (the catalog is unchanged), 2 bad usage.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pgbackman.catalog import upgrade
from pgbackman.config import Config
from pgbackman.errors import PgBackManError, exit_code_for
from pgbackman.log import setup_logging

PROGRAM = "pgbackman_upgrade_catalog"
log = logging.getLogger(PROGRAM)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Upgrade the PgBackMan catalog database to the schema version this "
        "software needs (also from PgBackMan 1.x).",
    )
    p.add_argument("--config", metavar="FILE", help="configuration file")
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
    args = parse_args(argv)
    try:
        cfg = Config.load(args.config)
    except PgBackManError as exc:
        print(f"[ERROR]: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    setup_logging(cfg, PROGRAM)
    try:
        sql_dir = upgrade.find_sql_dir(cfg.database.database_source_dir, args.sql_dir)
        db = upgrade.admin_config(cfg.database, args.admin_user)
        log.info(
            "Catalog upgrade%s of %s as %s with the files of %s",
            " (dry run)" if args.dry_run else "",
            cfg.database.dbname,
            args.admin_user,
            sql_dir,
        )
        rc = upgrade.upgrade(
            db,
            sql_dir,
            upgrade.find_psql(args.psql),
            lambda line: print(line, flush=True),
            dry_run=args.dry_run,
            force=args.force,
        )
        log.info("Catalog upgrade finished")
        return rc
    except PgBackManError as exc:
        log.error("Catalog upgrade failed: %s", exc)
        print(f"[ERROR]: {exc}", file=sys.stderr)
        return exit_code_for(exc)


if __name__ == "__main__":
    sys.exit(main())
