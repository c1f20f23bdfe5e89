"""One delivery cycle of pgbackman_alerts for this backup server.

Per cycle: read the unsent alerts (oldest first), then

* mail (``smtp_alerts = ON``): ONE message per recipient -- the node's ``logs_email`` that
  ``raise_alert()`` stored in ``sendto``, or ``default_recipient`` for alerts that concern no
  node -- over one SMTP session;
* ``notify_urls``: ONE message with every alert of the cycle not yet delivered there.

An alert is marked sent only after every channel it needs has delivered it
(``record_alert_delivery``); a failed channel records the attempt and the error and the
alert is retried next cycle (delivery is at least once: a catalog lost between the send and
the record sends again). With ``smtp_alerts = OFF`` and no ``notify_urls`` alerts are
marked sent unsent (upstream's behaviour, so switching mail on later sends no backlog).
An alert with no channel at all (no recipient, no URL) stays unsent with its reason:
``pgbackman_check`` and ``show_alerts`` show it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from pgbackman.alerts import urls as url_targets
from pgbackman.alerts.smtp import SmtpConnection
from pgbackman.catalog import alerts as cat_alerts
from pgbackman.catalog import monitoring as mon
from pgbackman.catalog import servers
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.core import digest
from pgbackman.errors import DeliveryError
from pgbackman.version import SOFTWARE_VERSION

log = logging.getLogger("pgbackman_alerts")

MAIL, URLS = cat_alerts.MAIL, cat_alerts.URLS
NO_RECIPIENT = (
    "no recipient: the alert concerns no node (or the node has no logs_email) and "
    "[pgbackman_alerts] default_recipient is empty"
)


@dataclass
class CycleReport:
    """What one cycle did (also the exit status of ``--once``)."""

    pending: int = 0
    mails: int = 0
    notifications: int = 0
    marked: int = 0  # alerts that became sent
    failures: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def load_template(path: str) -> str:
    """The alerts template; the built-in one when the file cannot be read (logged)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        log.warning(
            "Alerts template %s cannot be read (%s); using the built-in template",
            path,
            exc,
        )
        return digest.DEFAULT_TEMPLATE


def mail_message(msg: digest.Message, sender: str, version: str) -> EmailMessage:
    out = EmailMessage()
    out["From"] = sender
    out["To"] = msg.recipient or ""
    out["Subject"] = msg.subject
    out["Date"] = email.utils.formatdate(localtime=True)
    out["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or None)
    out["User-Agent"] = f"pgbackman_alerts (v.{version})"
    out.set_content(msg.body)
    return out


class AlertSender:
    """Delivers the unsent alerts of the backup server named in the configuration."""

    def __init__(
        self,
        cfg: Config,
        cat: Catalog | None = None,
        smtp_factory: Callable[[Any], SmtpConnection] = SmtpConnection,
    ) -> None:
        self.cfg = cfg
        self.cat = cat or Catalog(cfg.database, application_name="pgbackman_alerts")
        self.smtp_factory = smtp_factory
        self._server_id: int | None = None

    def server_id(self) -> int:
        if self._server_id is None:
            fqdn = self.cfg.backup_server.fqdn
            srv = mon.server_by_fqdn(self.cat, fqdn)
            self._server_id = servers.registered(fqdn, srv)
        return self._server_id

    # -- the cycle ------------------------------------------------------------------------
    def run_cycle(self) -> CycleReport:
        """Send what is pending now. Raises CatalogUnavailableError when the catalog is lost."""
        acfg = self.cfg.alerts
        report = CycleReport()
        rows = cat_alerts.unsent_alerts(self.cat, self.server_id())
        report.pending = len(rows)
        if not rows:
            return report
        urls = acfg.urls
        if not acfg.smtp_alerts and not urls:
            # Upstream: OFF marks alerts sent, so turning mail on later sends no backlog.
            report.marked += cat_alerts.record_delivery(
                self.cat, [int(r["alert_id"]) for r in rows], None, []
            )
            log.info(
                "%d alert(s) marked sent (smtp_alerts = OFF, no notify_urls)", len(rows)
            )
            return report
        rows = self._settle(rows, urls, report)
        if not rows:
            return report
        now = mon.now(self.cat)
        template = load_template(acfg.alerts_template)
        server = str(rows[0]["backup_server_fqdn"])
        if acfg.smtp_alerts:
            self._mail(rows, urls, template, server, now, report)
        if urls:
            self._notify(rows, urls, template, server, now, report)
        return report

    def _settle(
        self, rows: list[Any], urls: list[str], report: CycleReport
    ) -> list[Any]:
        """Mark sent the alerts whose needed channels all delivered already (the
        configuration changed since, e.g. notify_urls was emptied); return the others."""
        done: dict[tuple[str, ...], list[int]] = defaultdict(list)
        rest = []
        for r in rows:
            required = tuple(self._required(self._recipient(r), urls))
            if required and set(required) <= set(r["delivered"] or []):
                done[required].append(int(r["alert_id"]))
            else:
                rest.append(r)
        for required, ids in done.items():
            report.marked += cat_alerts.record_delivery(
                self.cat, ids, None, list(required)
            )
        return rest

    def _required(self, recipient: str | None, urls: list[str]) -> list[str]:
        needed = [MAIL] if self.cfg.alerts.smtp_alerts and recipient else []
        return needed + ([URLS] if urls else [])

    def _recipient(self, row: Mapping[str, Any]) -> str | None:
        return row["sendto"] or self.cfg.alerts.default_recipient or None

    def _mail(
        self,
        rows: list[Any],
        urls: list[str],
        template: str,
        server: str,
        now: dt.datetime,
        report: CycleReport,
    ) -> None:
        acfg = self.cfg.alerts
        groups: dict[str | None, list[Any]] = defaultdict(list)
        for r in rows:
            if MAIL not in (r["delivered"] or []):
                groups[self._recipient(r)].append(r)
        lost = groups.pop(None, [])
        if lost and not urls:
            ids = [int(r["alert_id"]) for r in lost]
            cat_alerts.record_delivery_failure(self.cat, ids, MAIL, NO_RECIPIENT)
            report.failures.append(f"{len(ids)} alert(s): {NO_RECIPIENT}")
            log.error("%d alert(s) cannot be delivered: %s", len(ids), NO_RECIPIENT)
        if not groups:
            return
        messages = [
            digest.digest(
                template,
                group,
                recipient,
                server,
                now,
                SOFTWARE_VERSION,
                acfg.digest_max_items,
            )
            for recipient, group in sorted(groups.items(), key=lambda kv: str(kv[0]))
        ]
        try:
            session = self.smtp_factory(acfg)
            session.open()
        except DeliveryError as exc:
            for m in messages:
                self._failed(m, MAIL, str(exc), report)
            return
        try:
            for m in messages:
                try:
                    session.send(
                        mail_message(m, acfg.smtp_from_address, SOFTWARE_VERSION)
                    )
                except DeliveryError as exc:
                    self._failed(m, MAIL, str(exc), report)
                    continue
                report.mails += 1
                report.marked += cat_alerts.record_delivery(
                    self.cat, list(m.alert_ids), MAIL, self._required(m.recipient, urls)
                )
                log.info(
                    "Mail with %d alert(s) sent to %s", len(m.alert_ids), m.recipient
                )
        finally:
            session.close()

    def _notify(
        self,
        rows: list[Any],
        urls: list[str],
        template: str,
        server: str,
        now: dt.datetime,
        report: CycleReport,
    ) -> None:
        todo = [r for r in rows if URLS not in (r["delivered"] or [])]
        if not todo:
            return
        m = digest.digest(
            template,
            todo,
            None,
            server,
            now,
            SOFTWARE_VERSION,
            self.cfg.alerts.digest_max_items,
        )
        try:
            url_targets.notify(urls, m.subject, digest.summary(m))
        except DeliveryError as exc:
            self._failed(m, URLS, str(exc), report)
            return
        report.notifications += 1
        by_required: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for r in todo:
            by_required[tuple(self._required(self._recipient(r), urls))].append(
                int(r["alert_id"])
            )
        for required, ids in by_required.items():
            report.marked += cat_alerts.record_delivery(
                self.cat, ids, URLS, list(required)
            )
        log.info(
            "Notification with %d alert(s) sent to %d URL(s)", len(todo), len(urls)
        )

    def _failed(
        self, m: digest.Message, channel: str, error: str, report: CycleReport
    ) -> None:
        cat_alerts.record_delivery_failure(self.cat, list(m.alert_ids), channel, error)
        report.failures.append(error)
        log.error(
            "Delivery of %d alert(s) by %s failed (retried next cycle): %s",
            len(m.alert_ids),
            channel,
            error,
        )

    def check(self) -> None:
        """Configuration problems that would make every cycle fail, said at start-up."""
        urls = self.cfg.alerts.urls
        if urls:
            url_targets.check_urls(urls)
        if not self.cfg.alerts.smtp_alerts and not urls:
            log.warning(
                "smtp_alerts = OFF and no notify_urls: alerts are marked sent, not sent"
            )
