"""SQL spoken to PgSQL nodes (the clusters being backed up), not to the catalog.

Connection targets are passed as libpq keyword arguments, never as a DSN string, so that host
names and database names are data. Passwords come from ``~/.pgpass`` / ``PGPASSFILE``.
The maintenance database defaults to ``postgres`` and falls back to ``template1``
(upstream assumed a database named like the admin user exists).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions

from pgbackman.errors import NodeUnavailableError

SYSTEM_DATABASES = ("template0", "template1", "postgres")


@dataclass(frozen=True)
class NodeTarget:
    """Where a PgSQL node is and who to connect as."""

    fqdn: str
    port: int
    admin_user: str
    node_id: int | None = None

    def conn_kwargs(
        self, dbname: str, application_name: str = "pgbackman"
    ) -> dict[str, Any]:
        return {
            "host": self.fqdn,
            "port": int(self.port),
            "user": self.admin_user,
            "dbname": dbname,
            "application_name": application_name,
            "connect_timeout": 10,
        }

    def libpq_env(self) -> dict[str, str]:
        """PG* variables for client programs (pg_dump, psql...): no password, no prompt."""
        return {
            "PGHOST": self.fqdn,
            "PGPORT": str(int(self.port)),
            "PGUSER": self.admin_user,
        }

    def __str__(self) -> str:
        return f"{self.fqdn}:{self.port}"


def connect(
    node: NodeTarget, dbname: str | None = None, application_name: str = "pgbackman"
) -> psycopg2.extensions.connection:
    """Autocommit connection to ``dbname`` (default: postgres, then template1)."""
    candidates = [dbname] if dbname else ["postgres", "template1"]
    last: Exception | None = None
    for db in candidates:
        try:
            conn: psycopg2.extensions.connection = psycopg2.connect(
                **node.conn_kwargs(db or "postgres", application_name)
            )
            conn.autocommit = True
            return conn
        except psycopg2.Error as exc:
            last = exc
    reason = (
        str(last).strip().splitlines()[0]
        if last and str(last).strip()
        else "unknown error"
    )
    raise NodeUnavailableError(f"PgSQL node {node} is not available: {reason}")


@contextmanager
def session(
    node: NodeTarget, dbname: str | None = None, application_name: str = "pgbackman"
) -> Iterator[psycopg2.extensions.connection]:
    conn = connect(node, dbname, application_name)
    try:
        yield conn
    finally:
        conn.close()


def _rows(
    conn: psycopg2.extensions.connection, q: str, params: Any = None
) -> list[tuple[Any, ...]]:
    try:
        with conn.cursor() as cur:
            cur.execute(q, params)
            return list(cur.fetchall())
    except psycopg2.Error as exc:
        msg = (
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        )
        raise NodeUnavailableError(f"Query on PgSQL node failed: {msg}") from None


def list_databases(
    conn: psycopg2.extensions.connection, include_system: bool = False
) -> list[str]:
    """Names of the databases that accept connections, sorted."""
    rows = _rows(
        conn,
        "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
        "OR datname = 'template1' ORDER BY datname",
    )
    names = [r[0] for r in rows]
    if include_system:
        return names
    return [n for n in names if n not in SYSTEM_DATABASES]


def database_exists(conn: psycopg2.extensions.connection, dbname: str) -> bool:
    return bool(_rows(conn, "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)))


def role_exists(conn: psycopg2.extensions.connection, role: str) -> bool:
    return bool(_rows(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)))


def server_version_num(conn: psycopg2.extensions.connection) -> int:
    return int(_rows(conn, "SELECT current_setting('server_version_num')::int")[0][0])


def major_version(version_num: int) -> int:
    """12xxxx -> 12 (PostgreSQL >= 10 numbering)."""
    return version_num // 10000


def is_in_recovery(conn: psycopg2.extensions.connection) -> bool:
    return bool(_rows(conn, "SELECT pg_is_in_recovery()")[0][0])


def close_quietly(conn: Any) -> None:
    """Close a node connection at the end of a run, broken or not: closing must never mask
    the run's own result."""
    if conn is None:
        return
    try:
        conn.close()
    except Exception:  # noqa: BLE001, S110 - see the docstring
        pass
