"""Maintenance task: alert retention.

Every failure becomes an ``alerts`` row, and a delivered row was kept forever: on a fleet of
thousands of databases the table (and the delivery state each row carries) grows without
bound. Each pass deletes this server's alerts that were delivered longer ago than the local
``[pgbackman_maintenance] alert_retention`` (default 90 days), in batches, through the
SECURITY DEFINER function ``delete_sent_alerts()``. The rule of what may go is SQL
``sent_alerts_past_retention()``: never an unsent alert (it has not reached a person yet)
and never one whose episode is still open (the trouble goes on). A dry run only counts.
"""

from __future__ import annotations

import logging

from pgbackman.catalog import alerts
from pgbackman.maintenance.deleting import PassContext
from pgbackman.maintenance.report import PassReport

log = logging.getLogger("pgbackman_maintenance")

ALERT_RETENTION = "alert-retention"


class AlertRetention:
    """The task, bound to the retention of this server's configuration file."""

    def __init__(self, retention: str, batch: int = alerts.PRUNE_BATCH) -> None:
        self.retention = retention
        self.batch = batch

    def __call__(self, ctx: PassContext, report: PassReport) -> None:
        stats = report.task(ALERT_RETENTION)
        if ctx.dry_run:
            n = alerts.count_sent_past_retention(ctx.cat, ctx.server_id, self.retention)
            if n:
                ctx.would(
                    report,
                    f"WOULD DELETE {n} delivered alert(s) older than {self.retention} "
                    "(alert_retention)",
                )
            return
        while not ctx.should_stop():
            n = alerts.delete_sent_past_retention(
                ctx.cat, ctx.server_id, self.retention, self.batch
            )
            stats.deleted += n
            if n < self.batch:
                break
        if stats.deleted:
            log.info(
                "[%s] deleted %d delivered alert(s) older than %s",
                ALERT_RETENTION,
                stats.deleted,
                self.retention,
            )
