"""What pgbackman_check says for a server state: levels, thresholds, the line, perfdata."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pgbackman.core import monitor
from pgbackman.core.health import FAILED, INACTIVE, OK, STALE, Verdict

NOW = dt.datetime(2030, 5, 6, 12, 0, tzinfo=dt.timezone.utc)
PERF = re.compile(r"^[a-z_]+=[0-9.]+%?;[0-9.]*;[0-9.]*;[0-9.]*;[0-9.]*$")


def _def(def_id: int, state: str, missing: bool = False) -> monitor.DefinitionState:
    row: dict[str, Any] = {
        "def_id": def_id,
        "dbname": f"db{def_id}",
        "pgsql_node_fqdn": "node1.example.org",
        "last_success_bck_id": 10 + def_id,
    }
    verdict = Verdict(state, state == STALE, state == FAILED, f"reason {def_id}")
    return monitor.DefinitionState(row, verdict, missing)


def _state(*defs: monitor.DefinitionState, **over: Any) -> monitor.ServerState:
    return monitor.ServerState(
        server_fqdn="backup01", now=NOW, definitions=list(defs), **over
    )


def test_healthy_server_is_ok_with_parsable_perfdata() -> None:
    r = monitor.evaluate(
        _state(
            _def(1, OK),
            _def(2, INACTIVE),
            partitions=[monitor.Partition("/srv", 1000, 600)],
        ),
        monitor.Thresholds(),
    )
    assert r.status == monitor.EXIT_OK and r.problems == []
    line = r.line()
    assert line.startswith("PGBACKMAN OK - backup01: 1 active definition(s): 1 ok,")
    status, perf = line.split(" | ")
    assert "disk 40.0% used" in status
    assert all(PERF.match(p) for p in perf.split()), perf
    assert "disk_used=40.0%;80;90;0;100" in perf


def test_levels_follow_thresholds_and_zero_switches_off() -> None:
    state = _state(_def(1, STALE), _def(2, OK))
    assert monitor.evaluate(state, monitor.Thresholds()).status == monitor.EXIT_CRITICAL
    warn_only = monitor.Thresholds(stale_critical=2)
    assert monitor.evaluate(state, warn_only).status == monitor.EXIT_WARNING
    off = monitor.Thresholds(stale_warning=0, stale_critical=0)
    assert monitor.evaluate(state, off).status == monitor.EXIT_OK


def test_first_problem_is_the_worst_and_the_rest_are_counted() -> None:
    state = _state(
        _def(1, OK, missing=True),
        _def(2, FAILED),
        pending=3,
        pending_overdue=2,
    )
    r = monitor.evaluate(state, monitor.Thresholds(missing_critical=5))
    assert r.status == monitor.EXIT_CRITICAL
    assert [p.kind for p in r.problems] == ["failed", "missing", "pending"]
    assert "FAILED db2@node1.example.org (DefID 2): reason 2 (+2 more)" in r.summary


def test_catalog_problem_is_critical_and_local_facts_still_count() -> None:
    state = _state(
        catalog_error="Cannot connect\nto the catalog",
        partitions=[monitor.Partition("/srv", 100, 1)],
    )
    r = monitor.evaluate(state, monitor.Thresholds())
    assert r.status == monitor.EXIT_CRITICAL
    assert r.summary.startswith(
        "backup01: catalog problem: Cannot connect to the catalog"
    )
    assert "partition /srv 99.0% used" in r.summary
    assert "\n" not in r.line()


def test_narrowed_scope_ignores_server_wide_items() -> None:
    state = _state(
        _def(1, OK),
        partitions=[monitor.Partition("/srv", 100, 1)],
        unsent_overdue=4,
        server_wide=False,
    )
    r = monitor.evaluate(state, monitor.Thresholds())
    assert r.status == monitor.EXIT_OK and "disk_used" not in r.line()


def test_pipe_in_a_reason_cannot_fake_perfdata() -> None:
    d = _def(1, FAILED)
    d = monitor.DefinitionState(d.row, Verdict(FAILED, False, True, "a | b=1"), False)
    line = monitor.evaluate(_state(d), monitor.Thresholds()).line()
    assert line.count(" | ") == 1 and "a / b=1" in line
