"""The facts step of a dump: what a restore drill will compare the restored database with
(rules and format: :mod:`pgbackman.core.facts`).

Before pg_dump starts, :meth:`FactsRecorder.start` opens a connection of its own to the
database, begins a read-only REPEATABLE READ transaction and exports its snapshot; pg_dump
runs with ``--snapshot=<it>``. While it runs, :meth:`FactsRecorder.collect` reads the size
estimates of every table and counts the rows of the small ones in that same snapshot (never
waiting for a lock: a table another session holds locked is left to the estimates, see
:mod:`pgbackman.pgnode.facts`; the run's timeout shuts this connection down too), so the
counts describe exactly what pg_dump dumps, and counting 500 small tables costs no wall time
before pg_dump starts. The transaction
stays open until the dump is over (pg_dump -j workers import the snapshot later).
:meth:`FactsRecorder.write` puts the facts into the archive directory, before the manifest
is written, so they are checksummed with the backup.

The step never fails a dump: when the node cannot give the facts (or the extra parameters
choose the snapshot themselves: ``--snapshot``, ``--serializable-deferrable``), the dump goes
on with estimates only, or with no facts (a drill then checks the archive alone).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pgbackman.archive.crypt import Sealer
from pgbackman.core import facts as core
from pgbackman.core import naming
from pgbackman.errors import NodeUnavailableError
from pgbackman.infra.fsutil import atomic_write
from pgbackman.pgnode import connection as pgnode
from pgbackman.pgnode import facts as nodefacts
from pgbackman.pgnode.connection import NodeTarget

log = logging.getLogger(__name__)
APPLICATION_NAME = "pgbackman_dump_facts"
# Extra pg_dump parameters that choose the dump's snapshot themselves.
OWN_SNAPSHOT = ("--snapshot", "--serializable-deferrable")


class FactsRecorder:
    """One dump's facts; use :meth:`start`, :meth:`write` and always :meth:`close`."""

    def __init__(
        self,
        target: NodeTarget,
        dbname: str,
        backup_code: str,
        extra: Sequence[str],
        checkpoint: Callable[[], None] = lambda: None,
    ) -> None:
        self.target = target
        self.dbname = dbname
        self.code = backup_code.upper()
        self.extra = list(extra)
        self.checkpoint = checkpoint
        self.facts: core.Facts | None = None
        self._conn: Any = None
        self._busy = False
        self._snapshot: str | None = None  # exported by start(), dumped by pg_dump
        self._own = False  # the extra parameters choose the snapshot themselves
        self._taken = ""

    def start(self) -> list[str]:
        """Open the facts' connection and export its snapshot; returns the options to add
        to pg_dump's command line. The facts themselves are read by :meth:`collect`, while
        pg_dump runs: in the same snapshot, so they describe exactly what it dumps."""
        self._taken = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        self._own = any(
            w == o or w.startswith(o + "=") for w in self.extra for o in OWN_SNAPSHOT
        )
        counting = self.code != "SCHEMA" and not self._own
        self._busy = True
        try:
            self._conn = pgnode.connect(self.target, self.dbname, APPLICATION_NAME)
            self._snapshot = nodefacts.export_snapshot(self._conn) if counting else None
        except NodeUnavailableError as exc:
            self._unavailable(exc)
            return []
        finally:
            self._busy = False
        return [f"--snapshot={self._snapshot}"] if self._snapshot else []

    def _unavailable(self, exc: Exception) -> None:
        self.close()
        # The run's timeout (or a stop signal) shut this connection down: that ends the
        # run, it is not a node that could not give facts.
        self.checkpoint()
        log.warning("Facts for restore drills not recorded (%s): the dump goes on", exc)

    def collect(self) -> None:
        """Read the tables, their sizes and the exact counts of the small ones (see the
        module docstring); no facts when the node cannot give them."""
        if self._conn is None:
            return  # start() could not connect: already said
        snapshot = self._snapshot
        self._busy = True
        try:
            rows = nodefacts.tables(self._conn)
            tables, locked = (
                self._counted(rows) if snapshot else (self._facts(rows), [])
            )
        except NodeUnavailableError as exc:
            # The connection is gone, and its snapshot with it: pg_dump imported it when it
            # started (its -j workers, a moment later), so only a node in trouble enough to
            # break pg_dump too can end a dump here.
            self._unavailable(exc)
            return
        finally:
            self._busy = False
        notes = []
        if self._own:
            notes.append(
                "the extra backup parameters choose the dump's snapshot: no exact counts"
            )
        if locked:
            notes.append(
                f"{len(locked)} table(s) locked by another session: not counted "
                f"({', '.join(locked[:10])})"
            )
            log.warning("Facts for restore drills: %s", notes[-1])
        self.facts = core.Facts(
            database=self.dbname,
            backup_code=self.code,
            taken=self._taken,
            in_dump_snapshot=snapshot is not None,
            tables=tables,
            notes=notes,
        )
        log.info(
            "Facts for restore drills: %d tables, %d counted exactly%s",
            len(tables),
            sum(t.rows is not None for t in tables),
            " in the dump's snapshot" if snapshot else "",
        )

    @staticmethod
    def _facts(rows: list[dict[str, Any]]) -> list[core.TableFact]:
        return [
            core.TableFact(
                schema=str(t["schema"]),
                name=str(t["name"]),
                qualified=str(t["qualified"]),
                reltuples=float(t["reltuples"]),
                relpages=int(t["relpages"]),
                bytes=int(t["bytes"]),
            )
            for t in rows
        ]

    def _counted(
        self, rows: list[dict[str, Any]]
    ) -> tuple[list[core.TableFact], list[str]]:
        """The facts with exact sizes of the tables that look small and exact counts of the
        smallest; tables another session holds locked are left to the estimates."""
        tables = self._facts(rows)
        oids = {(str(t["schema"]), str(t["name"])): int(t["oid"]) for t in rows}
        locked: list[str] = []
        for i, t in enumerate(tables):
            if t.bytes > core.EXACT_COUNT_MAX_BYTES:
                continue  # large by its estimate already: no exact size needed
            self.checkpoint()
            size = nodefacts.unless_locked(
                self._conn, nodefacts.SIZE_QUERY, (oids[t.key],)
            )
            if size is None:
                locked.append(t.qualified)
                tables[i] = dataclasses.replace(t, bytes=core.EXACT_COUNT_MAX_BYTES + 1)
            else:
                tables[i] = dataclasses.replace(t, bytes=int(size))
        counts: dict[core.Key, int] = {}
        for key in core.tables_to_count(tables):
            self.checkpoint()
            n = nodefacts.unless_locked(self._conn, nodefacts.count_query(*key))
            if n is not None:
                counts[key] = int(n)
        return [dataclasses.replace(t, rows=counts.get(t.key)) for t in tables], locked

    def socket(self) -> int | None:
        """The node connection's socket while the step waits on it (for the run's timeout)."""
        if not self._busy or self._conn is None or self._conn.closed:
            return None
        try:
            return int(self._conn.fileno())
        except Exception:  # noqa: BLE001 - a broken connection has no socket to shut
            return None

    def write(self, archive_dir: Path, sealer: Sealer | None = None) -> None:
        """Write the facts into the archive directory (no-op when there are none); with
        ``sealer`` (an encrypted definition) encrypted from memory, ``.age`` added, like
        every other file of the archive (read back with the run's other sealed files)."""
        if self.facts is None or not archive_dir.is_dir():
            return
        data = self.facts.to_json()
        if sealer is not None:
            name = core.FACTS_FILE + naming.ENCRYPTED_SUFFIX
            sealer.seal_bytes(data.encode("utf-8"), archive_dir / name)
        else:
            atomic_write(archive_dir / core.FACTS_FILE, data, 0o600)

    def close(self) -> None:
        """End the snapshot's transaction (after pg_dump ended) and the connection."""
        pgnode.close_quietly(self._conn)
        self._conn = None
