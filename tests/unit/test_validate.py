"""core/validate.py: every accepted form normalised, every bad one a one-line UserInputError."""

from __future__ import annotations

import pytest

from pgbackman.core import validate as v
from pgbackman.errors import UserInputError


@pytest.mark.parametrize("value", ["x\ny", "x\ry", "x\x00y", "x\x7fy", "tab\there"])
def test_control_characters_refused(value: str) -> None:
    with pytest.raises(UserInputError, match="control characters"):
        v.no_control_chars("Remarks", value)


def test_hostname() -> None:
    assert v.hostname(" PG-Node01 ") == "pg-node01"
    assert v.hostname("Example.ORG", "Domain") == "example.org"
    assert v.hostname("127") == "127"
    for bad in ("", "bad host", "-x", "a..b", "x;y", "a" * 64):
        with pytest.raises(UserInputError):
            v.hostname(bad)


def test_split_fqdn_port() -> None:
    assert v.split_fqdn_port("Node.Example.org") == ("node.example.org", None)
    assert v.split_fqdn_port("node.example.org:5433") == ("node.example.org", 5433)
    with pytest.raises(UserInputError):
        v.split_fqdn_port("node:99999")


@pytest.mark.parametrize(
    "good,expected", [("1", 1), ("5432", 5432), (" 65535 ", 65535), (80, 80)]
)
def test_port_ok(good: str, expected: int) -> None:
    assert v.port(good) == expected


@pytest.mark.parametrize("bad", ["0", "65536", "-1", "abc", "", "54 32", "1e3"])
def test_port_bad(bad: str) -> None:
    with pytest.raises(UserInputError, match="Port"):
        v.port(bad)


def test_codes_and_statuses() -> None:
    assert v.server_status("running") == "RUNNING"
    assert v.backup_code("rds") == "RDS"
    assert v.job_status(" stopped ") == "STOPPED"
    for func, bad in (
        (v.server_status, "DOWN"),
        (v.backup_code, "CONFIG"),
        (v.job_status, "DELETED"),
        (v.backup_code, ""),
    ):
        with pytest.raises(UserInputError, match="is not valid"):
            func(bad)


@pytest.mark.parametrize(
    "good",
    [
        "7 days",
        "1 week",
        "2 hours 30 minutes",
        "1 mon",
        "1 year 2 months",
        "@ 1 day",
        "P1D",
        "PT12H",
        "12:00:00",
        "1 day 02:00:00",
        "3 DAYS",
        "1.5 days",
    ],
)
def test_interval_ok(good: str) -> None:
    assert v.interval(good) == " ".join(good.split()).lower()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "7",
        "7 dayz",
        "days 7",
        "-1 day",
        "1 day ago",
        "7 days; drop",
        "P",
        "1 day\n",
    ],
)
def test_interval_bad(bad: str) -> None:
    with pytest.raises(UserInputError):
        v.interval(bad)


def test_redundancy() -> None:
    assert v.redundancy("3") == 3
    for bad in ("0", "-1", "x", ""):
        with pytest.raises(UserInputError, match="between 1 and 999999"):
            v.redundancy(bad)


def test_minute_hour_intervals() -> None:
    assert v.minutes_interval("1-59") == "01-59"
    assert v.minutes_interval("00-00") == "00-00"
    assert v.hours_interval("01-06") == "01-06"
    assert v.hours_interval("0-23") == "00-23"
    for bad in ("30-05", "0-60", "5", "a-b", "1-2-3", "", "01 - 05"):
        with pytest.raises(UserInputError):
            v.minutes_interval(bad)
    with pytest.raises(UserInputError, match="0 <= a <= b <= 23"):
        v.hours_interval("01-24")


def test_misc() -> None:
    assert v.boolean("TRUE") is True and v.boolean("false") is False
    with pytest.raises(UserInputError):
        v.boolean("maybe")
    assert v.absolute_path("/srv/x") == "/srv/x"
    with pytest.raises(UserInputError, match="absolute"):
        v.absolute_path("srv/x")
    assert v.email("dba@example.org") == "dba@example.org"
    with pytest.raises(UserInputError):
        v.email("no-at-sign")
    assert v.output_format("") == "table" and v.output_format("JSON") == "json"
    with pytest.raises(UserInputError):
        v.output_format("yaml")
    with pytest.raises(UserInputError, match="cannot be empty"):
        v.required("DBname", "  ")


def test_numbers_beyond_the_catalog_are_refused() -> None:
    from pgbackman.core.validate import BIGINT_MAX, INT_MAX, number, redundancy

    assert number("42", "DefID") == 42 and number("db1.example", "NodeID") is None
    assert number("²", "DefID") is None  # str.isdigit() says yes, int() would fail
    assert number(str(BIGINT_MAX), "DefID") == BIGINT_MAX
    with pytest.raises(UserInputError, match="out of range"):
        number(str(BIGINT_MAX + 1), "DefID")
    with pytest.raises(UserInputError, match="out of range"):
        number(str(INT_MAX + 1), "SrvID", INT_MAX)
    assert redundancy("999999") == 999999
    with pytest.raises(UserInputError, match="between 1 and 999999"):
        redundancy("99999999999999")


def test_undecodable_bytes_are_refused() -> None:
    from pgbackman.core.text import undecodable
    from pgbackman.core.validate import no_control_chars

    bad = b"app\xff".decode("utf-8", "surrogateescape")
    assert undecodable(bad) == "0xFF" and undecodable("ÆØÅ 日本") is None
    with pytest.raises(UserInputError, match="not valid UTF-8"):
        no_control_chars("DBname", bad)


@pytest.mark.parametrize(
    "value",
    [
        "1000000 years",
        "101 years",
        "36001 days",
        "P101Y",
        "2 centuries",
        "0 days",
        "00:00:00",
    ],
)
def test_interval_out_of_the_sane_range(value: str) -> None:
    """Issue 11 item 3: '1000000 years' was accepted and stopped every maintenance pass."""
    with pytest.raises(UserInputError, match="at most 100 years"):
        v.interval(value)


def test_interval_range_is_the_catalogs() -> None:
    # PostgreSQL compares intervals with 30-day months: 100 years = 36000 days.
    assert v.interval("100 years") == "100 years"
    assert v.interval("36000 days") == "36000 days"
    assert v.interval_seconds("1 year 2 mons 3 days 04:05:06") == (
        (12 + 2) * 30 * 86400 + 3 * 86400 + 4 * 3600 + 5 * 60 + 6
    )
    assert v.interval_seconds("P1Y2M3DT4H5M6S") == v.interval_seconds(
        "1 year 2 mons 3 days 04:05:06"
    )
