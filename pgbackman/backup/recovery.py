"""``pause_recovery_process_on_slave``: pause WAL replay on a standby while it is dumped.

Decisions are pure functions (unit-tested); :class:`ReplayPause` applies them on a control
connection whose ``application_name=pgbackman_dump`` row in ``pg_stat_activity`` tells other
runs that a dump is in progress. Replay is resumed in ``finally`` (also after a failed or
stopped dump) unless another pgbackman_dump still works on the node; then the last one
resumes it (upstream §4.6, with the PostgreSQL >= 10 ``pg_wal_replay_*`` names).
"""

from __future__ import annotations

import logging
from types import TracebackType

import psycopg2.extensions

from pgbackman.pgnode import globals as nodeglobals
from pgbackman.errors import PgBackManError

log = logging.getLogger(__name__)
APPLICATION_NAME = "pgbackman_dump"


def should_pause(enabled: bool, in_recovery: bool, paused: bool) -> bool:
    return enabled and in_recovery and not paused


def should_resume(
    enabled: bool, in_recovery: bool, paused: bool, other_dumpers: int
) -> bool:
    """Resume when replay is paused and no other pgbackman_dump is still running here."""
    return enabled and in_recovery and paused and other_dumpers == 0


class ReplayPause:
    """Context manager: pause on enter when needed, resume on exit when we are the last."""

    def __init__(
        self, conn: psycopg2.extensions.connection | None, enabled: bool
    ) -> None:
        self.conn = conn
        self.enabled = enabled and conn is not None

    def __enter__(self) -> ReplayPause:
        if not self.enabled or self.conn is None:
            return self
        try:
            rec, paused = nodeglobals.recovery_state(self.conn)
            if should_pause(True, rec, paused):
                nodeglobals.pause_replay(self.conn)
                log.info("WAL replay paused on the standby for the dump")
            elif rec and paused:
                log.info("WAL replay already paused on the standby")
        except PgBackManError as exc:
            log.error("Could not pause WAL replay: %s", exc)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.enabled or self.conn is None:
            return
        try:
            rec, paused = nodeglobals.recovery_state(self.conn)
            others = (
                nodeglobals.other_dumpers(self.conn, APPLICATION_NAME) if paused else 0
            )
            if should_resume(True, rec, paused, others):
                nodeglobals.resume_replay(self.conn)
                log.info("WAL replay resumed on the standby")
            elif rec and paused:
                log.info(
                    "WAL replay left paused: %s other pgbackman_dump session(s) running",
                    others,
                )
        except PgBackManError as exc:
            log.error("Could not resume WAL replay (check the standby!): %s", exc)
