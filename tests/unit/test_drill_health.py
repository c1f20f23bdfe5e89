"""The verdict on one restore drill (FAILED, OVERDUE) and what pgbackman_check makes of it:
levels, thresholds, the line and its perfdata. Pure logic, no PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pgbackman.core import drillhealth, monitor
from pgbackman.core.health import OK, Verdict

NOW = dt.datetime(2030, 5, 6, 12, 0, tzinfo=dt.timezone.utc)
WEEK = dt.timedelta(days=7)


def _row(**over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "drill_id": 5,
        "def_id": 42,
        "dbname": "app",
        "pgsql_node_fqdn": "node1.example.org",
        "drill_node_fqdn": "node2.example.org",
        "drill_status": "ACTIVE",
        "job_status": "ACTIVE",
        "drill_node_status": "RUNNING",
        "has_successful_backup": True,
        "drill_interval": WEEK,
        "drill_registered": NOW - 30 * WEEK,
        "last_run_id": 9,
        "last_run_started": NOW - dt.timedelta(days=3),
        "last_run_status": "SUCCEEDED",
        "last_run_error": None,
    }
    row.update(over)
    return row


def test_a_recent_successful_run_is_fine() -> None:
    v = drillhealth.judge(_row(), NOW)
    assert (v.active, v.failed, v.overdue, v.reason) == (True, False, False, "")


def test_a_failed_newest_run_is_failed_with_its_error_on_one_line() -> None:
    v = drillhealth.judge(
        _row(last_run_status="ERROR", last_run_error="Checksum mismatch:\n toc.dat"),
        NOW,
    )
    assert v.failed and not v.overdue
    assert v.reason == "newest drill run 9 failed: Checksum mismatch: toc.dat"


@pytest.mark.parametrize(
    ("age", "overdue"),
    [
        (2 * WEEK - dt.timedelta(seconds=1), False),  # due, but not for an interval yet
        (2 * WEEK, True),
        (5 * WEEK, True),
    ],
)
def test_overdue_after_twice_the_interval_without_a_run(
    age: dt.timedelta, overdue: bool
) -> None:
    v = drillhealth.judge(_row(last_run_started=NOW - age), NOW)
    assert v.overdue is overdue and not v.failed
    if overdue:
        assert (
            v.reason.startswith("no drill run since ")
            and "(interval 7 days)" in v.reason
        )


def test_never_run_counts_from_the_registration() -> None:
    never = {"last_run_id": None, "last_run_started": None, "last_run_status": None}
    young = _row(drill_registered=NOW - WEEK - dt.timedelta(days=6), **never)
    assert not drillhealth.judge(young, NOW).overdue
    old = _row(drill_registered=NOW - 2 * WEEK, **never)
    v = drillhealth.judge(old, NOW)
    assert v.overdue and v.reason.startswith("never run since the drill was registered")


@pytest.mark.parametrize(
    "over",
    [{"drill_node_status": "STOPPED"}, {"has_successful_backup": False}],
)
def test_a_drill_that_cannot_run_is_not_overdue(over: dict[str, Any]) -> None:
    v = drillhealth.judge(_row(last_run_started=NOW - 10 * WEEK, **over), NOW)
    assert v.active and not v.overdue


@pytest.mark.parametrize(
    "over", [{"drill_status": "STOPPED"}, {"job_status": "DELETED"}]
)
def test_nothing_is_expected_of_a_stopped_drill_or_definition(
    over: dict[str, Any],
) -> None:
    row = _row(last_run_status="ERROR", last_run_started=NOW - 10 * WEEK, **over)
    v = drillhealth.judge(row, NOW)
    assert (v.active, v.failed, v.overdue) == (False, False, False)


def _state(*rows: dict[str, Any]) -> monitor.ServerState:
    definition = monitor.DefinitionState(
        {"def_id": 42, "dbname": "app", "pgsql_node_fqdn": "node1.example.org"},
        Verdict(OK, False, False, ""),
    )
    return monitor.ServerState(
        server_fqdn="backup01",
        now=NOW,
        definitions=[definition],
        drills=[monitor.DrillState(r, drillhealth.judge(r, NOW)) for r in rows],
    )


def test_check_a_failed_drill_is_critical_by_default() -> None:
    r = monitor.evaluate(
        _state(_row(last_run_status="ERROR", last_run_error="rows lost")),
        monitor.Thresholds(),
    )
    assert r.status == monitor.EXIT_CRITICAL
    assert [p.kind for p in r.problems] == ["drill_failed"]
    assert (
        "1 active restore drill(s): 1 failed, 0 overdue; DRILL FAILED app@node1.example.org"
        " (DefID 42, DrillID 5 on node2.example.org): newest drill run 9 failed: rows lost"
    ) in r.summary
    assert "drill_failed=1;1;1;0;" in r.line()
    lowered = monitor.Thresholds(drill_failed_critical=0)
    assert monitor.evaluate(_state(_row(last_run_status="ERROR")), lowered).status == 1


def test_check_an_overdue_drill_is_a_warning_by_default() -> None:
    r = monitor.evaluate(
        _state(_row(last_run_started=NOW - 3 * WEEK)), monitor.Thresholds()
    )
    assert r.status == monitor.EXIT_WARNING
    assert [p.kind for p in r.problems] == ["drill_overdue"]
    assert "drill_overdue=1;1;;0;" in r.line()
    off = monitor.Thresholds(drill_overdue_warning=0)
    assert (
        monitor.evaluate(_state(_row(last_run_started=NOW - 3 * WEEK)), off).status == 0
    )


def test_check_healthy_or_stopped_drills_are_ok() -> None:
    r = monitor.evaluate(
        _state(
            _row(), _row(drill_id=6, drill_status="STOPPED", last_run_status="ERROR")
        ),
        monitor.Thresholds(),
    )
    assert r.status == monitor.EXIT_OK and r.problems == []
    assert "1 active restore drill(s): 0 failed, 0 overdue" in r.summary
