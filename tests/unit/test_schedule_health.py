"""Cron fire times, the STALE rule and the definition verdict (core/schedule.py, core/health.py).

Every instant is built with an explicit zone, so the results do not depend on the date or on
the zone the suite runs in; the tests of the process-local zone set TZ themselves.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pgbackman.core import health
from pgbackman.core.schedule import (
    ScheduleError,
    cron_expression,
    next_fire,
    previous_fire,
    staleness,
)

UTC = dt.timezone.utc
PLUS_0530 = dt.timezone(dt.timedelta(hours=5, minutes=30))
HOURLY = "0 * * * *"
DAILY_3AM = "0 3 * * *"


def at(*args: int, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def test_expression_joins_five_fields_and_refuses_garbage() -> None:
    assert cron_expression(["0", "3", "*", "*", "mon-fri"]) == "0 3 * * mon-fri"
    with pytest.raises(ScheduleError, match="5 fields"):
        cron_expression(["0", "3", "*", "*"])
    with pytest.raises(ScheduleError, match="Invalid cron schedule"):
        cron_expression(["61", "3", "*", "*", "*"])


def test_next_and_previous_fire_are_strict() -> None:
    t = at(2030, 5, 6, 10, 0)
    assert next_fire(HOURLY, t, UTC) == at(2030, 5, 6, 11, 0)
    assert previous_fire(HOURLY, t, UTC) == at(2030, 5, 6, 9, 0)
    assert next_fire(DAILY_3AM, at(2030, 5, 6, 3, 0, 1), UTC) == at(2030, 5, 7, 3, 0)


def test_fire_times_follow_the_given_zone() -> None:
    # 03:00 in +05:30 is 21:30 UTC of the previous day.
    fired = next_fire(DAILY_3AM, at(2030, 5, 6, 12, 0), PLUS_0530)
    assert fired.astimezone(UTC) == at(2030, 5, 6, 21, 30)


def test_daylight_saving_day_keeps_wall_clock_times() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    # Oslo springs forward on 2030-03-31 (02:00 -> 03:00): 03:30 local is still 03:30 local.
    before = dt.datetime(2030, 3, 30, 12, 0, tzinfo=oslo)
    fired = next_fire("30 3 * * *", before, oslo)
    assert (fired.hour, fired.minute, fired.utcoffset()) == (
        3,
        30,
        dt.timedelta(hours=2),
    )


def test_weekday_seven_and_names_are_sunday() -> None:
    monday = at(2030, 5, 6, 0, 0)  # 2030-05-06 is a Monday
    assert next_fire("0 1 * * 7", monday, UTC) == at(2030, 5, 12, 1, 0)
    assert next_fire("0 1 * * sun", monday, UTC) == at(2030, 5, 12, 1, 0)


def test_day_of_month_or_weekday_like_vixie_cron() -> None:
    monday = at(2030, 5, 6, 0, 0)
    # "the 20th OR a Wednesday": the Wednesday comes first.
    assert next_fire("0 1 20 * wed", monday, UTC) == at(2030, 5, 8, 1, 0)


@pytest.fixture
def local_zone(request: pytest.FixtureRequest) -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.mark.parametrize("local_zone", ["UTC", "Asia/Kolkata"], indirect=True)
def test_process_local_zone_when_no_zone_is_given(local_zone: None) -> None:
    start = at(2030, 5, 6, 12, 0)
    local = next_fire(DAILY_3AM, start)
    assert (local.astimezone().hour, local.astimezone().minute) == (3, 0)
    assert local == next_fire(DAILY_3AM, start, ZoneInfo(os.environ["TZ"]))


def test_stale_only_after_the_missed_run_plus_grace() -> None:
    last = at(2030, 5, 6, 3, 5)  # the 03:00 run succeeded
    grace = dt.timedelta(hours=2)
    reg = at(2030, 1, 1)
    due = at(2030, 5, 7, 3, 0)
    assert not staleness(DAILY_3AM, last, reg, due, grace, UTC).stale
    just_before = due + grace - dt.timedelta(seconds=1)
    assert not staleness(DAILY_3AM, last, reg, just_before, grace, UTC).stale
    verdict = staleness(DAILY_3AM, last, reg, due + grace, grace, UTC)
    assert verdict.stale and verdict.due == due and verdict.since == last


def test_three_day_old_success_on_hourly_schedule_is_stale() -> None:
    now = at(2030, 5, 9, 12, 17)
    last = now - dt.timedelta(days=3)
    verdict = staleness(HOURLY, last, at(2030, 1, 1), now, dt.timedelta(hours=4), UTC)
    assert verdict.stale
    assert verdict.overdue(now) > dt.timedelta(days=2)


def test_never_run_definition_counts_from_registration() -> None:
    reg = at(2030, 5, 6, 10, 0)
    grace = dt.timedelta(hours=1)
    first = at(2030, 5, 7, 3, 0)
    assert not staleness(DAILY_3AM, None, reg, first, grace, UTC).stale
    assert staleness(DAILY_3AM, None, reg, first + grace, grace, UTC).stale


def test_naive_times_and_negative_grace_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire(HOURLY, dt.datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="negative"):
        staleness(HOURLY, None, at(2030, 1, 1), at(2030, 1, 2), dt.timedelta(-1), UTC)


def _row(**over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "job_status": "ACTIVE",
        "pgsql_node_status": "RUNNING",
        "minutes_cron": "0",
        "hours_cron": "*",
        "day_month_cron": "*",
        "month_cron": "*",
        "weekday_cron": "*",
        "def_registered": at(2030, 1, 1),
        "stale_backup_grace": dt.timedelta(hours=1),
        "last_success_finished": at(2030, 5, 6, 10, 5),
        "last_run_status": "SUCCEEDED",
        "last_run_error": None,
    }
    row.update(over)
    return row


NOW = at(2030, 5, 6, 10, 30)


def test_verdict_ok_stale_failed_inactive() -> None:
    assert health.judge(_row(), NOW, UTC).state == health.OK
    stale = health.judge(_row(last_success_finished=at(2030, 5, 3, 10, 5)), NOW, UTC)
    assert (stale.state, stale.stale, stale.failed) == (health.STALE, True, False)
    assert "no successful backup since 2030-05-03 10:05:00" in stale.reason
    failed = health.judge(
        _row(last_run_status="ERROR", last_run_error="connection refused\n"), NOW, UTC
    )
    assert failed.state == health.FAILED and not failed.stale
    assert failed.reason == "last run failed: connection refused"
    assert health.judge(_row(job_status="STOPPED"), NOW, UTC).state == health.INACTIVE
    assert (
        health.judge(_row(pgsql_node_status="STOPPED"), NOW, UTC).state
        == health.INACTIVE
    )


def test_failed_and_stale_is_failed_with_both_flags() -> None:
    v = health.judge(
        _row(
            last_success_finished=None,
            last_run_status="ERROR",
            last_run_error="disk full",
        ),
        NOW,
        UTC,
    )
    assert (v.state, v.stale, v.failed) == (health.FAILED, True, True)
    assert v.reason.startswith("last run failed: disk full; no successful backup")


def test_unreadable_schedule_is_stale_with_the_reason() -> None:
    v = health.judge(_row(minutes_cron="99"), NOW, UTC)
    assert v.state == health.STALE and "Invalid cron schedule" in v.reason
