"""Cron field validation (Vixie cron grammar) and random picks inside node intervals."""

from __future__ import annotations

import random

import pytest

from pgbackman.core import cronfields as cf
from pgbackman.errors import UserInputError


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (cf.MINUTE, "*"),
        (cf.MINUTE, "0"),
        (cf.MINUTE, "59"),
        (cf.MINUTE, "01"),
        (cf.MINUTE, "*/15"),
        (cf.MINUTE, "0-30/5"),
        (cf.MINUTE, "1,2,3,10-20"),
        (cf.HOUR, "23"),
        (cf.HOUR, "1-5,22"),
        (cf.DAY_MONTH, "1"),
        (cf.DAY_MONTH, "31"),
        (cf.DAY_MONTH, "1-15/2"),
        (cf.MONTH, "jan"),
        (cf.MONTH, "JAN-mar"),
        (cf.MONTH, "12"),
        (cf.WEEKDAY, "mon-fri"),
        (cf.WEEKDAY, "0,7"),
        (cf.WEEKDAY, "Sun"),
        (cf.WEEKDAY, " 1 "),
    ],
)
def test_valid_fields(field: cf.CronField, value: str) -> None:
    got = cf.validate_field(field, value)
    if "-" in value and any(c.isalpha() for c in value):
        assert got.isascii() and not any(c.isalpha() for c in got)
    else:
        assert got == value.strip()


def test_names_in_ranges_become_numbers() -> None:
    assert cf.validate_field(cf.WEEKDAY, "mon-fri") == "1-5"
    assert cf.validate_field(cf.WEEKDAY, "sun,sat") == "0,6"
    assert cf.validate_field(cf.MONTH, "JAN-mar/2") == "1-3/2"
    assert cf.validate_field(cf.MONTH, "Dec") == "Dec"
    assert cf.validate_field(cf.MONTH, "*/3") == "*/3"


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        (cf.MINUTE, "60", "out of range 0-59"),
        (cf.MINUTE, "-1", "not valid cron syntax"),
        (cf.MINUTE, "", "empty"),
        (cf.MINUTE, "5/10", "step"),
        (cf.MINUTE, "*/0", "step"),
        (cf.MINUTE, "*/61", "step"),
        (cf.MINUTE, "1,,2", "not valid"),
        (cf.MINUTE, "1 2", "spaces"),
        (cf.MINUTE, "a", "not a number"),
        (cf.MINUTE, "10-5", "reversed"),
        (cf.HOUR, "24", "out of range 0-23"),
        (cf.DAY_MONTH, "0", "out of range 1-31"),
        (cf.DAY_MONTH, "32", "out of range"),
        (cf.MONTH, "13", "out of range"),
        (cf.MONTH, "mon", "not a number"),
        (cf.WEEKDAY, "8", "out of range"),
        (cf.WEEKDAY, "jan", "not a number"),
        (cf.MINUTE, "1;touch", "not valid"),
        (cf.MINUTE, "1\n* * * * * root evil", "spaces"),
        (cf.MINUTE, "%", "not valid"),
    ],
)
def test_invalid_fields_name_the_field(
    field: cf.CronField, value: str, fragment: str
) -> None:
    with pytest.raises(UserInputError) as exc:
        cf.validate_field(field, value)
    msg = str(exc.value)
    assert field.label in msg
    assert fragment in msg
    assert "\n" not in msg


def test_validate_schedule_order() -> None:
    assert cf.validate_schedule("5", "1", "*", "*", "mon") == (
        "5",
        "1",
        "*",
        "*",
        "mon",
    )
    with pytest.raises(UserInputError, match="Weekday cron"):
        cf.validate_schedule("5", "1", "*", "*", "9")
    with pytest.raises(UserInputError, match="Day-month cron"):
        cf.validate_schedule("5", "1", "40", "*", "1")


def test_random_picks_stay_inside_interval() -> None:
    rng = random.Random(42)
    minutes = {cf.random_minute("01-59", rng) for _ in range(500)}
    assert all(len(m) == 2 and 1 <= int(m) <= 59 for m in minutes)
    assert len(minutes) > 30
    hours = {cf.random_hour("01-06", rng) for _ in range(200)}
    assert hours == {"01", "02", "03", "04", "05", "06"}
    assert cf.random_hour("5-5", rng) == "05"


@pytest.mark.parametrize("bad", ["", "5", "a-b", "10-5", "0-60", "1-2-3"])
def test_bad_intervals(bad: str) -> None:
    with pytest.raises(UserInputError, match="minutes interval"):
        cf.random_minute(bad)


def test_hour_interval_limit() -> None:
    with pytest.raises(UserInputError, match="hours interval"):
        cf.random_hour("0-24")
