"""The health of one restore drill: FAILED, OVERDUE or fine (pure logic).

A restore drill is the strongest evidence there is about a backup: it was restored and
compared with what the dump recorded. One owner for the verdict that ``pgbackman_check``
and ``pgbackman_metrics`` both show, so they never disagree. Input is one row of the
catalog view ``restore_drill_health`` (see ``catalog/monitoring.py``); when a drill is due
is SQL ``restore_drill_is_due()``, this module only says when that has gone wrong.

* Nothing is expected of a drill that is STOPPED or whose definition is not ACTIVE
  (stopping the drill is how an operator says "known, leave it").
* FAILED: its newest run ended in ERROR (the backup did not restore, or did not match its
  facts). That stays so until a newer run succeeds (e.g. ``pgbackman_restore --drill N``
  by hand after the cause was fixed).
* OVERDUE: due for longer than its interval again, i.e. no run started for twice its
  interval (never run: twice its interval since it was registered). Judged only while the
  drill can run at all: its drill node is RUNNING and its definition has a SUCCEEDED
  backup (a definition without one is reported as STALE or FAILED already).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OVERDUE_FACTOR = 2  # due for one more interval after it became due


@dataclass(frozen=True)
class DrillVerdict:
    """What is wrong with one drill (``reason`` is empty when nothing is)."""

    active: bool
    failed: bool
    overdue: bool
    reason: str

    @property
    def problem(self) -> bool:
        return self.failed or self.overdue


def _when(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S%z")


def judge(row: Mapping[str, Any], now: dt.datetime) -> DrillVerdict:
    """The verdict for one ``restore_drill_health`` row at ``now`` (catalog clock)."""
    if row["drill_status"] != "ACTIVE" or row["job_status"] != "ACTIVE":
        return DrillVerdict(False, False, False, "")
    failed = row["last_run_status"] == "ERROR"
    interval: dt.timedelta = row["drill_interval"]
    last = row["last_run_started"]
    since = last or row["drill_registered"]
    overdue = (
        row["drill_node_status"] == "RUNNING"
        and bool(row["has_successful_backup"])
        and since <= now - OVERDUE_FACTOR * interval
    )
    reasons = []
    if failed:
        error = " ".join(str(row["last_run_error"] or "no error message").split())
        reasons.append(f"newest drill run {row['last_run_id']} failed: {error}")
    if overdue:
        what = (
            f"no drill run since {_when(last)}"
            if last
            else f"never run since the drill was registered {_when(since)}"
        )
        reasons.append(f"{what} (interval {_interval_text(interval)})")
    return DrillVerdict(True, failed, overdue, "; ".join(reasons))


def _interval_text(value: dt.timedelta) -> str:
    """``7 days``, ``1 hour``, ``1 day 12 hours``: as an operator typed it, more or less."""
    rest = int(value.total_seconds())
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n} {unit}{'' if n == 1 else 's'}")
    return " ".join(parts) or "0 seconds"
