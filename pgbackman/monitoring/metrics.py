"""Prometheus metrics of one backup server (prometheus_client custom collector).

Every scrape gathers the state anew (:func:`pgbackman.monitoring.state.gather`), so the
numbers are never older than the scrape. Per definition (labels ``def_id, node, dbname,
server``):

* ``pgbackman_backup_last_success_timestamp_seconds`` (0: never succeeded)
* ``pgbackman_backup_last_duration_seconds``, ``pgbackman_backup_last_size_bytes`` (newest run)
* ``pgbackman_backup_last_status`` (newest run: 0 SUCCEEDED, 1 WARNING, 2 ERROR, -1 none yet)
* ``pgbackman_backup_stale`` (1 when STALE), ``pgbackman_backup_active`` (0: the definition
  or its node is stopped; nothing is expected from it)
* ``pgbackman_restore_drill_last_success_timestamp_seconds`` (definitions with a restore
  drill: finish time of the newest successful drill, 0: never)
* ``pgbackman_restore_drill_last_run_failed`` and ``pgbackman_restore_drill_overdue``
  (definitions with an active restore drill: 1 when the newest run of one of its drills
  failed / when one of its drills was not run for twice its interval; the verdicts of
  :mod:`pgbackman.core.drillhealth`, the same pgbackman_check judges)

Per server (label ``server``): ``pgbackman_catalog_up``, ``pgbackman_pending_results``,
``pgbackman_pending_results_rejected``, ``pgbackman_alerts_unsent``,
``pgbackman_offsite_copies`` (label ``status``: PENDING, UPLOADED, ERROR, EXPIRED) and, per partition
(label ``path``), ``pgbackman_backup_partition_free_bytes`` / ``_used_bytes``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from pgbackman.catalog import monitoring as mon
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.core.health import INACTIVE
from pgbackman.core.monitor import DrillState, ServerState
from pgbackman.monitoring.state import gather

DEF_LABELS = ["def_id", "node", "dbname", "server"]
STATUS_VALUES = {"SUCCEEDED": 0, "WARNING": 1, "ERROR": 2}


def families(state: ServerState) -> list[GaugeMetricFamily]:
    """The metric families of ``state``."""
    server = state.server_fqdn

    def per_def(name: str, doc: str, unit: str = "") -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc, labels=DEF_LABELS, unit=unit)

    last_ok = per_def(
        "pgbackman_backup_last_success_timestamp_seconds",
        "Finish time of the newest SUCCEEDED backup (0 = never)",
    )
    duration = per_def(
        "pgbackman_backup_last_duration_seconds", "Duration of the newest run"
    )
    size = per_def(
        "pgbackman_backup_last_size_bytes", "Size of the files of the newest run"
    )
    status = per_def(
        "pgbackman_backup_last_status",
        "Status of the newest run: 0 SUCCEEDED, 1 WARNING, 2 ERROR, -1 no run yet",
    )
    stale = per_def(
        "pgbackman_backup_stale", "1 when the definition is STALE (schedule + grace)"
    )
    active = per_def(
        "pgbackman_backup_active", "1 when the definition is ACTIVE on a RUNNING node"
    )
    drill_ok = per_def(
        "pgbackman_restore_drill_last_success_timestamp_seconds",
        "Finish time of the newest successful restore drill (0 = never; only definitions "
        "that have a restore drill)",
    )
    drill_failed = per_def(
        "pgbackman_restore_drill_last_run_failed",
        "1 when the newest run of one of the definition's active restore drills failed "
        "(its backup did not restore or did not match its facts)",
    )
    drill_overdue = per_def(
        "pgbackman_restore_drill_overdue",
        "1 when one of the definition's active restore drills has not run for twice its "
        "interval",
    )
    by_def: dict[int, list[DrillState]] = {}
    for dr in state.drills:
        if dr.verdict.active:
            by_def.setdefault(int(dr.row["def_id"]), []).append(dr)
    for def_id, drills in sorted(by_def.items()):
        r = drills[0].row
        labels = [str(def_id), str(r["pgsql_node_fqdn"]), str(r["dbname"]), server]
        drill_failed.add_metric(labels, float(any(x.verdict.failed for x in drills)))
        drill_overdue.add_metric(labels, float(any(x.verdict.overdue for x in drills)))
    for d in state.definitions:
        r = d.row
        labels = [str(r["def_id"]), str(r["pgsql_node_fqdn"]), str(r["dbname"]), server]
        finished = r["last_success_finished"]
        last_ok.add_metric(labels, finished.timestamp() if finished else 0.0)
        if r["last_run_bck_id"] is not None:
            duration.add_metric(labels, float(r["last_run_duration_seconds"] or 0.0))
            size.add_metric(labels, float(r["last_run_size_bytes"] or 0))
        status.add_metric(labels, float(STATUS_VALUES.get(r["last_run_status"], -1)))
        stale.add_metric(labels, 1.0 if d.verdict.stale else 0.0)
        active.add_metric(labels, 0.0 if d.verdict.state == INACTIVE else 1.0)
        if r.get("has_restore_drill"):
            drilled = r.get("last_drill_success_finished")
            drill_ok.add_metric(labels, drilled.timestamp() if drilled else 0.0)
    up = GaugeMetricFamily(
        "pgbackman_catalog_up",
        "1 when the catalog answered this scrape",
        labels=["server"],
    )
    up.add_metric([server], 0.0 if state.catalog_error else 1.0)
    pending = GaugeMetricFamily(
        "pgbackman_pending_results",
        "Results spooled while the catalog was down, not ingested yet",
        labels=["server"],
    )
    pending.add_metric([server], float(state.pending))
    rejected = GaugeMetricFamily(
        "pgbackman_pending_results_rejected",
        "Spooled results that can never be ingested (pending_updates/rejected)",
        labels=["server"],
    )
    rejected.add_metric([server], float(state.rejected))
    out = [last_ok, duration, size, status, stale, active, drill_ok, drill_failed]
    out += [drill_overdue, up, pending]
    out.append(rejected)
    if state.catalog_error is None:
        unsent = GaugeMetricFamily(
            "pgbackman_alerts_unsent", "Alerts not delivered yet", labels=["server"]
        )
        unsent.add_metric([server], float(state.unsent_alerts))
        out.append(unsent)
        offsite = GaugeMetricFamily(
            "pgbackman_offsite_copies",
            "Offsite copies of the server's backups by status",
            labels=["server", "status"],
        )
        for name in ("PENDING", "UPLOADED", "ERROR", "EXPIRED"):
            offsite.add_metric([server, name], float(state.offsite.get(name, 0)))
        out.append(offsite)
    free = GaugeMetricFamily(
        "pgbackman_backup_partition_free_bytes",
        "Bytes available to the backups on the partition",
        labels=["server", "path"],
    )
    used = GaugeMetricFamily(
        "pgbackman_backup_partition_used_bytes",
        "Bytes used on the partition",
        labels=["server", "path"],
    )
    for p in state.partitions:
        free.add_metric([server, p.path], float(p.free_bytes))
        used.add_metric([server, p.path], float(p.used_bytes))
    return [*out, free, used]


class ServerCollector(Collector):
    """Collects this backup server's metrics on every scrape (thread-safe)."""

    def __init__(self, cfg: Config, cat: Catalog, server_fqdn: str | None = None):
        self.cfg = cfg
        self.cat = cat
        self.server_fqdn = server_fqdn
        self._lock = threading.Lock()  # the HTTP server scrapes from several threads

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            state = gather(
                self.cfg, self.cat, mon.Scope(), server_fqdn=self.server_fqdn
            )
            if state.catalog_error:
                self.cat.close()  # reconnect on the next scrape
        yield from families(state)


def registry(
    cfg: Config, cat: Catalog, server_fqdn: str | None = None
) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(ServerCollector(cfg, cat, server_fqdn))
    return reg
