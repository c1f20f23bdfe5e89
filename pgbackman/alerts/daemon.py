"""The pgbackman_alerts daemon: one delivery cycle every ``alerts_check_interval`` seconds
(:class:`pgbackman.infra.daemon.Daemon` keeps the pace, the signals and systemd notify).

The loop never dies of a lost catalog (the next try comes ``pg_connect_retry_interval``
seconds later) nor of one bad cycle (logged; the next cycle comes at the regular pace). A
host that is not a registered backup server ends the daemon: it has nothing to send.
"""

from __future__ import annotations

import logging
from typing import Any

from pgbackman.alerts.sender import AlertSender
from pgbackman.config import Config
from pgbackman.errors import (
    CatalogUnavailableError,
    DeliveryError,
    ServerNotRegisteredError,
)
from pgbackman.infra.daemon import Daemon

log = logging.getLogger("pgbackman_alerts")


class AlertsDaemon(Daemon):
    """Delivery cycles at a fixed pace until SIGTERM."""

    program = "pgbackman_alerts"

    def __init__(self, cfg: Config, **options: Any) -> None:
        super().__init__(cfg, **options)  # flags=, log_to_stderr= (see Daemon)
        self.sender = AlertSender(cfg)

    def cycle_interval(self) -> float:
        return float(self.cfg.alerts.alerts_check_interval)

    def startup(self) -> None:
        # SIGTERM while a catalog call waits for a hung catalog: end the call at once.
        self.flags.on_stop(lambda: self.sender.cat.interrupt())
        self.sender.check()  # an unusable notify URL is said now, not at the first alert
        log.info(
            "%s started (interval %ss)",
            self.program,
            self.cfg.alerts.alerts_check_interval,
        )

    def shutdown(self) -> None:
        self.sender.cat.close()
        log.info("%s stopped", self.program)

    def run_cycle(self) -> float | None:
        cat = self.sender.cat
        retry = float(self.cfg.database.pg_connect_retry_interval)
        try:
            cat.connect()
            self.sender.run_cycle()
        except CatalogUnavailableError as exc:
            if self.flags.should_stop():
                return None
            log.error(
                "%s; retrying in %ss", exc, self.cfg.database.pg_connect_retry_interval
            )
            cat.close()
            return retry
        except ServerNotRegisteredError:
            raise
        except (
            Exception
        ):  # one bad cycle must not end the alerting (logged with traceback)
            log.exception(
                "Delivery cycle failed; the next one comes at the regular pace"
            )
            cat.close()
        return None

    def reconfigure(self, old: Config) -> None:
        """SIGHUP: the next cycle uses the new settings, on a new connection."""
        self.sender.cat.close()
        self.sender = AlertSender(self.cfg)
        try:
            self.sender.check()
        except DeliveryError as exc:
            log.error("After the reload: %s", exc)
