"""The pgbackman_control main loop: LISTEN/NOTIFY, coalescing, reconnects, periodic resync.

Shape (patroni): signal handlers only set flags; each turn of the loop waits at most about a
second for notifications, so SIGTERM is acted on promptly, and never in the middle of a file
installation. On every (re)connect the daemon LISTENs first and then resyncs everything:
notifications sent while it was disconnected are lost, the catalog state is not.

A single change is acted on at once: the notifications already there are drained and
handled (one pop of the whole job queue, each affected node's file rewritten once), so a
definition change reaches its crontab file in the time of one node's rendering. Only a
burst is coalesced: a notification within BURST_GAP of the last handling means changes are
still coming, so the daemon collects until they pause for COALESCE_WINDOW (at most
COALESCE_MAX) and handles them together. A full resync also runs every
``[pgbackman_control] resync_interval`` seconds in case a notification was missed anyway.
"""

from __future__ import annotations

import logging
from typing import Any
import time

from pgbackman.catalog import control as ccat
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.control.resync import Controller
from pgbackman.errors import CatalogUnavailableError, PgBackManError
from pgbackman.infra.daemon import Daemon

log = logging.getLogger("pgbackman_control")

APPLICATION_NAME = "pgbackman_control"
WAIT_SLICE = 1.0  # seconds per wait for notifications (bounds the SIGTERM latency)
BURST_GAP = 0.5  # a notification this soon after the last handling: a burst is going on
COALESCE_WINDOW = 0.15  # in a burst, collect until notifications pause this long ...
COALESCE_MAX = 1.0  # ... but never longer than this in total
DRILL_CHECK_INTERVAL = 60.0  # seconds between two looks for restore drills fallen due

NODE_STATUS_CHANNELS = {"channel_pgsql_node_running", "channel_pgsql_node_stopped"}
NODE_DELETED_CHANNEL = "channel_pgsql_node_deleted"
AT_CHANNELS = {"channel_snapshot_defined", "channel_restore_defined"}


class ControlDaemon(Daemon):
    """One backup server's control loop (see :class:`pgbackman.infra.daemon.Daemon`)."""

    program = APPLICATION_NAME

    def __init__(self, cfg: Config, **options: Any) -> None:
        super().__init__(cfg, **options)  # flags=, log_to_stderr= (see Daemon)
        self.cat = Catalog(cfg.database, APPLICATION_NAME)
        self.controller = Controller(cfg, self.cat)
        self.listening: set[str] = set()
        self.next_resync = 0.0
        self.next_drill_check = 0.0
        self.last_handled = -BURST_GAP  # monotonic time of the last handling

    # -- one-shot ------------------------------------------------------------------------
    def run_once(self) -> int:
        """Full resync, then exit status 0 (1 when a node failed: details in the log).
        Raises PgBackManError when the resync could not run at all."""
        try:
            self.cat.connect()
            ok = self.controller.full_resync()
        finally:
            self.cat.close()
        return 0 if ok else 1

    # -- daemon --------------------------------------------------------------------------
    def startup(self) -> None:
        log.info("**** Pgbackman_Control started. ****")
        # SIGTERM while a catalog call waits for a hung catalog: end the call at once.
        self.flags.on_stop(lambda: self.cat.interrupt())

    def shutdown(self) -> None:
        self.cat.close()
        log.info("**** Pgbackman_Control stopped. ****")

    def run_cycle(self) -> float | None:
        """One turn: (re)connect, or wait up to WAIT_SLICE for notifications and act."""
        retry = float(self.cfg.database.pg_connect_retry_interval)
        try:
            if not self.cat.is_open:
                self._connect()
                return None
            channels = self._wait_burst()
            if channels:
                self.handle(channels)
                self.last_handled = time.monotonic()
            elif self.controller.retries and self.controller.due_retries():
                self.controller.sync_queue()
            if time.monotonic() >= self.next_resync:
                self._full_resync()
            elif time.monotonic() >= self.next_drill_check:
                # Drills fall due with time, not with a notification.
                self.controller.schedule_at_jobs(("drill",))
                self.next_drill_check = time.monotonic() + DRILL_CHECK_INTERVAL
        except CatalogUnavailableError as exc:
            if self.flags.should_stop():
                return None
            log.critical("%s; reconnecting in %ss", exc, retry)
            self.cat.close()
            return retry
        except PgBackManError as exc:
            log.error("%s", exc)
            self.cat.close()  # LISTEN + full resync on the next turn
            return retry
        except Exception:  # the daemon outlives any one bad turn
            log.exception("General error in main loop")
            self.cat.close()
            return retry
        return None

    def _connect(self) -> None:
        """(Re)connect: LISTEN first, then a full resync."""
        self.cat.connect()
        self.listening = set()
        server = self.controller.load_server()
        self._refresh_listen(server.server_id)
        log.info(
            "Connected to the catalog; listening on %d channels as backup server %s (id %s)",
            len(self.listening),
            server.fqdn,
            server.server_id,
        )
        self._full_resync()

    def _full_resync(self) -> None:
        self.controller.full_resync()  # due drills included
        self.next_resync = time.monotonic() + max(1, self.cfg.control.resync_interval)
        self.next_drill_check = time.monotonic() + DRILL_CHECK_INTERVAL

    def _refresh_listen(self, server_id: int) -> None:
        wanted = set(ccat.listen_channel_names(self.cat, server_id))
        new = sorted(wanted - self.listening)
        gone = sorted(self.listening - wanted)
        if new:
            self.cat.listen(new)
        if gone:
            self.cat.unlisten(gone)
        self.listening = wanted

    def _wait_burst(self) -> set[str]:
        """Wait up to WAIT_SLICE for a notification; a single change is returned at once
        (with whatever already arrived), a burst once it pauses (see module docstring)."""
        notes = self.cat.wait_notifications(WAIT_SLICE)
        if not notes:
            return set()
        channels = {ch for ch, _payload in notes}
        start = time.monotonic()
        if start - self.last_handled >= BURST_GAP:
            while more := self.cat.wait_notifications(0):
                channels |= {ch for ch, _payload in more}
            return channels
        quiet_until = start + COALESCE_WINDOW
        while not self.flags.should_stop():
            now = time.monotonic()
            if now >= quiet_until or now - start >= COALESCE_MAX:
                break
            more = self.cat.wait_notifications(quiet_until - now)
            if more:
                channels |= {ch for ch, _payload in more}
                quiet_until = time.monotonic() + COALESCE_WINDOW
        return channels

    def handle(self, channels: set[str]) -> None:
        """Act once on a set of channel names (payloads are informational only)."""
        log.debug("Notifications on %s", ", ".join(sorted(channels)))
        server_id = self.controller.srv.server_id
        if channels & NODE_STATUS_CHANNELS or NODE_DELETED_CHANNEL in channels:
            self._refresh_listen(server_id)
        if NODE_DELETED_CHANNEL in channels:
            self.controller.process_deletions()
        if channels & NODE_STATUS_CHANNELS:
            # Which node changed is not in the notification: rewrite every node of ours.
            self.controller.sync_all_nodes()
        else:
            self.controller.sync_queue()
        if channels & AT_CHANNELS:
            self.controller.schedule_at_jobs()

    def reconfigure(self, old: Config) -> None:
        """SIGHUP: new settings apply at once; LISTEN is kept unless the catalog moved."""
        self.controller.cfg = self.cfg
        if self.cfg.database != old.database:
            log.info("Catalog connection settings changed: reconnecting")
            self.cat.close()
            self.cat = Catalog(self.cfg.database, APPLICATION_NAME)
            self.controller.cat = self.cat
        self.next_resync = 0.0  # resync with the new settings
