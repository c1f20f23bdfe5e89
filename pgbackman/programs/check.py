"""pgbackman_check: a monitoring plugin (Nagios conventions) for one backup server.

    pgbackman_check [--config FILE] [-b FQDN] [--node NODE] [--def-id N] [--dbname DB]
                    [-o text|json] [thresholds...]

Prints ONE line ``PGBACKMAN <STATUS> - <summary> | <perfdata>`` (``-o json``: the whole
detail) and exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN -- also for bad options, so a
monitoring system never mistakes a usage error for a CRITICAL. Covers: last run failed,
STALE definitions, restore drills whose newest run failed (CRITICAL: a backup that did not
restore or did not match its facts) or that are overdue (no run for twice their interval), the newest good dump gone from disk (MISSING) or reported by
``--verify``/maintenance (Backup-integrity alerts), the catalog unreachable, pending results
not ingested (or rejected), the backup partitions nearly full and alerts not delivered.
Server-wide items are judged only when no --node/--def-id/--dbname narrows the scope.
Reads views only: a login with pgbackman_role_ro is enough. Runs on the backup server.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import sys
from typing import Any

from pgbackman.catalog import monitoring as mon
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.core import monitor
from pgbackman.core.dbselect import split_list
from pgbackman.errors import CatalogUnavailableError, PgBackManError, UsageError
from pgbackman.monitoring.state import Limits, gather
from pgbackman.programs.frame import ProgramArgumentParser

PROGRAM = "pgbackman_check"


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _pct(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    d = monitor.Thresholds()
    p = ProgramArgumentParser(
        prog=PROGRAM,
        description="Nagios/Icinga check of a PgBackMan backup server. Thresholds are "
        "counts (percent for disks) at or above which WARNING/CRITICAL is reached; 0 "
        "switches a level off.",
    )
    p.add_config_option()
    p.add_argument(
        "-b",
        "--backup-server",
        metavar="FQDN",
        help="backup server to check (default: this host's [backup_server])",
    )
    p.add_argument("--node", metavar="NODE", help="only NodeIDs / FQDN[:port] (list)")
    p.add_argument("--def-id", metavar="N", help="only these DefIDs (comma list)")
    p.add_argument("--dbname", metavar="DB", help="only these databases (comma list)")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text")
    for kind, what in (
        ("failed", "definitions whose last run failed"),
        ("stale", "STALE definitions"),
        ("missing", "backups missing or corrupt"),
        ("pending", "pending results older than --pending-age"),
        ("unsent", "alerts undelivered after --unsent-age"),
        ("drill-failed", "restore drills whose newest run failed"),
        ("drill-overdue", "restore drills not run for twice their interval"),
    ):
        for lvl in ("warning", "critical"):
            p.add_argument(
                f"--{kind}-{lvl}",
                type=_count,
                metavar="N",
                default=getattr(d, f"{kind.replace('-', '_')}_{lvl}"),
                help=f"{lvl.upper()} at N {what} (default %(default)s)",
            )
    p.add_argument("--disk-warning", type=_pct, metavar="PCT", default=d.disk_warning)
    p.add_argument("--disk-critical", type=_pct, metavar="PCT", default=d.disk_critical)
    p.add_argument(
        "--pending-age",
        type=_count,
        metavar="MIN",
        default=30,
        help="minutes a result may wait for ingestion (default %(default)s)",
    )
    p.add_argument(
        "--unsent-age",
        type=_count,
        metavar="MIN",
        default=60,
        help="minutes an alert may wait for delivery (default %(default)s)",
    )
    p.add_argument(
        "--integrity-window",
        type=_count,
        metavar="HOURS",
        default=24,
        help="Backup-integrity alerts this recent count as missing/corrupt "
        "(default %(default)s)",
    )
    return p.parse_args(argv)


def _ids(text: str | None, label: str) -> list[int] | None:
    if not text:
        return None
    values = split_list(text)
    if not all(v.isdigit() for v in values):
        raise PgBackManError(f"{label} must be a comma list of numbers: {text}")
    return [int(v) for v in values]


def _nodes(cat: Catalog, text: str | None) -> list[int] | None:
    if not text:
        return None
    out: list[int] = []
    for v in split_list(text):
        found = [int(v)] if v.isdigit() else mon.node_ids_by_fqdn(cat, v)
        if not found:
            raise PgBackManError(f"PgSQL node {v} is not registered")
        out += found
    return out


def _thresholds(args: argparse.Namespace) -> monitor.Thresholds:
    return monitor.Thresholds(
        **{
            f.name: getattr(args, f.name)
            for f in dataclasses.fields(monitor.Thresholds)
        }
    )


def _json(result: monitor.CheckResult, state: monitor.ServerState) -> str:
    doc: dict[str, Any] = {
        "status": result.status_name,
        "exit_code": result.status,
        "summary": result.summary,
        "server": state.server_fqdn,
        "perfdata": {p[0]: p[1] for p in result.perfdata},
        "problems": [
            {"kind": p.kind, "status": monitor.STATUS_NAMES[p.status], "text": p.text}
            | dict(p.detail)
            for p in result.problems
        ],
        "definitions": [
            {
                "def_id": d.row["def_id"],
                "node": d.row["pgsql_node_fqdn"],
                "dbname": d.row["dbname"],
                "state": d.verdict.state,
                "stale": d.verdict.stale,
                "failed": d.verdict.failed,
                "missing": d.missing_file,
                "reason": d.verdict.reason,
                "last_success": d.row["last_success_finished"],
                "next_due": d.verdict.due,
            }
            for d in state.definitions
        ],
        "drills": [
            {
                "drill_id": d.row["drill_id"],
                "def_id": d.row["def_id"],
                "node": d.row["pgsql_node_fqdn"],
                "dbname": d.row["dbname"],
                "drill_node": d.row["drill_node_fqdn"],
                "active": d.verdict.active,
                "failed": d.verdict.failed,
                "overdue": d.verdict.overdue,
                "reason": d.verdict.reason,
                "last_run_id": d.row["last_run_id"],
                "last_run_status": d.row["last_run_status"],
                "last_run_started": d.row["last_run_started"],
            }
            for d in state.drills
        ],
        "partitions": [
            {
                "path": p.path,
                "used_pct": round(p.used_pct, 1),
                "free_bytes": p.free_bytes,
            }
            for p in state.partitions
        ],
    }

    def default(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.datetime) else str(value)

    return json.dumps(doc, indent=2, default=default)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except UsageError as exc:
        # Monitoring plugins say UNKNOWN (3) for bad options: 2 would read as CRITICAL.
        print(f"PGBACKMAN UNKNOWN - {exc}")
        return monitor.EXIT_UNKNOWN
    # A check prints one line for the monitoring system: nothing else on stdout/stderr,
    # and it needs no write access to the PgBackMan log (it often runs as 'nagios').
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger().setLevel(logging.CRITICAL)
    try:
        cfg = Config.load(args.config)
        cat = Catalog(cfg.database, application_name=PROGRAM)
        try:
            try:
                nodes = _nodes(cat, args.node)
            except CatalogUnavailableError:
                nodes = [] if args.node else None  # gather() reports the catalog
            scope = mon.Scope(
                node_ids=nodes,
                def_ids=_ids(args.def_id, "--def-id"),
                dbnames=split_list(args.dbname) if args.dbname else None,
            )
            limits = Limits(
                pending_age=dt.timedelta(minutes=args.pending_age),
                unsent_age=dt.timedelta(minutes=args.unsent_age),
                integrity_window=dt.timedelta(hours=args.integrity_window),
            )
            state = gather(cfg, cat, scope, limits, args.backup_server)
        finally:
            cat.close()
    except PgBackManError as exc:
        print(f"PGBACKMAN UNKNOWN - {' '.join(str(exc).split())}")
        return monitor.EXIT_UNKNOWN
    result = monitor.evaluate(state, _thresholds(args))
    print(result.line() if args.output == "text" else _json(result, state))
    return result.status


if __name__ == "__main__":
    sys.exit(main())
