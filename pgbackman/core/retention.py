"""Retention decisions: which catalog rows of one backup definition (or snapshot) may go.

Pure functions over plain values, no I/O; pgbackman_maintenance feeds them catalog rows and
acts on the answer. Whether a backup's files are intact is a fact only the caller can
establish (it reads them): it is asked through the ``intact`` callback, lazily, newest first,
and only when a deletion depends on the answer. The rules (a deliberate fix of upstream,
which counted failed runs, and labels, towards ``retention_redundancy``):

* ``keep = max(retention_redundancy, 1)``: a backup counts towards ``keep`` only when it is
  SUCCEEDED **and** intact (its files are there with their recorded sizes and checksums).
  ("Minimum number of backups to keep in the catalog regardless of the retention period",
  manual; redundancy 0 still keeps one.)
* A SUCCEEDED dump is deleted when it finished more than ``retention_period`` ago **and** at
  least ``keep`` newer intact dumps of the same definition exist. The newest intact dump is
  therefore never deleted, whatever any row says; nor is any dump while fewer than ``keep``
  newer ones are intact (newer dumps found missing or corrupt protect nothing).
* A failed run (ERROR, WARNING or any status other than SUCCEEDED) never counts towards
  ``keep`` and never protects anything. It is deleted when it finished more than
  ``retention_period`` ago **and** an intact dump newer than it exists. While a definition has
  been failing since its last good dump, those failures are kept as evidence of the outage.
* Nothing younger than ``retention_period`` is deleted; a row without ``finished`` (unknown
  state) is never deleted; rows "in the future" (clock skew) are young; a period outside
  the sane range (:func:`period_ok`) deletes nothing.
* Order is ``(finished, bck_id)`` descending, so equal timestamps still give a total order.

``intact`` is called only for SUCCEEDED rows, newest first, and only when the answer can
decide a deletion: a definition with nothing deletable costs no reading of files.

Snapshots have no redundancy: a snapshot dump is deleted once it finished more than the
snapshot's ``retention_period`` ago (:func:`snapshot_row_expired`).

Because only the ``keep`` newest intact SUCCEEDED rows and the rows older than the period can
matter, the catalog side may pass just those rows (a partial history) and get the same answer
or a more conservative one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
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


# The sane range of a retention interval (same rule as the schema's retention_interval_ok
# and pgbackman.core.validate): more than 0, at most 100 years (1 month = 30 days).
MAX_PERIOD = timedelta(days=100 * 12 * 30)


def period_ok(period: timedelta | None) -> bool:
    """True for a retention interval in the sane range; anything else expires nothing."""
    return period is not None and timedelta(0) < period <= MAX_PERIOD


def expired_backups(
    rows: Iterable[RunRow],
    retention_period: timedelta,
    retention_redundancy: int | None,
    now: datetime,
    *,
    intact: Callable[[int], bool],
) -> list[Decision]:
    """Rows of ONE definition that retention deletes, oldest first, each with its reason.

    ``intact(bck_id)`` says whether a SUCCEEDED row's files are intact (see module doc)."""
    if not period_ok(retention_period):
        return []
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

    intact_newer = 0  # newer SUCCEEDED rows known to be intact
    # newer SUCCEEDED rows not asked yet, newest first
    unchecked: deque[RunRow] = deque()

    def enough(required: int) -> bool:
        """Are ``required`` newer rows intact? Asks (newest first) only when it can be."""
        nonlocal intact_newer
        if intact_newer + len(unchecked) < required:
            return False
        while intact_newer < required and unchecked:
            if intact(unchecked.popleft().bck_id):
                intact_newer += 1
        return intact_newer >= required

    decisions: list[Decision] = []
    for row in norm:
        assert row.finished is not None  # noqa: S101 - internal invariant, for the type checker
        succeeded = row.execution_status == SUCCEEDED
        if row.finished < cutoff:
            if succeeded and enough(keep):
                decisions.append(
                    Decision(
                        row.bck_id,
                        f"SUCCEEDED dump older than {retention_period} and "
                        f"{intact_newer} newer intact dumps exist (keep {keep})",
                    )
                )
                continue
            if not succeeded and enough(1):
                decisions.append(
                    Decision(
                        row.bck_id,
                        f"{row.execution_status} run older than {retention_period} and a "
                        "newer intact dump exists",
                    )
                )
                continue
        if succeeded:
            unchecked.append(row)
    decisions.reverse()
    return decisions


def snapshot_row_expired(
    finished: datetime | None, retention_period: timedelta, now: datetime
) -> bool:
    """A snapshot dump expires once it finished more than its retention period ago."""
    if finished is None or not period_ok(retention_period):
        return False
    return _comparable(finished, now) < now - retention_period


def quarantine_over(
    deleted_at: datetime | None, automatic_deletion_retention: timedelta, now: datetime
) -> bool:
    """A DELETED definition (database dropped) is purged once its quarantine has passed."""
    if deleted_at is None or not period_ok(automatic_deletion_retention):
        return False
    return _comparable(deleted_at, now) < now - automatic_deletion_retention
