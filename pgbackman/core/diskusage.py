"""Disk space arithmetic, with no I/O: the ``min_free_disk_space`` threshold, growth per day
over the last 30 days, and the days until a partition is full at that rate.

``min_free_disk_space`` (backup server config, default ``10%``) is a percentage of the
partition's size (``0%`` to ``99%``) or a size as PostgreSQL's ``pg_size_bytes()`` reads it
(``50 GB``, ``500MB``, ``1TB``, plain bytes; units are powers of 1024). The catalog validates
it with the same grammar (``min_free_disk_space_ok()``).

Growth is measured, not guessed: the bytes a node partition held at the oldest and newest
measurement of the last 30 days (pgbackman_maintenance records one per partition and day),
divided by the days between them; at least one day of history is needed. A partition
shared by several node partitions grows by the sum of their growths.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pgbackman.errors import UserInputError

DEFAULT_MIN_FREE = "10%"
GROWTH_WINDOW = _dt.timedelta(days=30)
MIN_HISTORY = _dt.timedelta(days=1)
_UNITS = {"": 1, "bytes": 1, "b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30}
_UNITS |= {"tb": 1 << 40, "pb": 1 << 50}
_PERCENT_RE = re.compile(r"^\s*([0-9]{1,2}(?:\.[0-9]+)?)\s*%\s*$")
_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtTpP]?[bB]|bytes)?\s*$")


@dataclass(frozen=True)
class MinFree:
    """A parsed ``min_free_disk_space``: a percentage or a number of bytes."""

    percent: float | None = None
    size: int | None = None

    def bytes_for(self, partition_size: int) -> int:
        """The free bytes a partition of ``partition_size`` bytes must keep."""
        if self.percent is not None:
            return int(partition_size * self.percent / 100)
        return int(self.size or 0)

    def __str__(self) -> str:
        if self.percent is not None:
            return f"{self.percent:g}%"
        return human_bytes(self.size or 0)


def parse_min_free(value: str, field: str = "min_free_disk_space") -> MinFree:
    """``10%`` or ``50 GB``; UserInputError with a one-line reason otherwise."""
    m = _PERCENT_RE.match(value or "")
    if m:
        return MinFree(percent=float(m.group(1)))
    m = _SIZE_RE.match(value or "")
    if m:
        unit = (m.group(2) or "").lower()
        return MinFree(size=int(float(m.group(1)) * _UNITS[unit]))
    raise UserInputError(
        f"Invalid {field} value [{value}]: a percentage such as 10% or a size such as "
        "50 GB"
    )


def human_bytes(n: float) -> str:
    """1536 -> '1.5 kB' (powers of 1024, PostgreSQL's unit names)."""
    value = float(n)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PB"  # pragma: no cover - the loop returns at TB


@dataclass(frozen=True)
class Sample:
    measured: _dt.datetime
    disk_bytes: int


def growth_per_day(samples: Iterable[Sample], now: _dt.datetime) -> float | None:
    """Bytes per day between the oldest and newest sample of the last 30 days (negative
    when the partition shrinks); None with less than a day of history."""
    window = sorted(
        (s for s in samples if s.measured >= now - GROWTH_WINDOW),
        key=lambda s: s.measured,
    )
    if len(window) < 2:
        return None
    first, last = window[0], window[-1]
    span = last.measured - first.measured
    if span < MIN_HISTORY:
        return None
    return (last.disk_bytes - first.disk_bytes) / (span / _dt.timedelta(days=1))


def total_growth(growths: Iterable[float | None]) -> float | None:
    """The growth of a partition from the growths of what it holds (None: none known)."""
    known = [g for g in growths if g is not None]
    return sum(known) if known else None


def days_until_full(free_bytes: int, growth: float | None) -> float | None:
    """Days until ``free_bytes`` are used at ``growth`` bytes per day (None: not growing)."""
    if growth is None or growth <= 0:
        return None
    return free_bytes / growth
