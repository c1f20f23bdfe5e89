"""The pgbackman_maintenance daemon: one maintenance pass every ``maintenance_interval``
seconds (:class:`pgbackman.infra.daemon.Daemon` keeps the pace and handles the signals).

The loop never dies of a lost catalog: the pass is abandoned, the connection closed, and
the next try comes ``pg_connect_retry_interval`` seconds later. A host that is not a
registered backup server is an error that ends the daemon (nothing to work on).
"""

from __future__ import annotations

import logging
from typing import Any

from pgbackman.config import Config
from pgbackman.errors import CatalogUnavailableError
from pgbackman.infra.daemon import Daemon
from pgbackman.maintenance.runner import Maintenance

log = logging.getLogger("pgbackman_maintenance")


class MaintenanceDaemon(Daemon):
    """Maintenance passes at a fixed pace until SIGTERM."""

    program = "pgbackman_maintenance"

    def __init__(self, cfg: Config, **options: Any) -> None:
        super().__init__(cfg, **options)  # flags=, log_to_stderr= (see Daemon)
        self.maintenance = Maintenance(cfg, should_stop=self.flags.should_stop)

    def cycle_interval(self) -> float:
        return float(self.cfg.maintenance.maintenance_interval)

    def startup(self) -> None:
        # SIGTERM while a catalog call waits for a hung catalog: end the call at once.
        self.flags.on_stop(lambda: self.maintenance.cat.interrupt())
        log.info(
            "%s started (interval %ss)",
            self.program,
            self.cfg.maintenance.maintenance_interval,
        )

    def shutdown(self) -> None:
        self.maintenance.cat.close()
        log.info("%s stopped", self.program)

    def run_cycle(self) -> float | None:
        cat = self.maintenance.cat
        retry = float(self.cfg.database.pg_connect_retry_interval)
        try:
            cat.connect()
        except CatalogUnavailableError as exc:
            log.critical(
                "%s; retrying in %ss", exc, self.cfg.database.pg_connect_retry_interval
            )
            return retry
        try:
            self.maintenance.run_pass()
        except CatalogUnavailableError as exc:
            if self.flags.should_stop():
                return None
            log.error("Catalog lost during the pass: %s; reconnecting", exc)
            cat.close()
            # A catalog that accepts connections but fails every pass must not spin us.
            return retry
        return None

    def reconfigure(self, old: Config) -> None:
        """SIGHUP: the next pass runs with the new settings, on a new connection."""
        self.maintenance.cat.close()
        self.maintenance = Maintenance(self.cfg, should_stop=self.flags.should_stop)
