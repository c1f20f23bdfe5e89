"""Disk space arithmetic (core/diskusage.py): the threshold, growth, days until full."""

from __future__ import annotations

import datetime as dt

import pytest

from pgbackman.core import diskusage as du
from pgbackman.core import validate
from pgbackman.errors import UserInputError

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "size", "need"),
    [
        ("10%", 1000, 100),
        (" 2.5 % ", 1000, 25),
        ("50 GB", 0, 50 << 30),
        ("500MB", 0, 500 << 20),
        ("1TB", 0, 1 << 40),
        ("4096", 0, 4096),
        ("10 bytes", 0, 10),
    ],
)
def test_min_free_disk_space_is_a_percentage_or_a_size(
    text: str, size: int, need: int
) -> None:
    assert du.parse_min_free(text).bytes_for(size) == need
    assert validate.min_free_disk_space(text)


@pytest.mark.parametrize("text", ["", "100%", "-1%", "ten", "5 XB", "1e9", "10%%"])
def test_bad_min_free_disk_space_is_refused(text: str) -> None:
    with pytest.raises(UserInputError):
        du.parse_min_free(text)


def test_growth_needs_a_day_of_history_within_30_days() -> None:
    now = T0 + dt.timedelta(days=40)
    assert du.growth_per_day([], now) is None
    samples = [
        du.Sample(T0, 0),  # older than 30 days: left out
        du.Sample(now - dt.timedelta(days=20), 1000),
        du.Sample(now - dt.timedelta(days=10), 5000),
        du.Sample(now, 11000),
    ]
    assert du.growth_per_day(samples, now) == pytest.approx(500.0)
    recent = [du.Sample(now - dt.timedelta(hours=5), 0), du.Sample(now, 10)]
    assert du.growth_per_day(recent, now) is None
    shrink = [du.Sample(now - dt.timedelta(days=2), 300), du.Sample(now, 100)]
    assert du.growth_per_day(shrink, now) == pytest.approx(-100.0)


def test_days_until_full_at_the_growth_of_everything_on_the_partition() -> None:
    growth = du.total_growth([100.0, None, 300.0])
    assert growth == 400.0
    assert du.days_until_full(4000, growth) == 10.0
    assert du.days_until_full(4000, du.total_growth([None])) is None
    assert du.days_until_full(4000, -5.0) is None  # shrinking: never full


def test_sizes_for_humans() -> None:
    assert du.human_bytes(512) == "512 bytes"
    assert du.human_bytes(1536) == "1.5 kB"
    assert du.human_bytes(3 << 30) == "3.0 GB"


@pytest.mark.parametrize("text", ["1 hour", "7 days", "3650 days"])
def test_drill_interval(text: str) -> None:
    assert validate.drill_interval(text) == text


@pytest.mark.parametrize("text", ["59 minutes", "3651 days", "soon", ""])
def test_bad_drill_interval(text: str) -> None:
    with pytest.raises(UserInputError):
        validate.drill_interval(text)
