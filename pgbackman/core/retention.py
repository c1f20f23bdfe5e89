"""Retention decisions: which catalog rows of one backup definition (or snapshot) may go.

Pure functions over plain values, no I/O; pgbackman_maintenance feeds them catalog rows and
acts on the answer. The rules (a deliberate fix of upstream, which counted failed runs towards
``retention_redundancy`` and could therefore expire the last good backup):

* ``keep = max(retention_redundancy, 1)``: the ``keep`` newest SUCCEEDED dumps of a definition
  are never deleted, whatever their age. The newest SUCCEEDED dump is therefore never deleted.
  ("Minimum number of backups to keep in the catalog regardless of the retention period",
  manual; redundancy 0 still keeps one.)
* A SUCCEEDED dump is deleted when it finished more than ``retention_period`` ago **and** at
  least ``keep`` newer SUCCEEDED dumps of the same definition exist (i.e. its rank among the
  SUCCEEDED dumps, newest = 1, is greater than ``keep``).
* A failed run (ERROR, WARNING or any status other than SUCCEEDED) never counts towards
  ``keep`` and never protects anything. It is deleted when it finished more than
  ``retention_period`` ago **and** a SUCCEEDED dump newer than it exists. While a definition has
  been failing since its last good dump, those failures are kept as evidence of the outage
  (alerts, ``show_backup_catalog``); once a newer good dump exists they age out normally.
* Nothing younger than ``retention_period`` is deleted; a row without ``finished`` (unknown
  state) is never deleted; rows "in the future" (clock skew) are young.
* Order is ``(finished, bck_id)`` descending, so equal timestamps still give a total order.

Snapshots have no redundancy: a snapshot dump is deleted once it finished more than the
snapshot's ``retention_period`` ago (:func:`snapshot_row_expired`).

Because only the ``keep`` newest SUCCEEDED rows and the rows older than the period can matter,
the catalog side may pass just those rows (a partial history) and get the same answer: any
non-protected row still ranks below the ``keep`` protected ones, and "a newer SUCCEEDED row
exists" holds exactly when the newest SUCCEEDED row (always passed) is newer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

SUCCEEDED = "SUCCEEDED"


@dataclass(frozen=True)
class RunRow:
    """What retention needs to know about one catalog row."""

    bck_id: int
    finished: datetime | None
    execution_status: str


@dataclass(frozen=True)
class Decision:
    """One row to delete and the human reason (printed by ``--dry-run``, logged otherwise)."""

    bck_id: int
    reason: str


def keep_count(redundancy: int | None) -> int:
    """How many newest SUCCEEDED dumps are protected: never fewer than one."""
    return max(int(redundancy or 0), 1)


def _comparable(ts: datetime, now: datetime) -> datetime:
    """Make ``ts`` comparable with ``now`` (both aware or both naive)."""
    if (ts.tzinfo is None) == (now.tzinfo is None):
        return ts
    if ts.tzinfo is None and now.tzinfo is not None:
        return ts.replace(tzinfo=now.tzinfo)
    return ts.replace(tzinfo=None)


def expired_backups(
    rows: Iterable[RunRow],
    retention_period: timedelta,
    retention_redundancy: int | None,
    now: datetime,
) -> list[Decision]:
    """Rows of ONE definition that retention deletes, oldest first, each with its reason."""
    keep = keep_count(retention_redundancy)
    cutoff = now - retention_period
    # Rows without ``finished`` are never deleted and protect nothing. Time zones are
    # normalised once so sorting and comparing never mixes aware and naive values.
    norm = [
        RunRow(r.bck_id, _comparable(r.finished, now), r.execution_status)
        for r in rows
        if r.finished is not None
    ]
    norm.sort(key=lambda r: (r.finished, r.bck_id), reverse=True)

    decisions: list[Decision] = []
    succeeded_newer = 0  # SUCCEEDED rows seen so far (all newer than the current row)
    for row in norm:
        assert row.finished is not None  # noqa: S101 - internal invariant, for the type checker
        old = row.finished < cutoff
        if row.execution_status == SUCCEEDED:
            rank = succeeded_newer + 1
            succeeded_newer += 1
            if old and rank > keep:
                decisions.append(
                    Decision(
                        row.bck_id,
                        f"SUCCEEDED dump older than {retention_period} and "
                        f"{rank - 1} newer SUCCEEDED dumps exist (keep {keep})",
                    )
                )
        elif old and succeeded_newer > 0:
            decisions.append(
                Decision(
                    row.bck_id,
                    f"{row.execution_status} run older than {retention_period} and a newer "
                    "SUCCEEDED dump exists",
                )
            )
    decisions.reverse()
    return decisions


def snapshot_row_expired(
    finished: datetime | None, retention_period: timedelta, now: datetime
) -> bool:
    """A snapshot dump expires once it finished more than its retention period ago."""
    if finished is None:
        return False
    return _comparable(finished, now) < now - retention_period


def quarantine_over(
    deleted_at: datetime | None, automatic_deletion_retention: timedelta, now: datetime
) -> bool:
    """A DELETED definition (database dropped) is purged once its quarantine has passed."""
    if deleted_at is None:
        return False
    return _comparable(deleted_at, now) < now - automatic_deletion_retention
