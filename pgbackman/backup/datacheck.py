"""The data check of a FULL, DATA or RDS dump: the archive holds the data it must.

Before pg_dump runs, :func:`plan` lists the database's tables on the node and which of them
the extra parameters leave in (``core/tablefilter``). After pg_dump, :func:`check` reads the
archive's table of contents (``pg_restore -l``: TABLE DATA entries, by table OID) and

* fails the run when a table that must be in it is not (unless the table was dropped while
  the dump ran) or when the database has tables but the archive holds no data at all: such
  an archive is not what the backup code promises, whatever pg_dump's exit status;
* returns the tables whose data is not in the archive (the exclusions the user asked for),
  recorded with the backup and shown by ``show_backup_details``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg2.extensions

from pgbackman.core import tablefilter as tf
from pgbackman.errors import DumpError
from pgbackman.pgnode import tables

log = logging.getLogger(__name__)
SHOWN = 10  # table names quoted in an error message


@dataclass
class DataPlan:
    """What the archive must hold: ``expected`` table OIDs; ``tables``: every table whose
    data a dump of the whole database would hold (oid -> schema.table)."""

    code: str
    expected: set[int] = field(default_factory=set)
    tables: dict[int, str] = field(default_factory=dict)


def plan(
    conn: psycopg2.extensions.connection, code: str, extra: Sequence[str]
) -> DataPlan:
    sel = tf.selection(extra)
    rels = tables.relations(conn)
    matches = tf.Matches(
        include_tables=tables.matching_tables(conn, sel.include_tables)
        if sel.include_tables
        else None,
        exclude_tables=tables.matching_tables(conn, sel.exclude_tables),
        exclude_data=tables.matching_tables(conn, sel.exclude_data),
        include_schemas=tables.matching_schemas(conn, sel.include_schemas)
        if sel.include_schemas
        else None,
        exclude_schemas=tables.matching_schemas(conn, sel.exclude_schemas),
    )
    dumpable = tf.dumpable_tables(rels)
    # --filter FILE selects in ways we do not read: only the "no data at all" check holds.
    expected = set() if sel.filter_file else tf.expected_data(rels, sel, matches)
    return DataPlan(code, expected, {r.oid: r.name for r in dumpable})


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" (+{len(names) - SHOWN} more)" if len(names) > SHOWN else "")


def check(
    conn: psycopg2.extensions.connection, data: DataPlan, listing: str
) -> list[str]:
    """Raise DumpError when the archive lacks data it must hold; return the tables whose
    data it does not hold (sorted)."""
    in_archive = tf.toc_table_data(listing)
    missing = data.expected - in_archive
    if missing:
        # A table dropped while the dump ran is legitimately absent.
        lost = sorted(tables.still_there(conn, missing).values())
        if lost:
            raise DumpError(
                f"The archive holds no data of {len(lost)} table(s) a {data.code} backup "
                f"must hold: {_names(lost)}"
            )
    if data.tables and not in_archive & data.tables.keys():
        raise DumpError(
            f"The archive holds no table data at all although the database has "
            f"{len(data.tables)} table(s): not a {data.code} backup (use backup code "
            "SCHEMA for the schema alone)"
        )
    excluded = sorted(
        name for oid, name in data.tables.items() if oid not in in_archive
    )
    if excluded:
        log.info(
            "Data check passed; %d table(s) without data in the archive (excluded by "
            "the extra parameters): %s",
            len(excluded),
            _names(excluded),
        )
    else:
        log.info("Data check passed: the archive holds the data of every table")
    return excluded
