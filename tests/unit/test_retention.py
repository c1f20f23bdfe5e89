"""Unit tests of pgbackman.core.retention (no PostgreSQL)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from pgbackman.core.retention import (
    MAX_PERIOD,
    RunRow,
    expired_backups,
    keep_count,
    period_ok,
    quarantine_over,
    snapshot_row_expired,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def ALL(_bck_id: int) -> bool:
    """Every backup's files are intact."""
    return True


def ids(decisions: list) -> set[int]:
    return {d.bck_id for d in decisions}


def test_keep_count_never_below_one() -> None:
    assert keep_count(0) == 1
    assert keep_count(None) == 1
    assert keep_count(1) == 1
    assert keep_count(3) == 3


def test_one_old_good_dump_followed_by_20_failures_is_kept() -> None:
    rows = [RunRow(1, NOW - 30 * DAY, "SUCCEEDED")]
    rows += [RunRow(100 + i, NOW - 29 * DAY + i * DAY, "ERROR") for i in range(20)]
    assert expired_backups(rows, WEEK, 1, NOW, intact=ALL) == []


def test_failed_runs_never_count_towards_redundancy() -> None:
    # Two old good dumps, newer failures: with redundancy 2 both good ones stay.
    rows = [
        RunRow(1, NOW - 40 * DAY, "SUCCEEDED"),
        RunRow(2, NOW - 30 * DAY, "SUCCEEDED"),
    ]
    rows += [RunRow(10 + i, NOW - 20 * DAY + i * DAY, "ERROR") for i in range(10)]
    assert expired_backups(rows, WEEK, 2, NOW, intact=ALL) == []
    # With redundancy 1 the older good one goes; the ERROR rows are newer than every
    # SUCCEEDED row, so they are kept (no newer good dump yet).
    assert ids(expired_backups(rows, WEEK, 1, NOW, intact=ALL)) == {1}


def test_old_error_rows_go_once_a_newer_good_dump_exists() -> None:
    rows = [
        RunRow(1, NOW - 30 * DAY, "ERROR"),
        RunRow(2, NOW - 20 * DAY, "WARNING"),
        RunRow(3, NOW - 3 * DAY, "ERROR"),  # young: kept
        RunRow(4, NOW - 1 * DAY, "SUCCEEDED"),
    ]
    assert ids(expired_backups(rows, WEEK, 1, NOW, intact=ALL)) == {1, 2}


def test_nothing_younger_than_the_period_is_deleted() -> None:
    rows = [RunRow(i, NOW - i * timedelta(hours=1), "SUCCEEDED") for i in range(1, 50)]
    assert expired_backups(rows, WEEK, 1, NOW, intact=ALL) == []


def test_redundancy_zero_keeps_the_newest_good_dump() -> None:
    rows = [
        RunRow(1, NOW - 100 * DAY, "SUCCEEDED"),
        RunRow(2, NOW - 90 * DAY, "SUCCEEDED"),
    ]
    assert ids(expired_backups(rows, WEEK, 0, NOW, intact=ALL)) == {1}


def test_rows_without_finished_are_never_deleted() -> None:
    rows = [
        RunRow(1, None, "ERROR"),
        RunRow(2, NOW - 10 * DAY, "SUCCEEDED"),
        RunRow(3, NOW - DAY, "SUCCEEDED"),
    ]
    assert ids(expired_backups(rows, WEEK, 1, NOW, intact=ALL)) == {2}


def test_equal_timestamps_use_bck_id_as_tie_breaker() -> None:
    t = NOW - 30 * DAY
    rows = [
        RunRow(5, t, "SUCCEEDED"),
        RunRow(6, t, "SUCCEEDED"),
        RunRow(7, t, "SUCCEEDED"),
    ]
    assert ids(expired_backups(rows, WEEK, 1, NOW, intact=ALL)) == {5, 6}


def test_naive_timestamps_are_accepted() -> None:
    naive_now = NOW.replace(tzinfo=None)
    rows = [
        RunRow(1, naive_now - 30 * DAY, "SUCCEEDED"),
        RunRow(2, NOW - DAY, "SUCCEEDED"),
    ]
    assert ids(expired_backups(rows, WEEK, 1, naive_now, intact=ALL)) == {1}


def test_decisions_carry_a_reason() -> None:
    rows = [RunRow(1, NOW - 30 * DAY, "SUCCEEDED"), RunRow(2, NOW - DAY, "SUCCEEDED")]
    (d,) = expired_backups(rows, WEEK, 1, NOW, intact=ALL)
    assert d.bck_id == 1 and "older than" in d.reason and "newer intact" in d.reason


def _reference(
    rows: list[RunRow], period: timedelta, redundancy: int, intact: set[int]
) -> set[int]:
    """The rules restated naively, row by row, against the whole history."""
    if not timedelta(0) < period:
        return set()
    keep = max(redundancy, 1)
    out = set()
    for r in rows:
        if r.finished is None or r.finished >= NOW - period:
            continue
        newer_ok = [
            o
            for o in rows
            if o.execution_status == "SUCCEEDED"
            and o.bck_id in intact
            and o.finished is not None
            and (o.finished, o.bck_id) > (r.finished, r.bck_id)
        ]
        if r.execution_status == "SUCCEEDED":
            if len(newer_ok) >= keep:
                out.add(r.bck_id)
        elif newer_ok:
            out.add(r.bck_id)
    return out


def test_random_histories_match_the_reference_and_keep_invariants() -> None:
    rng = random.Random(20261124)
    statuses = ["SUCCEEDED", "SUCCEEDED", "ERROR", "WARNING"]
    for _ in range(3000):
        n = rng.randint(0, 12)
        rows = [
            RunRow(
                i, NOW - timedelta(hours=rng.randint(-5, 24 * 30)), rng.choice(statuses)
            )
            for i in range(1, n + 1)
        ]
        # Most good backups are intact; some have lost files or rotted.
        intact = {r.bck_id for r in rows if rng.random() < 0.8}
        asked: list[int] = []

        def check(
            bck_id: int, asked: list[int] = asked, intact: set[int] = intact
        ) -> bool:
            asked.append(bck_id)
            return bck_id in intact

        period = timedelta(days=rng.randint(0, 20))
        redundancy = rng.randint(0, 4)
        got = ids(expired_backups(rows, period, redundancy, NOW, intact=check))
        assert got == _reference(rows, period, redundancy, intact)
        # Only SUCCEEDED rows are ever checked, each at most once, never one deleted.
        assert len(asked) == len(set(asked))
        assert all(r.execution_status == "SUCCEEDED" for r in rows if r.bck_id in asked)
        assert not set(asked) & got
        good = sorted(
            (
                r
                for r in rows
                if r.execution_status == "SUCCEEDED" and r.bck_id in intact
            ),
            key=lambda r: (r.finished, r.bck_id),
            reverse=True,
        )
        # The newest max(redundancy, 1) intact dumps are never deleted.
        assert not got & {r.bck_id for r in good[: max(redundancy, 1)]}
        # Nothing younger than the period is deleted.
        assert all(r.finished < NOW - period for r in rows if r.bck_id in got)
        # ERROR rows never protect: removing every failed row changes nothing for good rows.
        only_good = [r for r in rows if r.execution_status == "SUCCEEDED"]
        got_good = ids(
            expired_backups(
                only_good, period, redundancy, NOW, intact=intact.__contains__
            )
        )
        assert got_good == {r.bck_id for r in only_good if r.bck_id in got}
        # A partial history (the newest intact rows + old rows) gives the same answer
        # (the catalog side sends only those).
        protected = {r.bck_id for r in good[: max(redundancy, 1)]}
        partial = [
            r for r in rows if r.bck_id in protected or r.finished < NOW - period
        ]
        assert (
            ids(
                expired_backups(
                    partial, period, redundancy, NOW, intact=intact.__contains__
                )
            )
            == got
        )


def test_damaged_newer_backups_never_count() -> None:
    """Issue 11 item 1: the files of the two newest backups are gone (or one byte flipped):
    the oldest one, the last that can be restored, stays."""
    rows = [
        RunRow(1, NOW - 30 * DAY, "SUCCEEDED"),
        RunRow(2, NOW - 2 * DAY, "SUCCEEDED"),
        RunRow(3, NOW - DAY, "SUCCEEDED"),
    ]
    assert expired_backups(rows, WEEK, 2, NOW, intact=lambda b: b == 1) == []
    assert expired_backups(rows, WEEK, 2, NOW, intact=lambda b: b != 3) == []
    assert ids(expired_backups(rows, WEEK, 2, NOW, intact=ALL)) == {1}
    # With redundancy 1, one intact newer backup is enough, whichever it is.
    assert ids(expired_backups(rows, WEEK, 1, NOW, intact=lambda b: b != 3)) == {1}


def test_files_are_read_only_when_a_deletion_depends_on_them() -> None:
    asked: list[int] = []

    def check(bck_id: int) -> bool:
        asked.append(bck_id)
        return True

    young = [RunRow(i, NOW - i * DAY, "SUCCEEDED") for i in range(1, 6)]
    assert expired_backups(young, WEEK, 1, NOW, intact=check) == [] and asked == []
    # Redundancy 3 with only two newer backups: nothing can go, nothing is read.
    rows = [RunRow(1, NOW - 30 * DAY, "SUCCEEDED"), *young[:2]]
    assert expired_backups(rows, WEEK, 3, NOW, intact=check) == [] and asked == []
    # One deletion needs the newest backup only, newest first.
    rows = [RunRow(1, NOW - 30 * DAY, "SUCCEEDED"), *young]
    assert ids(expired_backups(rows, WEEK, 1, NOW, intact=check)) == {1}
    assert asked == [young[0].bck_id]


def test_periods_out_of_range_delete_nothing() -> None:
    rows = [RunRow(1, NOW - 30 * DAY, "SUCCEEDED"), RunRow(2, NOW - DAY, "SUCCEEDED")]
    for period in (timedelta(0), -DAY, timedelta(days=1_000_000 * 360)):
        assert not period_ok(period)
        assert expired_backups(rows, period, 1, NOW, intact=ALL) == []
        assert not snapshot_row_expired(NOW - 30 * DAY, period, NOW)
        assert not quarantine_over(NOW - 30 * DAY, period, NOW)
    assert period_ok(MAX_PERIOD) and not period_ok(MAX_PERIOD + timedelta(seconds=1))


def test_snapshot_and_quarantine_clocks() -> None:
    assert snapshot_row_expired(NOW - 8 * DAY, WEEK, NOW)
    assert not snapshot_row_expired(NOW - 6 * DAY, WEEK, NOW)
    assert not snapshot_row_expired(None, WEEK, NOW)
    assert quarantine_over(NOW - 15 * DAY, timedelta(days=14), NOW)
    assert not quarantine_over(NOW - 13 * DAY, timedelta(days=14), NOW)
    assert not quarantine_over(None, timedelta(days=14), NOW)
