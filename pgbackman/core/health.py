"""The health of one backup definition: OK, STALE, FAILED or INACTIVE (pure logic).

One owner for the verdict that maintenance (stale alerts), pgbackman_check,
pgbackman_metrics, the Zabbix helpers and the shell's ``show_backup_status`` all show, so
they never disagree. Input is one row of the catalog view ``backup_definition_health``
(see ``catalog/monitoring.py``); the stale rule itself is :mod:`pgbackman.core.schedule`.

* INACTIVE: the definition is not ACTIVE or its node is not RUNNING (no crontab line is
  installed for it on purpose, so nothing is expected).
* FAILED: its newest run ended in ERROR.
* STALE: no success where its schedule wants one (see ``core/schedule.py``).
* OK: everything else, including a new definition whose first run is not yet due.
A definition that is both failed and stale is FAILED (the failure carries the reason); both
flags are kept for metrics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pgbackman.core.schedule import cron_expression, staleness
from pgbackman.errors import ScheduleError

OK = "OK"
STALE = "STALE"
FAILED = "FAILED"
INACTIVE = "INACTIVE"
STATES = (OK, STALE, FAILED, INACTIVE)
SCHEDULE_COLUMNS = (
    "minutes_cron",
    "hours_cron",
    "day_month_cron",
    "month_cron",
    "weekday_cron",
)


@dataclass(frozen=True)
class Verdict:
    """What is wrong with one definition (``reason`` is empty when it is OK)."""

    state: str
    stale: bool
    failed: bool
    reason: str
    due: dt.datetime | None = None  # the scheduled run a success is missing for

    @property
    def problem(self) -> bool:
        return self.state in (STALE, FAILED)


def _when(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S%z")


def judge(
    row: Mapping[str, Any], now: dt.datetime, tz: dt.tzinfo | None = None
) -> Verdict:
    """The verdict for one ``backup_definition_health`` row at ``now`` (catalog clock)."""
    if row["job_status"] != "ACTIVE" or row["pgsql_node_status"] != "RUNNING":
        return Verdict(INACTIVE, False, False, "")
    failed = row["last_run_status"] == "ERROR"
    fail_reason = (
        f"last run failed: {(row['last_run_error'] or 'no error message').strip()}"
        if failed
        else ""
    )
    try:
        expr = cron_expression([row[c] for c in SCHEDULE_COLUMNS])
        verdict = staleness(
            expr,
            row["last_success_finished"],
            row["def_registered"],
            now,
            row["stale_backup_grace"],
            tz,
        )
    except ScheduleError as exc:
        # A schedule cron cannot read never runs either: that is as stale as it gets.
        return Verdict(STALE if not failed else FAILED, True, failed, str(exc))
    stale_reason = ""
    if verdict.stale:
        last = row["last_success_finished"]
        stale_reason = (
            f"no successful backup since {_when(last)}"
            if last
            else f"no successful backup since the definition was registered {_when(verdict.since)}"
        ) + (
            f"; the run scheduled at {_when(verdict.due)} is overdue"
            f" (grace {row['stale_backup_grace']})"
        )
    if failed:
        reason = fail_reason + (f"; {stale_reason}" if stale_reason else "")
        return Verdict(FAILED, verdict.stale, True, reason, verdict.due)
    if verdict.stale:
        return Verdict(STALE, True, False, stale_reason, verdict.due)
    return Verdict(OK, False, False, "", verdict.due)
