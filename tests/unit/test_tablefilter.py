"""core/tablefilter: pg_dump's pattern rules, the data-less options, which tables must have
data, and the pg_restore -l listing (no PostgreSQL needed)."""

from __future__ import annotations

import pytest

from pgbackman.core.argv import option_pairs, tokenize_extra
from pgbackman.core.tablefilter import (
    Matches,
    Relation,
    Selection,
    dataless_reason,
    expected_data,
    pattern_regexes,
    selection,
    toc_table_data,
)


@pytest.mark.parametrize(
    ("pattern", "schema", "name"),
    [
        ("*", None, "^(.*)$"),
        ("Big_T", None, "^(big_t)$"),
        ("app.T?x*", "^(app)$", "^(t.x.*)$"),
        ('"Weird Schema"."Mixed.Case"', "^(Weird Schema)$", "^(Mixed\\.Case)$"),
        ('"a""b"', None, '^(a"b)$'),
        ("a$b", None, "^(a\\$b)$"),
        ("arr[]", None, "^(arr\\[])$"),
        ("t(1|2)", None, "^(t(1|2))$"),  # regexp characters pass through unquoted
        ("db.s.t", "^(s)$", "^(t)$"),
        ("ÆØ.ß", "^(ÆØ)$", "^(ß)$"),  # only ASCII letters are folded, like pg_dump
    ],
)
def test_pattern_regexes_like_pg_dump(
    pattern: str, schema: str | None, name: str
) -> None:
    assert pattern_regexes(pattern) == (schema, name)


def test_schema_patterns_keep_dots() -> None:
    assert pattern_regexes("A.b", qualified=False) == (None, "^(a.b)$")


def test_option_pairs() -> None:
    tokens = tokenize_extra("-j 2 -Tapp.x --exclude-table-data=y -N z --no-owner")
    assert option_pairs(tokens) == [
        ("-j", "2"),
        ("-T", "app.x"),
        ("--exclude-table-data", "y"),
        ("-N", "z"),
        ("--no-owner", ""),
    ]


@pytest.mark.parametrize(
    ("code", "extra", "refused"),
    [
        ("FULL", "--section=pre-data", True),
        ("DATA", "--section post-data", True),
        ("FULL", "--section=pre-data --section=data", False),
        ("SCHEMA", "--section=pre-data", False),
        ("CLUSTER", "", False),
        ("RDS", "-T '*'", True),
        ("FULL", "-T '\"*\"'", False),  # a table literally called *
        ("FULL", "--exclude-table-data=*.*", True),
        ("FULL", "--exclude-table-data=app.*", False),
        ("FULL", "-N '?*'", True),
        ("FULL", "-t '*'", False),  # an include: everything stays
    ],
)
def test_dataless_reason(code: str, extra: str, refused: bool) -> None:
    assert (dataless_reason(code, tokenize_extra(extra)) is not None) is refused


def _rel(oid: int, schema: int = 1, kind: str = "r", pers: str = "p") -> Relation:
    return Relation(oid, f"s{schema}.t{oid}", schema, kind, pers, False, False)


RELS = [
    _rel(1),
    _rel(2),
    _rel(3, schema=2),
    _rel(4, pers="u"),
    _rel(5, pers="t"),
    Relation(6, "s1.ext", 1, "r", "p", True, False),
    Relation(7, "pg_catalog.x", 9, "r", "p", False, True),
]


def test_expected_data_follows_pg_dumps_selection() -> None:
    none = Selection()
    assert expected_data(RELS, none, Matches()) == {1, 2, 3, 4}
    assert expected_data(RELS, none, Matches(exclude_tables=frozenset({2}))) == {
        1,
        3,
        4,
    }
    assert expected_data(RELS, none, Matches(exclude_data=frozenset({1, 3}))) == {2, 4}
    assert expected_data(RELS, none, Matches(include_schemas=frozenset({2}))) == {3}
    assert expected_data(RELS, none, Matches(exclude_schemas=frozenset({1}))) == {3}
    # -t wins over schema selections, as in pg_dump.
    assert expected_data(
        RELS,
        none,
        Matches(include_tables=frozenset({2}), exclude_schemas=frozenset({1})),
    ) == {2}
    unlogged = selection(tokenize_extra("--no-unlogged-table-data"))
    assert expected_data(RELS, unlogged, Matches()) == {1, 2, 3}


def test_toc_table_data() -> None:
    listing = (
        ";\n; Archive created at 2026-01-01\n"
        "215; 1259 16392 TABLE We ird Ta b postgres\n"
        "3361; 0 16392 TABLE DATA We ird Ta b postgres\n"
        "3364; 0 16401 MATERIALIZED VIEW DATA public mv postgres\n"
        "3365; 0 16408 TABLE DATA public part1 postgres\n"
        ";3366; 0 16409 TABLE DATA public commented postgres\n"
    )
    assert toc_table_data(listing) == {16392, 16408}
