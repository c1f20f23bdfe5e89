"""Raising alerts: the one way every program records trouble that a person must hear about.

An alert is a row in ``alerts`` (SQL ``raise_alert()``); ``pgbackman_alerts`` delivers the
unsent rows. Programs call :func:`raise_or_spool`: when the catalog is unreachable the alert
is written to the backup server's pending spool (``pending_updates/alert_<uuid>.json``) and
ingested exactly once by pgbackman_maintenance (``raise_alert`` is idempotent on its
``run_uuid``), so an alert raised while the catalog is down is never lost.

Alert types (table ``alert_type``): ``Backup-def`` / ``Snapshot-def`` (failed dumps, raised by
a trigger), ``Restore-def``, ``Backup-integrity``, ``Backup-stale``, ``Backup-locked``,
``Config-refused``, ``Maintenance``, ``Offsite`` (an offsite copy failed to upload or
expire), ``Restore-drill`` (a failed restore drill, programs/drill.py), ``Disk-space`` (a
backup partition below its backup server's ``min_free_disk_space``,
maintenance/diskusage.py). An ``episode_key`` (e.g. ``stale:def:42``) makes an alert
once-per-episode: raised only when that episode is not open, until :func:`end_episode`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pgbackman.catalog.connection import Catalog, Row
from pgbackman.catalog.listings import read_view
from pgbackman.errors import CatalogUnavailableError, PgBackManError
from pgbackman.infra import spool

log = logging.getLogger(__name__)

BACKUP_FAILED = "Backup-def"
SNAPSHOT_FAILED = "Snapshot-def"
RESTORE_FAILED = "Restore-def"
INTEGRITY = "Backup-integrity"
STALE = "Backup-stale"
LOCKED = "Backup-locked"
CONFIG_REFUSED = "Config-refused"
MAINTENANCE = "Maintenance"
OFFSITE = "Offsite"
DRILL_FAILED = "Restore-drill"
DISK_SPACE = "Disk-space"


@dataclasses.dataclass(frozen=True)
class Alert:
    """One alert, as ``raise_alert()`` takes it. ``message`` is the human-readable reason."""

    alert_type: str
    server_id: int
    message: str
    node_id: int | None = None
    dbname: str | None = None
    ref_id: int | None = None  # def_id / snapshot_id / restore_def, by type
    bck_id: int | None = None
    execution_status: str | None = None
    episode_key: str | None = None
    run_uuid: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    registered: str = dataclasses.field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat()
    )

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Alert:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(record) - names
        if unknown:
            raise PgBackManError(f"unknown alert fields: {', '.join(sorted(unknown))}")
        return cls(**dict(record))


def raise_alert(cat: Catalog, alert: Alert) -> int | None:
    """Insert the alert; returns its id, or None when its episode was already open."""
    value = cat.scalar(
        "SELECT raise_alert(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::uuid, %s::timestamptz)",
        (
            alert.alert_type,
            alert.server_id,
            alert.node_id,
            alert.dbname,
            alert.ref_id,
            alert.bck_id,
            alert.execution_status,
            alert.message,
            alert.episode_key,
            alert.run_uuid,
            alert.registered,
        ),
    )
    return None if value is None else int(value)


def end_episode(cat: Catalog, episode_key: str) -> bool:
    """The trouble of ``episode_key`` is over; True when an episode was open."""
    return bool(cat.call("end_alert_episode", episode_key))


def raise_or_spool(cat: Catalog, root: str | Path, alert: Alert) -> int | None:
    """Raise the alert; when the catalog is unreachable, spool it under ``root``.

    Returns the alert id (None when spooled or when its episode was already open). Never
    raises for an unreachable catalog: losing an alert is worse than delaying it.
    """
    log.warning("ALERT %s: %s", alert.alert_type, alert.message)
    try:
        return raise_alert(cat, alert)
    except CatalogUnavailableError as exc:
        path = spool.write_pending(root, "alert", alert.to_record())
        log.warning("%s; alert spooled to %s", exc, path)
        return None


# -- delivery (pgbackman_alerts) and listings (show_alerts) -------------------------------
MAIL = "mail"
URLS = "urls"
SENT_FILTERS = ("sent", "unsent", "all")


def unsent_alerts(cat: Catalog, server_id: int, limit: int = 10000) -> list[Row]:
    """This server's unsent alerts, oldest first (rows of the ``show_alerts`` view)."""
    return read_view(
        cat,
        "show_alerts",
        where={"backup_server_id": server_id, "alert_sent": False},
        order_by=("registered", "alert_id"),
        limit=limit,
    )


def record_delivery(
    cat: Catalog, alert_ids: list[int], channel: str | None, required: list[str]
) -> int:
    """``channel`` delivered these alerts; sent once every ``required`` channel has."""
    return int(cat.call("record_alert_delivery", alert_ids, channel, required))


def record_delivery_failure(
    cat: Catalog, alert_ids: list[int], channel: str, error: str
) -> int:
    """``channel`` failed for these alerts: they stay unsent and are retried next cycle."""
    return int(cat.call("record_alert_delivery_failure", alert_ids, channel, error))


def open_episodes(cat: Catalog, server_id: int, prefix: str) -> set[str]:
    """Keys of this server's open episodes starting with ``prefix`` (e.g. ``stale:def:``)."""
    rows = cat.query(
        "SELECT key FROM get_open_alert_episodes(%s, %s) AS key", (server_id, prefix)
    )
    return {str(r["key"]) for r in rows}


def list_alerts(
    cat: Catalog, server_ids: list[int] | None, sent: str = "all", limit: int = 1000
) -> list[Row]:
    """Alerts for ``show_alerts``, newest first; ``sent`` is sent, unsent or all."""
    if sent not in SENT_FILTERS:
        raise PgBackManError(f"sent filter must be one of {', '.join(SENT_FILTERS)}")
    return read_view(
        cat,
        "show_alerts",
        where={
            "backup_server_id": server_ids,
            "alert_sent": None if sent == "all" else sent == "sent",
        },
        order_by=("-registered", "-alert_id"),
        limit=limit,
    )


# -- retention (pgbackman_maintenance) ----------------------------------------------------
PRUNE_BATCH = 10000


def count_sent_past_retention(cat: Catalog, server_id: int, retention: str) -> int:
    """How many delivered alerts of this server are older than ``retention`` (the rule is
    SQL ``sent_alerts_past_retention()``: never an unsent alert or one of an open episode)."""
    value = cat.scalar(
        "SELECT count(*) FROM sent_alerts_past_retention(%s, %s::interval)",
        (server_id, retention),
    )
    return int(value)


def delete_sent_past_retention(
    cat: Catalog, server_id: int, retention: str, limit: int = PRUNE_BATCH
) -> int:
    """Delete at most ``limit`` of those alerts; returns how many went."""
    return int(
        cat.scalar(
            "SELECT delete_sent_alerts(%s, %s::interval, %s)",
            (server_id, retention, limit),
        )
    )
