"""Maintenance task: STALE backup definitions raise one alert per episode.

Each pass judges every definition of this backup server (:func:`pgbackman.core.health.judge`,
in this host's local time, the zone cron fires in). A stale definition opens the episode
``stale:def:<DefID>`` and raises one ``Backup-stale`` alert; later passes that still find it
stale raise nothing more. When it is no longer stale (a new success arrived, it was stopped,
its node was stopped or it was deleted) the episode ends, so the next time it goes stale
alerts again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pgbackman.catalog import alerts
from pgbackman.catalog import monitoring as mon
from pgbackman.core import health
from pgbackman.errors import CatalogUnavailableError, PgBackManError

if TYPE_CHECKING:
    from pgbackman.maintenance.report import PassReport
    from pgbackman.maintenance.deleting import PassContext

log = logging.getLogger("pgbackman_maintenance")

STALE = "stale-definitions"
EPISODE_PREFIX = "stale:def:"


def episode_key(def_id: int) -> str:
    return f"{EPISODE_PREFIX}{def_id}"


def stale_definitions(ctx: PassContext, report: PassReport) -> None:
    """Raise a Backup-stale alert for each newly stale definition; end finished episodes."""
    stats = report.task(STALE)
    rows = mon.definition_health(ctx.cat, mon.Scope(server_ids=[ctx.server_id]))
    open_keys = alerts.open_episodes(ctx.cat, ctx.server_id, EPISODE_PREFIX)
    stale_keys: set[str] = set()
    for row in rows:
        if ctx.should_stop():
            return
        verdict = health.judge(row, ctx.now)
        if not verdict.stale:
            continue
        key = episode_key(int(row["def_id"]))
        stale_keys.add(key)
        if key in open_keys:
            continue
        node = row["pgsql_node_fqdn"]
        what = f"backup definition DefID {row['def_id']} (database {row['dbname']!r} on {node})"
        message = f"{what} is STALE: {verdict.reason}"
        if ctx.dry_run:
            ctx.would(report, f"WOULD ALERT {message}")
            continue
        try:
            alerts.raise_alert(
                ctx.cat,
                alerts.Alert(
                    alerts.STALE,
                    ctx.server_id,
                    message,
                    node_id=int(row["pgsql_node_id"]),
                    dbname=row["dbname"],
                    ref_id=int(row["def_id"]),
                    bck_id=row["last_success_bck_id"],
                    episode_key=key,
                ),
            )
            stats.deleted += 1
            log.warning("[%s] %s", STALE, message)
        except CatalogUnavailableError:
            raise
        except PgBackManError as exc:
            report.error(STALE, f"{what}: {exc}")
    for key in sorted(open_keys - stale_keys):
        if ctx.dry_run:
            ctx.would(report, f"WOULD END stale episode {key}")
            continue
        alerts.end_episode(ctx.cat, key)
        log.info("[%s] %s is no longer stale", STALE, key)
