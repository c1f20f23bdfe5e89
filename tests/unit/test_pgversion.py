"""core/pgversion.py: releases, the too-old check, and the bindir search order."""

from __future__ import annotations

import pytest

from pgbackman.core import pgversion as pv


def test_release_from_version_num() -> None:
    assert pv.release_from_version_num(150010) == (15,)
    assert pv.release_from_version_num(180000) == (18,)
    assert pv.release_from_version_num(90624) == (9, 6)
    with pytest.raises(ValueError):
        pv.release_from_version_num(0)


@pytest.mark.parametrize(
    "text,rel",
    [("9.6", (9, 6)), ("9_6", (9, 6)), ("15", (15,)), ("15.4", (15,)), ("10", (10,))],
)
def test_parse_release(text: str, rel: tuple[int, ...]) -> None:
    assert pv.parse_release(text) == rel


@pytest.mark.parametrize("text", ["", "abc", "9", "15;rm", "1 5"])
def test_parse_release_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        pv.parse_release(text)


def test_ten_is_newer_than_nine_six() -> None:
    # Upstream bug: '10' < '96' as integers refused pg_dump 10 for a 9.6 node.
    assert pv.choose_release((9, 6), "10") == (10,)
    assert pv.choose_release((15,), None) == (15,)
    assert pv.choose_release((15,), "17") == (17,)
    with pytest.raises(ValueError, match="older"):
        pv.choose_release((15,), "14")
    with pytest.raises(ValueError, match="older"):
        pv.choose_release((10,), "9.6")


def test_tags() -> None:
    assert pv.release_tag((9, 6)) == "9_6" and pv.release_dotted((9, 6)) == "9.6"
    assert pv.release_tag((15,)) == "15" and pv.release_dotted((15,)) == "15"


def test_parse_tool_version() -> None:
    assert pv.parse_tool_version("pg_dump (PostgreSQL) 15.10 (Debian 15.10-1)\n") == (
        (15,),
        "15.10",
    )
    assert pv.parse_tool_version("pg_dump (PostgreSQL) 9.6.24") == ((9, 6), "9.6")
    assert pv.parse_tool_version("pg_dump (PostgreSQL) 18devel")[0] == (18,)
    with pytest.raises(ValueError):
        pv.parse_tool_version("bash: no such file")


def test_bindir_candidates_order() -> None:
    installed = [((13,), "/b/13"), ((17,), "/b/17"), ((15,), "/b/15"), ((16,), "/b/16")]
    got = pv.bindir_candidates((15,), {"pgsql_bin_15": "/opt/pg15/bin"}, installed)
    assert got == [
        "/opt/pg15/bin",
        "/usr/lib/postgresql/15/bin",
        "/b/17",
        "/b/16",
        "/b/15",
    ]
    got = pv.bindir_candidates((15,), {"pgsql_bin_15": " "}, installed, exact=True)
    assert got == ["/usr/lib/postgresql/15/bin"]
    got = pv.bindir_candidates((9, 6), {}, [((9, 6), "/usr/lib/postgresql/9.6/bin")])
    assert got == ["/usr/lib/postgresql/9.6/bin"]
