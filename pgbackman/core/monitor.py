"""What a monitoring system is told about one backup server (pure logic).

:class:`ServerState` is everything ``pgbackman/monitoring/state.py`` gathered (definitions
with their :mod:`~pgbackman.core.health` verdicts, the spool, the partitions, undelivered
alerts, recent integrity alerts, restore drills with their
:mod:`~pgbackman.core.drillhealth` verdicts). :func:`evaluate` turns it into a Nagios result with the
plugin conventions: one status line with perfdata, exit 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN. Every threshold is a count (or a percentage for disks) at or above which the
level is reached; 0 switches that level off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pgbackman.core.drillhealth import DrillVerdict
from pgbackman.core.health import FAILED, INACTIVE, OK, STALE, Verdict

EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_UNKNOWN = 0, 1, 2, 3
STATUS_NAMES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


@dataclass(frozen=True)
class DefinitionState:
    """One definition: its ``backup_definition_health`` row, its verdict, and whether the
    dump of its newest successful backup is gone from disk."""

    row: Mapping[str, Any]
    verdict: Verdict
    missing_file: bool = False

    @property
    def label(self) -> str:
        db = self.row["dbname"] or "(cluster)"
        return f"{db}@{self.row['pgsql_node_fqdn']} (DefID {self.row['def_id']})"


@dataclass(frozen=True)
class DrillState:
    """One restore drill: its ``restore_drill_health`` row and its verdict."""

    row: Mapping[str, Any]
    verdict: DrillVerdict

    @property
    def label(self) -> str:
        return (
            f"{self.row['dbname']}@{self.row['pgsql_node_fqdn']} (DefID "
            f"{self.row['def_id']}, DrillID {self.row['drill_id']} on "
            f"{self.row['drill_node_fqdn']})"
        )


@dataclass(frozen=True)
class Partition:
    path: str
    total_bytes: int
    free_bytes: int

    @property
    def used_bytes(self) -> int:
        return self.total_bytes - self.free_bytes

    @property
    def used_pct(self) -> float:
        return 100.0 * self.used_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True)
class ServerState:
    """A backup server as monitoring sees it at ``now``. ``server_wide`` is False when the
    scope is narrowed to a node, definition or database (disk, spool and undelivered
    alerts then belong to another service and are not judged)."""

    server_fqdn: str
    now: dt.datetime
    catalog_error: str | None = None
    server_id: int | None = None
    definitions: list[DefinitionState] = field(default_factory=list)
    pending: int = 0
    pending_overdue: int = 0  # pending results older than the allowed age
    rejected: int = 0
    partitions: list[Partition] = field(default_factory=list)
    unsent_alerts: int = 0
    unsent_overdue: int = 0  # unsent alerts older than the allowed age
    unsent_error: str | None = None
    integrity_alerts: Sequence[Mapping[str, Any]] = field(default_factory=list)
    server_wide: bool = True
    # Offsite copies per status (PENDING, UPLOADED, ERROR, EXPIRED) and PENDING_OVERDUE
    # (1 when the oldest PENDING copy waits longer than allowed).
    offsite: Mapping[str, int] = field(default_factory=dict)
    drills: list[DrillState] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for d in self.definitions if d.verdict.state == state)

    @property
    def stale(self) -> int:
        return sum(1 for d in self.definitions if d.verdict.stale)

    @property
    def failed(self) -> int:
        return sum(1 for d in self.definitions if d.verdict.failed)

    @property
    def missing(self) -> int:
        return sum(1 for d in self.definitions if d.missing_file) + len(
            self.integrity_alerts
        )

    @property
    def drills_failed(self) -> int:
        return sum(1 for d in self.drills if d.verdict.failed)

    @property
    def drills_overdue(self) -> int:
        return sum(1 for d in self.drills if d.verdict.overdue)

    @property
    def disk_used_pct(self) -> float:
        return max((p.used_pct for p in self.partitions), default=0.0)


@dataclass(frozen=True)
class Thresholds:
    failed_warning: int = 1
    failed_critical: int = 1
    stale_warning: int = 1
    stale_critical: int = 1
    missing_warning: int = 1
    missing_critical: int = 1
    pending_warning: int = 1
    pending_critical: int = 100
    unsent_warning: int = 1
    unsent_critical: int = 0
    # A failed drill is the strongest evidence that a backup is bad: CRITICAL at once.
    drill_failed_warning: int = 1
    drill_failed_critical: int = 1
    drill_overdue_warning: int = 1
    drill_overdue_critical: int = 0
    disk_warning: float = 80.0
    disk_critical: float = 90.0


def level(value: float, warning: float, critical: float) -> int:
    """EXIT_* for ``value`` against thresholds (0 = that level is off)."""
    if critical and value >= critical:
        return EXIT_CRITICAL
    if warning and value >= warning:
        return EXIT_WARNING
    return EXIT_OK


@dataclass(frozen=True)
class Problem:
    # failed, stale, missing, integrity, drill_failed, drill_overdue, pending, rejected,
    # disk, alerts, offsite, catalog
    kind: str
    status: int
    text: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    status: int
    summary: str
    perfdata: list[Perf]
    problems: list[Problem]

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    def line(self) -> str:
        """The one Nagios output line: ``PGBACKMAN <STATUS> - <summary> | <perfdata>``."""
        perf = " ".join(
            f"{label}={_num(v)}{uom};{w};{c};{lo};{hi}"
            for label, v, uom, w, c, lo, hi in self.perfdata
        )
        text = self.summary.replace("|", "/")  # '|' starts the perfdata
        return f"PGBACKMAN {self.status_name} - {text} | {perf}"


def _num(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.1f}"


def _t(value: float) -> str:
    if not value:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


Perf = tuple[str, float | int, str, str, str, str, str]


def _perf(
    label: str,
    value: float | int,
    warning: float = 0,
    critical: float = 0,
    uom: str = "",
    maximum: str = "",
) -> Perf:
    """One perfdata item: label=value[uom];warn;crit;min;max (0 thresholds are left out)."""
    return (label, value, uom, _t(warning), _t(critical), "0", maximum)


def _definition_problems(state: ServerState, th: Thresholds) -> list[Problem]:
    out: list[Problem] = []
    for d in state.definitions:
        detail = {
            "def_id": d.row["def_id"],
            "node": d.row["pgsql_node_fqdn"],
            "dbname": d.row["dbname"],
        }
        if d.verdict.failed:
            out.append(
                Problem(
                    "failed",
                    level(state.failed, th.failed_warning, th.failed_critical),
                    f"FAILED {d.label}: {d.verdict.reason}",
                    detail,
                )
            )
        elif d.verdict.stale:
            out.append(
                Problem(
                    "stale",
                    level(state.stale, th.stale_warning, th.stale_critical),
                    f"STALE {d.label}: {d.verdict.reason}",
                    detail,
                )
            )
        if d.missing_file:
            out.append(
                Problem(
                    "missing",
                    level(state.missing, th.missing_warning, th.missing_critical),
                    f"MISSING {d.label}: the dump of BckID "
                    f"{d.row['last_success_bck_id']} is gone from disk",
                    detail,
                )
            )
    for a in state.integrity_alerts:
        out.append(
            Problem(
                "integrity",
                level(state.missing, th.missing_warning, th.missing_critical),
                f"INTEGRITY {a.get('dbname') or ''}@{a.get('pgsql_node_fqdn') or ''}: "
                f"{a.get('error_message') or ''}",
                {"alert_id": a.get("alert_id"), "bck_id": a.get("bck_id")},
            )
        )
    return out + _drill_problems(state, th)


def _drill_problems(state: ServerState, th: Thresholds) -> list[Problem]:
    out: list[Problem] = []
    for d in state.drills:
        detail = {
            "def_id": d.row["def_id"],
            "drill_id": d.row["drill_id"],
            "node": d.row["pgsql_node_fqdn"],
            "dbname": d.row["dbname"],
            "drill_node": d.row["drill_node_fqdn"],
            "drill_run_id": d.row["last_run_id"],
        }
        if d.verdict.failed:
            out.append(
                Problem(
                    "drill_failed",
                    level(
                        state.drills_failed,
                        th.drill_failed_warning,
                        th.drill_failed_critical,
                    ),
                    f"DRILL FAILED {d.label}: {d.verdict.reason}",
                    detail,
                )
            )
        elif d.verdict.overdue:
            out.append(
                Problem(
                    "drill_overdue",
                    level(
                        state.drills_overdue,
                        th.drill_overdue_warning,
                        th.drill_overdue_critical,
                    ),
                    f"DRILL OVERDUE {d.label}: {d.verdict.reason}",
                    detail,
                )
            )
    return out


def _server_problems(state: ServerState, th: Thresholds) -> list[Problem]:
    out: list[Problem] = []
    if state.pending_overdue:
        out.append(
            Problem(
                "pending",
                level(state.pending_overdue, th.pending_warning, th.pending_critical),
                f"{state.pending_overdue} pending result(s) not ingested "
                "(is pgbackman_maintenance running? is the catalog reachable?)",
            )
        )
    if state.rejected:
        out.append(
            Problem(
                "rejected",
                EXIT_WARNING,
                f"{state.rejected} pending result(s) rejected: see pending_updates/rejected",
            )
        )
    for p in state.partitions:
        lvl = level(p.used_pct, th.disk_warning, th.disk_critical)
        if lvl:
            out.append(
                Problem(
                    "disk",
                    lvl,
                    f"partition {p.path} {p.used_pct:.1f}% used",
                    {"path": p.path, "free_bytes": p.free_bytes},
                )
            )
    errors = state.offsite.get("ERROR", 0)
    if errors:
        out.append(
            Problem(
                "offsite",
                EXIT_WARNING,
                f"{errors} offsite copy(ies) failed (show_backup_catalog: Offsite ERROR)",
            )
        )
    if state.offsite.get("PENDING_OVERDUE"):
        out.append(
            Problem(
                "offsite",
                EXIT_WARNING,
                f"{state.offsite.get('PENDING', 0)} offsite copy(ies) PENDING for hours "
                "(is pgbackman_maintenance running? is offsite_url set?)",
            )
        )
    if state.unsent_overdue:
        reason = f": {state.unsent_error}" if state.unsent_error else ""
        out.append(
            Problem(
                "alerts",
                level(state.unsent_overdue, th.unsent_warning, th.unsent_critical),
                f"{state.unsent_overdue} alert(s) not delivered{reason}",
            )
        )
    return out


def evaluate(state: ServerState, th: Thresholds) -> CheckResult:
    """The check result for ``state``: the worst level of any problem found."""
    if state.catalog_error is not None:
        problems = [Problem("catalog", EXIT_CRITICAL, state.catalog_error)]
    else:
        problems = _definition_problems(state, th)
    if state.server_wide:
        problems += _server_problems(state, th)
    problems = [p for p in problems if p.status != EXIT_OK]
    problems.sort(key=lambda p: -p.status)
    status = max((p.status for p in problems), default=EXIT_OK)
    active = len(state.definitions) - state.count(INACTIVE)
    if state.catalog_error is not None:
        summary = f"{state.server_fqdn}: catalog problem: {state.catalog_error}"
    else:
        summary = (
            f"{state.server_fqdn}: {active} active definition(s): "
            f"{state.count(OK)} ok, {state.stale} stale, {state.failed} failed, "
            f"{state.missing} missing"
        )
        drills = sum(1 for d in state.drills if d.verdict.active)
        if drills:
            summary += (
                f"; {drills} active restore drill(s): {state.drills_failed} failed, "
                f"{state.drills_overdue} overdue"
            )
        if state.server_wide and state.partitions:
            summary += f"; disk {state.disk_used_pct:.1f}% used"
    told = [p for p in problems if p.kind != "catalog"]  # the catalog one is said above
    if told:
        more = f" (+{len(told) - 1} more)" if len(told) > 1 else ""
        summary += f"; {told[0].text}{more}"
    summary = " ".join(summary.split())  # one line, whatever the error messages hold
    perf = [
        _perf("definitions", active),
        _perf("ok", state.count(OK)),
        _perf("stale", state.stale, th.stale_warning, th.stale_critical),
        _perf("failed", state.failed, th.failed_warning, th.failed_critical),
        _perf("missing", state.missing, th.missing_warning, th.missing_critical),
        _perf(
            "drill_failed",
            state.drills_failed,
            th.drill_failed_warning,
            th.drill_failed_critical,
        ),
        _perf(
            "drill_overdue",
            state.drills_overdue,
            th.drill_overdue_warning,
            th.drill_overdue_critical,
        ),
    ]
    if state.server_wide:
        perf += [
            _perf("pending", state.pending),
            _perf(
                "pending_overdue",
                state.pending_overdue,
                th.pending_warning,
                th.pending_critical,
            ),
            _perf("offsite_errors", state.offsite.get("ERROR", 0), 1),
            _perf("offsite_pending", state.offsite.get("PENDING", 0)),
            _perf("unsent_alerts", state.unsent_alerts),
            _perf(
                "undelivered_alerts",
                state.unsent_overdue,
                th.unsent_warning,
                th.unsent_critical,
            ),
            _perf(
                "disk_used",
                round(state.disk_used_pct, 1),
                th.disk_warning,
                th.disk_critical,
                "%",
                "100",
            ),
        ]
    return CheckResult(status, summary, perf, problems)


def definition_counts(states: list[DefinitionState]) -> dict[str, int]:
    """Definitions per state (OK, STALE, FAILED, INACTIVE)."""
    counts = {s: 0 for s in (OK, STALE, FAILED, INACTIVE)}
    for d in states:
        counts[d.verdict.state] += 1
    return counts
