"""Facts about a database recorded at dump time, and the drill's verdict on a restored copy.

Exact row counts of every table cost a full scan of the database at every backup, so a dump
records what is strong and cheap instead (``backup/facts.py`` collects it, this module owns
the format and the rules, with no I/O):

* every ordinary table of the database (schema and name), with ``pg_class.reltuples``,
  ``relpages`` and ``pg_relation_size`` (catalog reads: free);
* the exact row count of the small tables, smallest first, up to
  :data:`EXACT_COUNT_MAX_BYTES` per table and :data:`EXACT_COUNT_BUDGET_BYTES` in all,
  counted in the very snapshot pg_dump dumps (``pg_export_snapshot()`` +
  ``pg_dump --snapshot``), so the counts are exactly what the archive holds.

A restore drill compares the restored database with these facts (:func:`compare`): every
table must be there, a small table must hold exactly its rows, a large table that held
rows (``reltuples`` >= 1, or never analysed but not empty) must not come back empty. A
table whose data the backup left out (extra backup parameters) is a loss like any other:
a drill proves the backup brings the database back, and such a backup does not.

The facts travel inside the archive directory (:data:`FACTS_FILE`), so they are covered by
the backup's checksum manifest and deleted with it; pg_restore ignores the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

FACTS_FILE = "pgbackman-facts.json"
FORMAT = 1
EXACT_COUNT_MAX_BYTES = 16 * 1024 * 1024
EXACT_COUNT_BUDGET_BYTES = 256 * 1024 * 1024
SHOWN = 10  # tables named in one problem line

Key = tuple[str, str]  # (schema, table)


@dataclass(frozen=True)
class TableFact:
    """One ordinary table at dump time; ``rows`` is the exact count when it was taken."""

    schema: str
    name: str
    qualified: str  # format('%I.%I') on the source: how it is shown
    reltuples: float
    relpages: int
    bytes: int
    rows: int | None = None

    @property
    def key(self) -> Key:
        return (self.schema, self.name)

    @property
    def held_rows(self) -> bool:
        """Whether the table held rows at dump time, as far as the estimates tell."""
        if self.rows is not None:
            return self.rows > 0
        if self.reltuples >= 1:
            return True
        # -1 (PostgreSQL >= 14) or 0 (older): never analysed; pages mean data.
        return self.reltuples < 0 and self.relpages > 0


@dataclass
class Facts:
    """What a dump recorded about its database (the JSON of :data:`FACTS_FILE`)."""

    database: str
    backup_code: str
    taken: str
    in_dump_snapshot: bool  # exact counts were taken in pg_dump's own snapshot
    tables: list[TableFact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def data_expected(self) -> bool:
        return self.backup_code.upper() != "SCHEMA"

    def to_json(self) -> str:
        data = asdict(self)
        data["format"] = FORMAT
        return json.dumps(data, ensure_ascii=True, sort_keys=True, indent=0) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Facts:
        """Parse the file; ValueError when it is not facts this module understands."""
        try:
            data: Any = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"unknown facts format {data.get('format')!r}")
            tables = [
                TableFact(
                    schema=str(t["schema"]),
                    name=str(t["name"]),
                    qualified=str(t["qualified"]),
                    reltuples=float(t["reltuples"]),
                    relpages=int(t["relpages"]),
                    bytes=int(t["bytes"]),
                    rows=None if t.get("rows") is None else int(t["rows"]),
                )
                for t in data["tables"]
            ]
            return cls(
                database=str(data["database"]),
                backup_code=str(data["backup_code"]),
                taken=str(data["taken"]),
                in_dump_snapshot=bool(data["in_dump_snapshot"]),
                tables=tables,
                notes=[str(n) for n in data.get("notes", [])],
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed facts: {exc}") from None


def tables_to_count(
    tables: Iterable[TableFact],
    max_bytes: int = EXACT_COUNT_MAX_BYTES,
    budget: int = EXACT_COUNT_BUDGET_BYTES,
) -> list[Key]:
    """The tables whose rows are counted exactly: the small ones, smallest first, while the
    budget of bytes scanned lasts."""
    chosen: list[Key] = []
    spent = 0
    for t in sorted(tables, key=lambda t: (t.bytes, t.schema, t.name)):
        if t.bytes > max_bytes or spent + t.bytes > budget:
            break
        chosen.append(t.key)
        spent += t.bytes
    return chosen


@dataclass(frozen=True)
class RestoredTable:
    """A table of the restored database: its exact count, or only whether it holds rows."""

    rows: int | None = None
    has_rows: bool | None = None


@dataclass
class Verdict:
    """What the drill checked (one line each) and what it found wrong."""

    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" (+{len(names) - SHOWN} more)" if len(names) > SHOWN else "")


def _problem(what: str, bad: list[tuple[TableFact, str]], excluded: set[str]) -> str:
    """``N table(s) <what>: t1 (detail), ...`` and, when some of them are tables whose data
    the backup left out on purpose, a note saying so."""
    text = f"{len(bad)} table(s) {what}: " + _names(
        [f"{t.qualified}{f' ({d})' if d else ''}" for t, d in bad]
    )
    hit = [t.qualified for t, _ in bad if t.qualified in excluded]
    if hit:
        text += (
            f"; the backup holds no data of {_names(hit)}: its extra backup "
            "parameters leave it out"
        )
    return text


def compare(
    facts: Facts,
    restored: Mapping[Key, RestoredTable],
    excluded: Iterable[str] = (),
) -> Verdict:
    """The drill's verdict: the restored database against the facts of its dump.

    ``restored`` holds every ordinary table of the restored database, with ``rows`` for the
    tables counted at dump time and ``has_rows`` for the others. ``excluded``: the tables
    whose data the backup does not hold (``backup_catalog.excluded_tables``), named in the
    problem so the reader knows the loss was chosen, not suffered.
    """
    v = Verdict()
    skipped = set(excluded)
    missing = [(t, "") for t in facts.tables if t.key not in restored]
    v.checks.append(
        f"tables: {len(facts.tables) - len(missing)} of {len(facts.tables)} present"
    )
    if missing:
        v.problems.append(_problem("missing after the restore", missing, skipped))
    if not facts.data_expected:
        v.checks.append(f"rows: not checked (a {facts.backup_code} backup holds none)")
        return v
    counted = [t for t in facts.tables if t.rows is not None and t.key in restored]
    wrong = [
        (t, f"{restored[t.key].rows} rows restored, {t.rows} at dump time")
        for t in counted
        if restored[t.key].rows != t.rows
    ]
    total = sum(t.rows or 0 for t in counted)
    where = "in the dump's snapshot" if facts.in_dump_snapshot else "at dump time"
    v.checks.append(
        f"rows: exact count of {len(counted)} small table(s) ({total} rows) taken {where}"
    )
    if wrong:
        v.problems.append(
            _problem("do not hold the rows they had at dump time", wrong, skipped)
        )
    estimated = [t for t in facts.tables if t.rows is None and t.key in restored]
    expected = [t for t in estimated if t.held_rows]
    empty = [
        (t, f"about {max(int(t.reltuples), 0)} rows at dump time")
        for t in expected
        if not restored[t.key].has_rows
    ]
    v.checks.append(
        f"rows: {len(expected)} larger table(s) that held rows at dump time checked "
        f"for rows ({len(estimated) - len(expected)} were empty then)"
    )
    if empty:
        v.problems.append(_problem("came back empty", empty, skipped))
    return v


def toc_only_verdict(tables_with_data: int, restored_tables: int) -> Verdict:
    """The verdict when the backup carries no facts (made before facts were recorded, or
    the node could not be asked): the restore itself and the archive's contents only."""
    return Verdict(
        checks=[
            "no facts recorded at dump time: tables and rows not compared",
            f"archive: {tables_with_data} table(s) with data; restored database: "
            f"{restored_tables} table(s)",
        ]
    )
