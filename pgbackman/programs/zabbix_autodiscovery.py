"""pgbackman_zabbix_autodiscovery: Zabbix low-level discovery of backup definitions
(upstream 1.1).

    pgbackman_zabbix_autodiscovery [--config FILE] [-b FQDN]

Prints ``{"data": [{"{#DBNAME}": ..., "{#DEFID}": ..., "{#PGSQL_NODE}": ...}, ...]}``
(sorted keys, indent 2) for every ACTIVE definition of the backup server, ordered by node
and database; CLUSTER definitions have an empty ``{#DBNAME}``. Fixed from upstream: ``-b``
defaults to this host's ``[backup_server]`` and an unknown server is an error (exit 1)
instead of an empty list that makes Zabbix drop every discovered item.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from pgbackman.catalog import monitoring as mon
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.errors import PgBackManError
from pgbackman.programs.frame import ProgramArgumentParser, run_main

PROGRAM = "pgbackman_zabbix_autodiscovery"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ProgramArgumentParser(
        prog=PROGRAM, description="Zabbix discovery of PgBackMan definitions."
    )
    p.add_config_option()
    p.add_argument(
        "-b",
        "--backup-server",
        metavar="FQDN",
        help="backup server (default: this host's [backup_server])",
    )
    return p.parse_args(argv)


def discovery(cat: Catalog, fqdn: str) -> dict[str, list[dict[str, Any]]]:
    server_id = mon.server_by_fqdn(cat, fqdn)
    if server_id is None:
        raise PgBackManError(f"Backup server {fqdn} is not registered")
    rows = mon.definition_health(cat, mon.Scope(server_ids=[server_id]))
    active = sorted(
        (r for r in rows if r["job_status"] == "ACTIVE"),
        key=lambda r: (r["pgsql_node_fqdn"], r["dbname"], r["def_id"]),
    )
    return {
        "data": [
            {
                "{#DBNAME}": r["dbname"],
                "{#DEFID}": int(r["def_id"]),
                "{#PGSQL_NODE}": r["pgsql_node_fqdn"],
            }
            for r in active
        ]
    }


def main(argv: list[str] | None = None) -> int:
    logging.getLogger().addHandler(logging.NullHandler())
    return run_main(PROGRAM, argv, parse_args, _body)


def _body(cfg: Config, args: argparse.Namespace) -> int:
    cat = Catalog(cfg.database, application_name=PROGRAM)
    try:
        doc = discovery(cat, args.backup_server or cfg.backup_server.fqdn)
    finally:
        cat.close()
    print(json.dumps(doc, sort_keys=True, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
