"""The offsite tasks of a maintenance pass: upload pending copies, expire old ones.

``offsite-upload`` runs first in the pass (before local retention can remove files): every
PENDING or ERROR copy of this server whose local files exist is uploaded
(:func:`pgbackman.offsite.copies.upload`), then recorded UPLOADED, or ERROR with the reason
and one ``Offsite`` alert per backup and episode. A failed upload never touches the backup's
own status. Three failures in a row end the task for this pass (the endpoint is probably
down: the rest waits for the next pass instead of each timing out). One maintenance process
uploads at a time (``<root>/.offsite.lock``); the dump job never waits for an upload.

``offsite-retention`` also deletes the objects of copies whose catalog row was deleted
otherwise (forced deletion of a definition: table ``offsite_copies_to_delete``), and
deletes copies older than the server's ``offsite_retention_period``
under the local rules (core/retention.py): per definition the ``max(redundancy, 1)`` newest
UPLOADED copies are never deleted, an ERROR copy (a partial upload) goes only once a newer
UPLOADED copy exists; snapshot copies expire by age. Only keys derived from the row go
(:func:`pgbackman.offsite.copies.delete`); the row becomes EXPIRED, or is deleted when its
local files are gone too.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable
from itertools import groupby
from pathlib import Path
from typing import Any

from pgbackman.catalog import alerts
from pgbackman.catalog import offsite as ocat
from pgbackman.config import Config
from pgbackman.core import offsite as core
from pgbackman.core import validate
from pgbackman.core.retention import RunRow, expired_backups, snapshot_row_expired
from pgbackman.errors import (
    CatalogUnavailableError,
    LockBusyError,
    OffsiteError,
    PgBackManError,
    UserInputError,
)
from pgbackman.infra.locking import JobLock
from pgbackman.infra.objectstore import ObjectStore
from pgbackman.maintenance.report import PassReport
from pgbackman.maintenance.deleting import PassContext
from pgbackman.offsite import copies, refusal, store_for

log = logging.getLogger("pgbackman_maintenance")

UPLOAD = "offsite-upload"
RETENTION = "offsite-retention"
LOCK_NAME = ".offsite.lock"
MAX_FAILURES_IN_A_ROW = 3

Task = Callable[[PassContext, PassReport], None]


def _alert(ctx: PassContext, row: dict[str, Any], message: str, episode: str) -> None:
    alert = alerts.Alert(
        alerts.OFFSITE,
        server_id=ctx.server_id,
        message=message,
        node_id=row.get("pgsql_node_id"),
        dbname=str(row["dbname"] or "") or None,
        ref_id=row["def_id"] if row["def_id"] is not None else row["snapshot_id"],
        bck_id=int(row["bck_id"]),
        episode_key=episode,
    )
    try:
        alerts.raise_or_spool(ctx.cat, ctx.root, alert)
    except (PgBackManError, OSError) as exc:
        log.error("Cannot raise the %s alert: %s", alerts.OFFSITE, exc)


class _Stopped(Exception):
    """A stop request (SIGTERM) interrupted an upload: the copy keeps its status."""


def _interrupt(ctx: PassContext) -> Callable[[], None]:
    def check() -> None:
        if ctx.should_stop():
            raise _Stopped()

    return check


class OffsiteTasks:
    """The two tasks, bound to this server's local configuration (transfer settings)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._stores: dict[str, ObjectStore] = {}

    def tasks(self) -> tuple[tuple[str, Task], tuple[str, Task]]:
        return (UPLOAD, self.upload), (RETENTION, self.retention)

    def store(self, endpoint: str) -> ObjectStore:
        if endpoint not in self._stores:
            self._stores[endpoint] = store_for(self.cfg, endpoint)
        return self._stores[endpoint]

    # -- upload -----------------------------------------------------------------------
    def upload(self, ctx: PassContext, report: PassReport) -> None:
        stats = report.task(UPLOAD)
        conf = ocat.server_offsite(ctx.cat, ctx.server_id)
        rows = ocat.to_upload(ctx.cat, ctx.server_id)
        if ctx.dry_run:
            for row in rows:
                ctx.would(
                    report, f"WOULD UPLOAD backup bck_id={row['bck_id']} to {conf.url}"
                )
            return
        if not conf.enabled:
            first = next(rows, None)
            if first is not None:
                log.warning(
                    "[%s] offsite copies are waiting (e.g. bck_id=%s) but offsite_url is "
                    "empty: nothing uploaded",
                    UPLOAD,
                    first["bck_id"],
                )
            return
        episode = f"offsite-refused:srv:{ctx.server_id}"
        try:
            url = core.parse_url(conf.url)
            reason = refusal(self.cfg, url, conf.endpoint_url)
            if reason is not None:
                raise OffsiteError(reason)
            store = self.store(conf.endpoint_url)
        except (ValueError, OffsiteError) as exc:
            # Copies stay PENDING: nothing is wrong with them, the target is refused.
            message = f"Offsite copies not uploaded: offsite_url {conf.url!r}: {exc}"
            report.error(UPLOAD, message)
            alert = alerts.Alert(
                alerts.CONFIG_REFUSED,
                server_id=ctx.server_id,
                message=message,
                episode_key=episode,
            )
            try:
                alerts.raise_or_spool(ctx.cat, ctx.root, alert)
            except (PgBackManError, OSError) as err:
                log.error("Cannot raise the %s alert: %s", alerts.CONFIG_REFUSED, err)
            return
        alerts.end_episode(ctx.cat, episode)
        lock = JobLock(Path(ctx.root) / LOCK_NAME)
        try:
            lock.acquire()
        except LockBusyError:
            stats.skipped += 1
            log.warning("[%s] another process is uploading; skipped this pass", UPLOAD)
            return
        try:
            failures = 0
            for row in rows:
                if ctx.should_stop():
                    return
                uploaded = self._upload_one(ctx, report, store, url, conf, row)
                if ctx.should_stop():
                    return  # an interrupted upload is neither a success nor a failure
                if uploaded:
                    stats.deleted += 1
                    failures = 0
                    continue
                failures += 1
                if failures >= MAX_FAILURES_IN_A_ROW:
                    report.error(
                        UPLOAD,
                        f"{failures} uploads failed in a row: the rest waits for the next pass",
                    )
                    return
        finally:
            lock.release()

    def _upload_one(
        self,
        ctx: PassContext,
        report: PassReport,
        store: ObjectStore,
        url: core.OffsiteUrl,
        conf: ocat.ServerOffsite,
        row: dict[str, Any],
    ) -> bool:
        bck_id = int(row["bck_id"])
        episode = f"offsite:bck:{bck_id}"
        location = None
        try:
            location = copies.planned_copy(row, url).location
            log.info("[%s] uploading backup %s to %s", UPLOAD, bck_id, location)
            copy = copies.upload(store, row, url, _interrupt(ctx))
        except _Stopped:
            log.warning(
                "[%s] upload of backup %s interrupted by a stop request; it stays %s "
                "and is uploaded again by a later pass",
                UPLOAD,
                bck_id,
                row["offsite_status"],
            )
            return True
        except (OffsiteError, ValueError) as exc:
            message = f"Offsite copy of backup {bck_id} failed: {exc}"
            report.error(UPLOAD, message)
            try:
                ocat.set_status(
                    ctx.cat, bck_id, "ERROR", location=location, error=str(exc)
                )
            except CatalogUnavailableError:
                raise
            except PgBackManError as err:
                report.error(UPLOAD, f"backup {bck_id}: {err}")
            _alert(ctx, row, message, episode)
            return False
        ocat.set_status(
            ctx.cat,
            bck_id,
            "UPLOADED",
            location=copy.location,
            endpoint=conf.endpoint_url,
        )
        alerts.end_episode(ctx.cat, episode)
        return True

    # -- retention --------------------------------------------------------------------
    def retention(self, ctx: PassContext, report: PassReport) -> None:
        stats = report.task(RETENTION)
        period = ocat.server_offsite(ctx.cat, ctx.server_id).retention_period
        try:
            seconds = validate.interval_seconds(
                validate.offsite_retention_period(period)
            )
        except UserInputError as exc:
            # A forged or hand-edited value expires nothing (never "everything").
            report.error(RETENTION, f"{exc}; nothing expired")
            return
        delta = _dt.timedelta(seconds=seconds)
        rows = ocat.retention_rows(ctx.cat, ctx.server_id, period)
        expired: list[tuple[dict[str, Any], str]] = []
        for def_id, group in groupby(rows, key=lambda r: r["def_id"]):
            history = list(group)
            if def_id is None:
                expired += [
                    (r, f"snapshot copy older than {period}")
                    for r in history
                    if snapshot_row_expired(r["finished"], delta, ctx.now)
                ]
                continue
            by_id = {int(r["bck_id"]): r for r in history}
            runs = [
                RunRow(
                    int(r["bck_id"]),
                    r["finished"],
                    "SUCCEEDED" if r["offsite_status"] == "UPLOADED" else "ERROR",
                )
                for r in history
            ]
            for d in expired_backups(
                runs,
                delta,
                history[0]["retention_redundancy"],
                ctx.now,
                # An UPLOADED copy was read back and checked against its manifest when it
                # was uploaded (pgbackman_maintenance --verify --offsite checks it again).
                intact=lambda _bck_id: True,
            ):
                expired.append((by_id[d.bck_id], d.reason))
        for row, reason in expired:
            if ctx.should_stop():
                return
            what = f"offsite copy of backup bck_id={row['bck_id']} ({row['offsite_status']})"
            if ctx.dry_run:
                ctx.would(
                    report, f"WOULD DELETE {what}: {reason}: {row['offsite_location']}"
                )
                continue
            try:
                keys = 0
                if row["offsite_location"]:
                    keys = copies.delete(self.store(row["offsite_endpoint"] or ""), row)
                left = ocat.set_status(ctx.cat, int(row["bck_id"]), "EXPIRED")
            except CatalogUnavailableError:
                raise
            except (PgBackManError, ValueError) as exc:
                message = f"Offsite retention of backup {row['bck_id']} failed: {exc}"
                report.error(RETENTION, message)
                _alert(ctx, row, message, f"offsite-retention:bck:{row['bck_id']}")
                continue
            stats.deleted += 1
            stats.files += keys
            log.info(
                "[%s] deleted %s (%d keys): %s%s",
                RETENTION,
                what,
                keys,
                reason,
                "; catalog row deleted (no local files left)" if left is None else "",
            )
        self._queued(ctx, report)

    def _queued(self, ctx: PassContext, report: PassReport) -> None:
        """Copies whose catalog row was deleted otherwise (forced deletion of their
        definition, ...): their objects go, derived from the facts the row left."""
        stats = report.task(RETENTION)
        for row in ocat.queued_deletions(ctx.cat, ctx.server_id):
            if ctx.should_stop():
                return
            what = f"offsite copy of deleted backup bck_id={row['bck_id']}"
            if ctx.dry_run:
                ctx.would(
                    report,
                    f"WOULD DELETE {what}: its catalog row was deleted: "
                    f"{row['offsite_location']}",
                )
                continue
            try:
                keys = copies.delete(self.store(row["offsite_endpoint"] or ""), row)
                ocat.queued_deletion_done(ctx.cat, int(row["del_id"]))
            except CatalogUnavailableError:
                raise
            except (PgBackManError, ValueError) as exc:
                message = f"Deleting the {what} failed: {exc}"
                report.error(RETENTION, message)
                _alert(ctx, row, message, f"offsite-delete:bck:{row['bck_id']}")
                continue
            stats.deleted += 1
            stats.files += keys
            log.info("[%s] deleted %s (%d keys)", RETENTION, what, keys)
