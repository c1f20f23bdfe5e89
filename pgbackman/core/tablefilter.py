"""Which tables a FULL, DATA or RDS backup must hold the data of, given its extra pg_dump
parameters; and the parameters that would leave it without any data at all.

A backup code must mean what it says: FULL/DATA/RDS carry table data. Exclusions users
need (some tables, some schemas) stay allowed, but:

* :func:`dataless_reason` refuses, at registration and at run time, options that remove
  all data whatever the database holds: ``--section`` without ``data``, and table or schema
  exclusions whose pattern matches every name (``-T '*'``, ``--exclude-table-data=*.*``,
  ``-N '*'``);
* :func:`expected_data` says which tables must have a ``TABLE DATA`` entry in the archive,
  the way pg_dump selects them (``-t``/``-n`` includes, ``-T``/``-N`` excludes, data
  exclusions, unlogged tables, extension members), from the node's relations and the
  relations each pattern matches there. The patterns are turned into regular expressions
  exactly as pg_dump does (:func:`pattern_regexes`, after ``patternToSQLRegex`` in
  PostgreSQL's ``fe_utils/string_utils.c``) and matched by the node itself, so the node's
  regular-expression engine, collation and search_path decide, as they do for pg_dump.
* :func:`toc_table_data` reads the table OIDs of the ``TABLE DATA`` entries of
  ``pg_restore -l`` output (OIDs, not names: names with spaces are ambiguous there).

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pgbackman.core.argv import DATA_CODES, option_pairs

ANY_NAME = "^(.*)$"  # pg_dump's regex of a lone "*"; it drops the condition for it

# Options whose patterns select what is dumped (pg_dump names; short forms mapped).
_TABLE_INCLUDE = {"-t": False, "--table": False, "--table-and-children": True}
_TABLE_EXCLUDE = {
    "-T": False,
    "--exclude-table": False,
    "--exclude-table-and-children": True,
}
_DATA_EXCLUDE = {
    "--exclude-table-data": False,
    "--exclude-table-data-and-children": True,
}
_SCHEMA_INCLUDE = ("-n", "--schema")
_SCHEMA_EXCLUDE = ("-N", "--exclude-schema")
_REGEX_SPECIALS = set("|*+?()[]{}.^$\\")


@dataclass(frozen=True)
class TablePattern:
    """A table pattern as pg_dump matches it: ``schema`` None = no schema part (then only
    tables visible through the search_path match); ``children``: the -and-children forms."""

    text: str
    schema: str | None
    name: str
    children: bool = False


@dataclass(frozen=True)
class Selection:
    """What the extra parameters say about which tables and which data are dumped."""

    include_tables: tuple[TablePattern, ...] = ()
    exclude_tables: tuple[TablePattern, ...] = ()
    exclude_data: tuple[TablePattern, ...] = ()
    include_schemas: tuple[str, ...] = ()  # regexes
    exclude_schemas: tuple[str, ...] = ()
    no_unlogged_data: bool = False
    sections: tuple[str, ...] = ()
    filter_file: bool = False  # --filter: selections we cannot see

    @property
    def narrows(self) -> bool:
        """True when some table may legitimately lack data."""
        return bool(
            self.include_tables
            or self.exclude_tables
            or self.exclude_data
            or self.include_schemas
            or self.exclude_schemas
            or self.no_unlogged_data
            or self.filter_file
        )


def pattern_regexes(pattern: str, qualified: bool = True) -> tuple[str | None, str]:
    """(schema regex or None, name regex) of a pg_dump pattern.

    Unquoted letters are lower-cased, ``*`` -> ``.*``, ``?`` -> ``.``, ``$`` is literal,
    inside double quotes everything is literal (``""`` is one quote), regexp characters
    outside quotes pass through (as in pg_dump), and ``[]`` is always literal. With
    ``qualified`` a ``.`` outside quotes separates database, schema and name (the database
    part is dropped: pg_dump refuses another database); otherwise it is a regexp ``.``.
    """
    parts: list[list[str]] = [[]]
    in_quotes = False
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        cur = parts[-1]
        if ch == '"':
            if in_quotes and i + 1 < n and pattern[i + 1] == '"':
                cur.append('"')
                i += 2
                continue
            in_quotes = not in_quotes
        elif not in_quotes and "A" <= ch <= "Z":
            cur.append(ch.lower())
        elif not in_quotes and ch == "*":
            cur.append(".*")
        elif not in_quotes and ch == "?":
            cur.append(".")
        elif not in_quotes and ch == "." and qualified and len(parts) < 3:
            parts.append([])
        elif ch == "$":
            cur.append("\\$")
        else:
            if in_quotes and ch in _REGEX_SPECIALS:
                cur.append("\\")
            elif ch == "[" and i + 1 < n and pattern[i + 1] == "]":
                cur.append("\\")
            cur.append(ch)
        i += 1
    regexes = ["^(" + "".join(p) + ")$" for p in parts]
    name = regexes[-1]
    schema = regexes[-2] if len(regexes) >= 2 else None
    return schema, name


def _matches_every_name(pattern: str) -> bool:
    """A pattern whose every part is made of ``*`` (and ``?``) only, with a ``*`` in the
    name part: it matches every name (``*``, ``*.*``, ``"*"`` is a literal star)."""
    parts = pattern.split(".")
    return all(p and set(p) <= {"*", "?"} for p in parts) and "*" in parts[-1]


def selection(tokens: Sequence[str]) -> Selection:
    """The Selection of checked extra parameters (see argv.tokenize_extra)."""
    inc_t: list[TablePattern] = []
    exc_t: list[TablePattern] = []
    exc_d: list[TablePattern] = []
    inc_n: list[str] = []
    exc_n: list[str] = []
    sections: list[str] = []
    no_unlogged = filt = False
    for name, value in option_pairs(tokens):
        for table, target in (
            (_TABLE_INCLUDE, inc_t),
            (_TABLE_EXCLUDE, exc_t),
            (_DATA_EXCLUDE, exc_d),
        ):
            if name in table:
                schema, rel = pattern_regexes(value)
                target.append(TablePattern(value, schema, rel, table[name]))
        if name in _SCHEMA_INCLUDE:
            inc_n.append(pattern_regexes(value, qualified=False)[1])
        elif name in _SCHEMA_EXCLUDE:
            exc_n.append(pattern_regexes(value, qualified=False)[1])
        elif name == "--section":
            sections.append(value)
        elif name == "--no-unlogged-table-data":
            no_unlogged = True
        elif name == "--filter":
            filt = True
    return Selection(
        tuple(inc_t),
        tuple(exc_t),
        tuple(exc_d),
        tuple(inc_n),
        tuple(exc_n),
        no_unlogged,
        tuple(sections),
        filt,
    )


def dataless_reason(backup_code: str, tokens: Sequence[str]) -> str | None:
    """Why these extra parameters would leave a FULL/DATA/RDS backup without any table
    data (None: they do not, or the code carries no data anyway)."""
    code = backup_code.upper()
    if code not in DATA_CODES:
        return None
    pairs = option_pairs(tokens)
    sections = [v for n, v in pairs if n == "--section"]
    if sections and "data" not in sections:
        shown = ", ".join(sections)
        return (
            f"--section={shown} leaves out the data section: a {code} backup must "
            "hold table data (use backup code SCHEMA for the schema alone)"
        )
    for name, value in pairs:
        excludes_all = (
            name in _TABLE_EXCLUDE or name in _DATA_EXCLUDE or name in _SCHEMA_EXCLUDE
        )
        if excludes_all and _matches_every_name(value):
            return (
                f"{name} {value} excludes every table: a {code} backup must hold table "
                "data (use backup code SCHEMA for the schema alone)"
            )
    return None


@dataclass(frozen=True)
class Relation:
    """One relation of the node's database, as the data check needs it."""

    oid: int
    name: str  # schema.table, quoted where needed
    schema_oid: int
    relkind: str
    persistence: str
    extension_member: bool
    system_schema: bool  # pg_* or information_schema: never dumped


@dataclass(frozen=True)
class Matches:
    """OIDs each group of patterns matched on the node (None: no such patterns)."""

    include_tables: frozenset[int] | None = None
    exclude_tables: frozenset[int] = frozenset()
    exclude_data: frozenset[int] = frozenset()
    include_schemas: frozenset[int] | None = None
    exclude_schemas: frozenset[int] = frozenset()


def dumpable_tables(rels: Iterable[Relation]) -> list[Relation]:
    """Ordinary tables whose data a dump of the whole database holds."""
    return [
        r
        for r in rels
        if r.relkind == "r"
        and r.persistence != "t"
        and not r.extension_member
        and not r.system_schema
    ]


def expected_data(
    rels: Iterable[Relation], sel: Selection, matches: Matches
) -> set[int]:
    """OIDs of the tables whose TABLE DATA the archive must hold (pg_dump's selection:
    tables included by -t, else by schema (-n, minus -N); minus -T; minus data
    exclusions and, with --no-unlogged-table-data, unlogged tables)."""
    out: set[int] = set()
    for r in dumpable_tables(rels):
        if matches.include_tables is not None:
            selected = r.oid in matches.include_tables
        else:
            selected = (
                matches.include_schemas is None
                or r.schema_oid in matches.include_schemas
            ) and r.schema_oid not in matches.exclude_schemas
        if not selected or r.oid in matches.exclude_tables:
            continue
        if r.oid in matches.exclude_data:
            continue
        if sel.no_unlogged_data and r.persistence == "u":
            continue
        out.add(r.oid)
    return out


_TOC_DATA_RE = re.compile(r"^\d+; \d+ (\d+) TABLE DATA ")


def toc_table_data(listing: str) -> set[int]:
    """Table OIDs of the TABLE DATA entries of a ``pg_restore -l`` listing."""
    out = set()
    for line in listing.splitlines():
        m = _TOC_DATA_RE.match(line)
        if m:
            out.add(int(m.group(1)))
    return out
