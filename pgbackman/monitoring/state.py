"""Gathering a backup server's state for pgbackman_check and pgbackman_metrics.

Reads the catalog (views only, see ``catalog/monitoring.py``) and this host: the definitions
and restore drills with their verdicts, the dumps of the newest successful backups (are they
still on disk?), the pending-results spool and the backup partitions (statvfs). Runs on the backup server it describes. A catalog that cannot
be reached is a fact to report (``catalog_error``), not a crash: the local facts are still
gathered from the configuration.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from pgbackman.catalog import alerts as cat_alerts
from pgbackman.catalog import monitoring as mon
from pgbackman.catalog.connection import Catalog, Row
from pgbackman.config import Config
from pgbackman.core import drillhealth, health
from pgbackman.core.monitor import DefinitionState, DrillState, Partition, ServerState
from pgbackman.errors import CatalogUnavailableError, PgBackManError
from pgbackman.infra import spool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """Ages after which waiting things count as a problem."""

    pending_age: dt.timedelta = dt.timedelta(minutes=30)
    unsent_age: dt.timedelta = dt.timedelta(hours=1)
    integrity_window: dt.timedelta = dt.timedelta(hours=24)
    # An offsite copy still PENDING after this long: uploads are not keeping up or not
    # running (maintenance down, offsite_url emptied after the backups were taken).
    offsite_pending_age: dt.timedelta = dt.timedelta(hours=6)


def partitions(paths: list[str]) -> list[Partition]:
    """statvfs of each existing path, one entry per file system (first path named wins)."""
    seen: set[int] = set()
    out: list[Partition] = []
    for path in paths:
        try:
            dev = os.stat(path).st_dev
            vfs = os.statvfs(path)
        except OSError:
            continue  # not created yet (no backup so far) or not mounted: nothing to measure
        if dev in seen:
            continue
        seen.add(dev)
        out.append(
            Partition(path, vfs.f_blocks * vfs.f_frsize, vfs.f_bavail * vfs.f_frsize)
        )
    return out


def _missing(row: Row) -> bool:
    path = row["last_success_dump_file"]
    return bool(path) and not Path(str(path)).exists()


def gather(
    cfg: Config,
    cat: Catalog,
    scope: mon.Scope,
    limits: Limits = Limits(),
    server_fqdn: str | None = None,
    tz: dt.tzinfo | None = None,
) -> ServerState:
    """The state of backup server ``server_fqdn`` (default: this one) within ``scope``."""
    fqdn = server_fqdn or cfg.backup_server.fqdn
    server_wide = scope.node_ids is None and scope.def_ids is None and not scope.dbnames
    root = cfg.backup_server.root_backup_partition
    try:
        server_id = mon.server_by_fqdn(cat, fqdn)
        if server_id is None:
            raise PgBackManError(
                f"backup server {fqdn} is not registered in the catalog"
            )
        now = mon.now(cat)
        root = mon.server_config_value(cat, server_id, "root_backup_partition") or root
        rows = mon.definition_health(
            cat,
            mon.Scope([server_id], scope.node_ids, scope.def_ids, scope.dbnames),
        )
        defs = [DefinitionState(r, health.judge(r, now, tz), _missing(r)) for r in rows]
        drills = [
            DrillState(r, drillhealth.judge(r, now))
            for r in mon.drill_health(
                cat,
                mon.Scope([server_id], scope.node_ids, scope.def_ids, scope.dbnames),
            )
        ]
        unsent = mon.unsent_alerts_summary(
            cat, server_id, limits.unsent_age.total_seconds()
        )
        integrity = mon.recent_alerts(
            cat, server_id, cat_alerts.INTEGRITY, now - limits.integrity_window, scope
        )
        offsite = mon.offsite_summary(
            cat, server_id, limits.offsite_pending_age.total_seconds()
        )
        node_paths = mon.node_partitions(
            cat, sorted({int(r["pgsql_node_id"]) for r in rows})
        )
    except (CatalogUnavailableError, PgBackManError) as exc:
        return _local_only(fqdn, str(exc), root, server_wide, limits)
    pending = spool.pending_summary(root, _cutoff(limits))
    return ServerState(
        server_fqdn=fqdn,
        now=now,
        server_id=server_id,
        definitions=defs,
        pending=pending.count,
        pending_overdue=pending.overdue,
        rejected=pending.rejected,
        partitions=partitions([root, *sorted(set(node_paths.values()))]),
        unsent_alerts=int(unsent["unsent"]),
        unsent_overdue=int(unsent["overdue"]),
        unsent_error=unsent["last_error"],
        integrity_alerts=integrity,
        server_wide=server_wide,
        offsite=offsite,
        drills=drills,
    )


def _cutoff(limits: Limits) -> float:
    return time.time() - limits.pending_age.total_seconds()


def _local_only(
    fqdn: str, error: str, root: str, server_wide: bool, limits: Limits
) -> ServerState:
    pending = spool.pending_summary(root, _cutoff(limits))
    return ServerState(
        server_fqdn=fqdn,
        now=dt.datetime.now(dt.timezone.utc),
        catalog_error=error,
        pending=pending.count,
        pending_overdue=pending.overdue,
        rejected=pending.rejected,
        partitions=partitions([root]),
        server_wide=server_wide,
    )
