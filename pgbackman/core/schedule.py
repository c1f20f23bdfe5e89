"""When a backup definition's cron schedule fires, and whether it is STALE (pure logic).

A definition is STALE when its schedule has fired since its newest SUCCEEDED backup (or, with
none, since the definition was registered) and ``stale_backup_grace`` has passed since that
fire time without a new success. That one rule covers a dump that keeps failing, a stopped
cron, a lost crontab file and a wrong program path alike, and a definition that never ran.

The schedule is read with croniter (Vixie cron semantics: names, ranges, steps, weekday 7 =
Sunday, day-of-month OR day-of-week when both are restricted), never by hand. Cron fires in
the backup server's local time: pass ``tz`` (a ``zoneinfo.ZoneInfo``) to say which zone, or
None for the zone of this process (Python's own local-time conversion, DST included).
Cron field *validation* is not here (see ``core/cron.py`` and ``core/cronfields.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from croniter import croniter

from pgbackman.errors import ScheduleError

_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4096)
def _valid(expr: str) -> bool:
    return bool(croniter.is_valid(expr))


@functools.lru_cache(maxsize=4096)
def _iterator(expr: str) -> croniter:
    # A fleet shares few schedules: parse each once and move its iterator (set_current),
    # several times cheaper than a new croniter per definition and per judgement.
    return croniter(expr, dt.datetime(2000, 1, 1))


def cron_expression(fields: Sequence[str]) -> str:
    """The five cron fields (minutes, hours, day of month, month, weekday) as one line."""
    if len(fields) != 5:
        raise ScheduleError(f"A cron schedule has 5 fields, got {len(fields)}")
    expr = " ".join(str(f).strip() for f in fields)
    if not _valid(expr):
        raise ScheduleError(f"Invalid cron schedule {expr!r}")
    return expr


def _aware(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (catalog timestamptz)")
    return value


def _fire(
    expr: str, start: dt.datetime, tz: dt.tzinfo | None, forward: bool
) -> dt.datetime:
    if tz is not None:
        start = start.astimezone(tz)
    else:
        # Local time of this process: iterate on the naive wall clock, then let Python
        # attach the local offset valid at that instant (DST changes included).
        start = start.astimezone().replace(tzinfo=None)
    it = _iterator(expr)
    with _LOCK:  # a shared iterator (pgbackman_metrics scrapes from several threads)
        it.set_current(start, force=True)
        fired: dt.datetime = (
            it.get_next(dt.datetime) if forward else it.get_prev(dt.datetime)
        )
    return fired if tz is not None else fired.astimezone()


def next_fire(
    expr: str, after: dt.datetime, tz: dt.tzinfo | None = None
) -> dt.datetime:
    """The first time strictly after ``after`` that ``expr`` fires (aware datetime)."""
    return _fire(expr, _aware(after, "after"), tz, True)


def previous_fire(
    expr: str, before: dt.datetime, tz: dt.tzinfo | None = None
) -> dt.datetime:
    """The last time strictly before ``before`` that ``expr`` fired (aware datetime)."""
    return _fire(expr, _aware(before, "before"), tz, False)


@dataclass(frozen=True)
class Staleness:
    """The stale verdict of one definition at ``now``.

    ``since``: the newest success (or the registration when there is none); ``due``: the
    first scheduled run after it; ``deadline``: ``due`` + grace. Stale when now >= deadline.
    """

    stale: bool
    since: dt.datetime
    due: dt.datetime
    deadline: dt.datetime

    def overdue(self, now: dt.datetime) -> dt.timedelta:
        return max(dt.timedelta(0), now - self.deadline)


def staleness(
    expr: str,
    last_success: dt.datetime | None,
    registered: dt.datetime,
    now: dt.datetime,
    grace: dt.timedelta,
    tz: dt.tzinfo | None = None,
) -> Staleness:
    """Decide whether a definition with schedule ``expr`` is STALE at ``now``."""
    _aware(now, "now")
    if grace < dt.timedelta(0):
        raise ValueError("stale_backup_grace must not be negative")
    since = _aware(last_success, "last_success") if last_success else registered
    _aware(since, "registered")
    due = next_fire(expr, since, tz)
    deadline = due + grace
    return Staleness(stale=now >= deadline, since=since, due=due, deadline=deadline)
