"""DBname forms of backup/snapshot registration (core/dbselect.py)."""

from __future__ import annotations

import random

import pytest

from pgbackman.core import dbselect as ds
from pgbackman.errors import UserInputError

NODE = ["app1", "app2", "postgres", "template1", "we'ird db; $(x)", "Upper"]


def test_parse_forms() -> None:
    assert ds.parse_dbname("").kind == ds.KIND_CLUSTER
    assert ds.parse_dbname("#all_databases#").kind == ds.KIND_ALL
    assert (
        ds.parse_dbname("#databases_without_backup_definitions#").kind
        == ds.KIND_WITHOUT
    )
    assert ds.parse_dbname("#databases_without_backups#").kind == ds.KIND_WITHOUT
    assert ds.parse_dbname("app1").names == ("app1",)
    assert ds.parse_dbname("app1, app2,app1").names == ("app1", "app2")
    # A single name is verbatim: case and inner characters preserved.
    assert ds.parse_dbname("Upper").names == ("Upper",)
    assert ds.parse_dbname("we'ird db; $(x)").names == ("we'ird db; $(x)",)


def test_parse_rejects() -> None:
    with pytest.raises(UserInputError, match="control characters"):
        ds.parse_dbname("a\nb")
    with pytest.raises(UserInputError, match="cannot be part"):
        ds.parse_dbname("app1,#all_databases#")
    with pytest.raises(UserInputError, match="cannot be used here"):
        ds.parse_dbname("#databases_without_backups#", allow_without_definitions=False)
    with pytest.raises(UserInputError, match="control characters"):
        ds.parse_exceptions("a,b\x01c")


def test_exceptions_list() -> None:
    assert ds.parse_exceptions(" app1 , app2,, ") == ["app1", "app2"]
    assert ds.parse_exceptions("") == []


def test_select_explicit_names_all_checked_first() -> None:
    spec = ds.parse_dbname("app1,nope,app2,nope2")
    with pytest.raises(UserInputError) as exc:
        ds.select_databases(spec, [], NODE, node_label="n1.example")
    msg = str(exc.value)
    assert "Database [nope] does not exist in the PgSQL node [n1.example]" in msg
    assert "[nope2]" in msg


def test_select_all_databases_with_exceptions() -> None:
    got = ds.select_databases(ds.parse_dbname("#all_databases#"), ["app2"], NODE)
    assert got == sorted(["app1", "we'ird db; $(x)", "Upper"])


def test_select_without_definitions() -> None:
    got = ds.select_databases(
        ds.parse_dbname("#databases_without_backups#"),
        ["Upper"],
        NODE,
        with_definitions=["app1"],
    )
    assert got == ["app2", "we'ird db; $(x)"]


def test_select_cluster_rules() -> None:
    assert ds.select_databases(
        ds.parse_dbname(""), [], NODE, backup_code="cluster"
    ) == [""]
    with pytest.raises(UserInputError, match="required"):
        ds.select_databases(ds.parse_dbname(""), [], NODE, backup_code="FULL")
    with pytest.raises(UserInputError, match="CLUSTER"):
        ds.select_databases(ds.parse_dbname("app1"), [], NODE, backup_code="CLUSTER")


def test_nothing_left_is_an_error() -> None:
    with pytest.raises(UserInputError, match="No databases left"):
        ds.select_databases(ds.parse_dbname("app1"), ["app1"], NODE)


def test_spread_schedule() -> None:
    one = ds.spread_schedule(["app1"], "41", "01", "01-59", "01-06")
    assert one == [("app1", "41", "01")]
    many = ds.spread_schedule(
        ["a", "b", "c"], "41", "01", "10-12", "02-03", random.Random(1)
    )
    assert [m[0] for m in many] == ["a", "b", "c"]
    assert all(10 <= int(m) <= 12 and 2 <= int(h) <= 3 for _, m, h in many)


def test_names_with_control_characters_are_not_registrable() -> None:
    ok, skipped = ds.registrable(["app1", "two\nlines", "tab\there", "Ærø"])
    assert ok == ["app1", "Ærø"] and skipped == ["two\nlines", "tab\there"]
