"""The facts a dump records for restore drills and the drill's verdict (core/facts.py)."""

from __future__ import annotations

import pytest

from pgbackman.core import facts as f


def _t(
    name: str,
    *,
    rows: int | None = None,
    reltuples: float = 0.0,
    relpages: int = 0,
    nbytes: int = 8192,
    schema: str = "public",
) -> f.TableFact:
    return f.TableFact(
        schema, name, f"{schema}.{name}", reltuples, relpages, nbytes, rows
    )


def _facts(*tables: f.TableFact, code: str = "FULL") -> f.Facts:
    return f.Facts("app", code, "2030-01-01T00:00:00+00:00", True, list(tables))


def test_facts_round_trip_through_json() -> None:
    facts = _facts(
        _t("a", rows=3), _t("b", reltuples=1e6, relpages=9000, nbytes=1 << 30)
    )
    facts.notes.append("a note")
    assert f.Facts.from_json(facts.to_json()) == facts


@pytest.mark.parametrize(
    "text",
    [
        '{"format": 2, "tables": []}',
        "[]",
        '{"format": 1}',
        '{"format": 1, "tables": [{}]}',
    ],
)
def test_unknown_or_malformed_facts_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        f.Facts.from_json(text)


def test_small_tables_are_counted_smallest_first_within_the_budget() -> None:
    tables = [
        _t("big", nbytes=f.EXACT_COUNT_MAX_BYTES + 1),
        _t("c", nbytes=300),
        _t("a", nbytes=100),
        _t("b", nbytes=200),
    ]
    assert f.tables_to_count(tables) == [
        ("public", "a"),
        ("public", "b"),
        ("public", "c"),
    ]
    assert f.tables_to_count(tables, budget=350) == [("public", "a"), ("public", "b")]


def test_a_table_held_rows_by_count_by_estimate_or_by_pages_when_never_analysed() -> (
    None
):
    assert _t("a", rows=1).held_rows and not _t("a", rows=0).held_rows
    assert _t("a", reltuples=5).held_rows
    assert _t("a", reltuples=-1, relpages=3).held_rows  # PostgreSQL >= 14, not analysed
    assert not _t("a", reltuples=-1, relpages=0).held_rows
    assert not _t("a", reltuples=0, relpages=3).held_rows  # analysed: empty


def test_a_complete_restore_passes() -> None:
    facts = _facts(_t("small", rows=10), _t("big", reltuples=5e5, relpages=10), _t("e"))
    restored = {
        ("public", "small"): f.RestoredTable(rows=10),
        ("public", "big"): f.RestoredTable(has_rows=True),
        ("public", "e"): f.RestoredTable(has_rows=False),
    }
    v = f.compare(facts, restored)
    assert v.ok, v.problems
    assert "tables: 3 of 3 present" in v.checks


def test_missing_tables_lost_rows_and_empty_tables_are_problems() -> None:
    facts = _facts(
        _t("gone", rows=1),
        _t("short", rows=10),
        _t("emptied", reltuples=5e5, relpages=10),
        _t("fine", rows=2),
    )
    restored = {
        ("public", "short"): f.RestoredTable(rows=9),
        ("public", "emptied"): f.RestoredTable(has_rows=False),
        ("public", "fine"): f.RestoredTable(rows=2),
    }
    v = f.compare(facts, restored, excluded=["public.emptied"])
    assert not v.ok
    text = "; ".join(v.problems)
    assert "1 table(s) missing after the restore: public.gone" in text
    assert "public.short (9 rows restored, 10 at dump time)" in text
    assert "public.emptied (about 500000 rows at dump time)" in text
    assert "the backup holds no data of public.emptied" in text
    assert "public.fine" not in text
    assert "no data of public.short" not in text  # a loss nobody chose


def test_a_schema_backup_checks_tables_only() -> None:
    facts = _facts(_t("a", reltuples=100), code="SCHEMA")
    v = f.compare(facts, {("public", "a"): f.RestoredTable()})
    assert v.ok
    assert any("not checked" in c for c in v.checks)


def test_many_problems_are_named_up_to_a_limit() -> None:
    tables = [_t(f"t{i:02d}", rows=1) for i in range(f.SHOWN + 5)]
    v = f.compare(_facts(*tables), {})
    assert "(+5 more)" in v.problems[0]
