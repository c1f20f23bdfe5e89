"""pgbackman_restore: run one restore — ``--restore-def N`` (started by the at job that
pgbackman_control queues), one restore drill — ``--drill N`` (programs/drill.py) — or one
clone — ``--clone N`` (programs/clone.py). ``--force`` (with ``--restore-def``, by hand
only) restores a backup whose files cannot be verified (no checksum, checksum or size
mismatch), which is refused otherwise.

Everything else comes from the catalog (the definition, the backup, the target node). The
work is done by :mod:`pgbackman.restore`; this module parses the command line, installs the
signal handlers and records the result: in ``restore_catalog``, or as a pending file when
the catalog is unreachable at the end (ingested later by pgbackman_maintenance).
Exit status: 0 SUCCEEDED (also when the result was spooled), 1 otherwise, 2 bad usage.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pgbackman.catalog import restorejobs
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.log import setup_logging
from pgbackman.infra.daemon import SignalFlags
from pgbackman.programs.frame import ProgramArgumentParser
from pgbackman.programs.jobmain import check_partition, job_main, register_or_spool
from pgbackman.restore import spec as specmod
from pgbackman.restore.runner import APPLICATION_NAME, RestoreRun

PROGRAM = "pgbackman_restore"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ProgramArgumentParser(
        prog=PROGRAM,
        description="Run one PgBackMan restore definition, restore drill or clone.",
    )
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--restore-def", type=int, metavar="N", help="restore definition to run"
    )
    g.add_argument("--drill", type=int, metavar="N", help="restore drill to run")
    g.add_argument("--clone", type=int, metavar="N", help="clone to run")
    p.add_argument(
        "--force",
        action="store_true",
        help="with --restore-def: restore even a backup whose files cannot be verified",
    )
    p.add_config_option()
    ns = p.parse_args(argv)
    p.require_positive(ns, "restore_def", "drill", "clone")
    if ns.force and ns.restore_def is None:
        # Drills and clones run unattended: they never restore an unverifiable backup.
        p.error("--force goes with --restore-def only")
    return ns


def _subject(ns: argparse.Namespace) -> str:
    if ns.drill is not None:
        return f"restore drill {ns.drill}"
    if ns.clone is not None:
        return f"clone {ns.clone}"
    return f"restore definition {ns.restore_def}"


def _body(cfg: Config, ns: argparse.Namespace, stop: SignalFlags) -> int:
    if ns.drill is not None:
        from pgbackman.programs.drill import run_drill

        return run_drill(cfg, ns.drill, stop)
    if ns.clone is not None:
        from pgbackman.programs.clone import run_clone

        return run_clone(cfg, ns.clone, stop)
    return run_restore(cfg, ns.restore_def, stop, force=ns.force)


def main(argv: list[str] | None = None) -> int:
    return job_main(PROGRAM, argv, parse_args, _body, subject=_subject)


def run_restore(
    cfg: Config,
    restore_def: int,
    stop: SignalFlags | None = None,
    *,
    force: bool = False,
) -> int:
    started = _dt.datetime.now(_dt.UTC)
    cat = Catalog(cfg.database, application_name=APPLICATION_NAME)
    try:
        spec = specmod.resolve(cfg, cat, restore_def)
        spec.force = force
        setup_logging(cfg, PROGRAM, node=spec.target_fqdn, dbname=spec.target_dbname)
        check_partition(
            PROGRAM, cfg, cat, spec.server_id, spec.target_node_id, spec.partition
        )
        run = RestoreRun(cfg, spec, started)
        if stop is not None:
            stop.attach(run)
        run.execute()
        if stop is not None:
            stop.detach()
        record = run.record(_dt.datetime.now(_dt.UTC))
        return register(
            cat,
            record,
            spec.root or cfg.backup_server.root_backup_partition,
            who=f"{PROGRAM}: restore definition {restore_def}",
        )
    finally:
        cat.close()


def register(
    cat: Catalog, record: Mapping[str, Any], root: str | Path, who: str = ""
) -> int:
    """Record the result; spool it when the catalog is unreachable. Returns the exit status."""
    return register_or_spool(
        "restore", record, root, lambda r: restorejobs.record_restore(cat, r), who=who
    )


if __name__ == "__main__":
    sys.exit(main())
