"""Connection to the catalog database: the only door through which SQL leaves PgBackMan.

Connection parameters are passed to libpq as keyword arguments (never a hand-built DSN
string), with ``application_name``, ``connect_timeout`` and a ``statement_timeout`` so that a
hung catalog fails a call instead of hanging a program. Every psycopg2 error is mapped to the
project's error families by :mod:`pgbackman.catalog.errors`.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbackman.catalog.deadline import Watchdog, client_deadline
from pgbackman.catalog.errors import map_db_error
from pgbackman.config import DatabaseConfig
from pgbackman.errors import CatalogUnavailableError

log = logging.getLogger(__name__)

Query = str | sql.Composable
Row = dict[str, Any]


def connect_kwargs(cfg: DatabaseConfig, application_name: str) -> dict[str, Any]:
    """libpq keyword arguments for the catalog; empty values are left to libpq defaults."""
    kwargs: dict[str, Any] = {
        "dbname": cfg.dbname,
        "user": cfg.user,
        "port": cfg.port,
        "application_name": application_name,
        "connect_timeout": cfg.connect_timeout,
    }
    if cfg.host:
        kwargs["host"] = cfg.host
    if cfg.hostaddr:
        kwargs["hostaddr"] = cfg.hostaddr
    if cfg.password:
        kwargs["password"] = cfg.password
    if cfg.sslmode:
        kwargs["sslmode"] = cfg.sslmode
    if cfg.statement_timeout:
        kwargs["options"] = f"-c statement_timeout={int(cfg.statement_timeout) * 1000}"
    return kwargs


class Catalog:
    """A lazily opened, autocommit connection to the catalog database."""

    def __init__(
        self, cfg: DatabaseConfig, application_name: str = "pgbackman"
    ) -> None:
        self.cfg = cfg
        self.application_name = application_name
        self._conn: psycopg2.extensions.connection | None = None
        self._watchdog: Watchdog | None = None

    # -- connection management -------------------------------------------------------
    @property
    def conn(self) -> psycopg2.extensions.connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._open()
        return self._conn

    def _open(self) -> psycopg2.extensions.connection:
        try:
            conn: psycopg2.extensions.connection = psycopg2.connect(
                **connect_kwargs(self.cfg, self.application_name)
            )
        except psycopg2.Error as exc:
            where = self.cfg.host or self.cfg.hostaddr or "local socket"
            reason = (
                str(exc).strip().splitlines()[0]
                if str(exc).strip()
                else type(exc).__name__
            )
            raise CatalogUnavailableError(
                f"Cannot connect to the catalog database {self.cfg.dbname} on {where}:"
                f"{self.cfg.port}: {reason}"
            ) from None
        conn.autocommit = True
        # A hung (not down) catalog must fail a call, not hang it, and a stop request must
        # end a call that waits for one: see catalog/deadline.py.
        self._drop_watchdog()
        seconds = client_deadline(self.cfg.statement_timeout, self.cfg.connect_timeout)
        self._watchdog = Watchdog(conn.fileno(), seconds)
        return conn

    def _drop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.close()
            self._watchdog = None

    def _overran(self) -> CatalogUnavailableError | None:
        """After a failed call: the error to raise if the watchdog cut it off."""
        wd = self._watchdog
        if wd is None or not wd.fired:
            return None
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        self._conn = None
        self._drop_watchdog()
        if wd.aborted:
            return CatalogUnavailableError("Catalog call interrupted by a stop request")
        return CatalogUnavailableError(
            f"Catalog connection problem: no answer from the catalog database {self.cfg.dbname}"
            f" within {wd.seconds:.0f}s (catalog hung?)"
        )

    def interrupt(self) -> None:
        """End the call in flight, and later calls on this connection, at once.

        Safe from any thread: for :meth:`pgbackman.infra.daemon.SignalFlags.on_stop`.
        """
        wd = self._watchdog
        if wd is not None:
            wd.abort()

    def connect(self) -> Catalog:
        """Open the connection now (raises CatalogUnavailableError)."""
        _ = self.conn
        return self

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        self._conn = None
        self._drop_watchdog()

    @property
    def is_open(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries ---------------------------------------------------------------------
    def _run(self, query: Query, params: Sequence[Any] | dict[str, Any] | None) -> Any:
        try:
            # A plain cursor: rows become dicts in query() with dict(zip(...)), several times
            # faster than RealDictCursor on a 10 000-row listing.
            cur = self.conn.cursor()
            wd = self._watchdog
            if wd is not None:
                wd.arm()
            try:
                cur.execute(query, params)
            finally:
                if wd is not None:
                    wd.disarm()
            return cur
        except psycopg2.Error as exc:
            overran = self._overran()
            if overran is not None:
                raise overran from None
            if self._conn is not None and self._conn.closed:
                self._conn = None
            raise map_db_error(exc) from None

    def execute(
        self, query: Query, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> int:
        """Run a statement; return the affected row count."""
        cur = self._run(query, params)
        count: int = cur.rowcount
        cur.close()
        return count

    def query(
        self, query: Query, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> list[Row]:
        """Run a query and return every row as a dict (column name -> value)."""
        cur = self._run(query, params)
        try:
            rows = cur.fetchall()
            names = [d.name for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in rows]
        except psycopg2.Error as exc:
            raise map_db_error(exc) from None
        finally:
            cur.close()

    def query_one(
        self, query: Query, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> Row | None:
        rows = self.query(query, params)
        return rows[0] if rows else None

    def scalar(
        self, query: Query, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> Any:
        row = self.query_one(query, params)
        if row is None:
            return None
        return next(iter(row.values()))

    def call(self, function: str, *args: Any) -> Any:
        """``SELECT function(args...)`` with bound arguments; returns the single value."""
        q = sql.SQL("SELECT {}({}) AS result").format(
            sql.Identifier(function), sql.SQL(", ").join(sql.Placeholder() * len(args))
        )
        return self.scalar(q, args)

    def call_rows(self, function: str, *args: Any) -> list[Row]:
        """``SELECT * FROM function(args...)`` for set-returning functions."""
        q = sql.SQL("SELECT * FROM {}({})").format(
            sql.Identifier(function), sql.SQL(", ").join(sql.Placeholder() * len(args))
        )
        return self.query(q, args)

    @contextmanager
    def transaction(self) -> Iterator[Catalog]:
        """Run several statements atomically."""
        conn = self.conn
        conn.autocommit = False
        try:
            yield self
            wd = self._watchdog
            if wd is not None:
                wd.arm()
            try:
                conn.commit()
            except psycopg2.Error as exc:
                raise (self._overran() or map_db_error(exc)) from None
            finally:
                if wd is not None:
                    wd.disarm()
        except BaseException:
            if not conn.closed:
                conn.rollback()
            raise
        finally:
            if not conn.closed:
                conn.autocommit = True

    # -- LISTEN / NOTIFY -------------------------------------------------------------
    def listen(self, channels: Sequence[str]) -> None:
        for ch in channels:
            self.execute(sql.SQL("LISTEN {}").format(sql.Identifier(ch)))

    def unlisten(self, channels: Sequence[str]) -> None:
        for ch in channels:
            self.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(ch)))

    def wait_notifications(self, timeout: float) -> list[tuple[str, str]]:
        """Wait up to ``timeout`` s; return the (channel, payload) pairs received."""
        conn = self.conn
        try:
            if not conn.notifies:
                ready, _, _ = select.select([conn], [], [], timeout)
                if ready:
                    conn.poll()
            else:
                conn.poll()
        except (psycopg2.Error, OSError) as exc:
            self._conn = None
            raise CatalogUnavailableError(
                f"Lost the catalog connection: {exc}"
            ) from None
        out = [(n.channel, n.payload) for n in conn.notifies]
        conn.notifies.clear()
        return out
