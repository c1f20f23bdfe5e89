"""SQL that pgbackman_restore runs on the TARGET PgSQL node (not on the catalog): existence
checks, sessions, and CREATE / ALTER ... RENAME / DROP of databases and roles.

Every name is data: composed with :class:`psycopg2.sql.Identifier`, or bound as a parameter.
Failures become :class:`RestoreError` carrying the server's one-line message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pgbackman.pgnode.connection import SYSTEM_DATABASES
from pgbackman.errors import PgBackManError, RestoreError

Conn = psycopg2.extensions.connection


log = logging.getLogger(__name__)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _execute(
    conn: Conn, q: sql.Composable | str, params: Any = None, what: str = ""
) -> list[Any]:
    try:
        with conn.cursor() as cur:
            cur.execute(q, params)
            return list(cur.fetchall()) if cur.description is not None else []
    except psycopg2.Error as exc:
        prefix = f"{what}: " if what else ""
        raise RestoreError(f"{prefix}{_first_line(exc)}") from None


def database_exists(conn: Conn, dbname: str) -> bool:
    return bool(
        _execute(
            conn, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", (dbname,)
        )
    )


def user_databases(conn: Conn) -> list[str]:
    """Databases other than postgres/template0/template1, sorted."""
    rows = _execute(
        conn,
        "SELECT datname FROM pg_catalog.pg_database WHERE NOT (datname = ANY(%s)) ORDER BY 1",
        (list(SYSTEM_DATABASES),),
    )
    return [r[0] for r in rows]


def role_names(conn: Conn) -> set[str]:
    return {r[0] for r in _execute(conn, "SELECT rolname FROM pg_catalog.pg_roles")}


def other_sessions(conn: Conn, dbname: str) -> int:
    """Sessions connected to ``dbname`` (other than ours)."""
    rows = _execute(
        conn,
        "SELECT count(*) FROM pg_catalog.pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_catalog.pg_backend_pid()",
        (dbname,),
    )
    return int(rows[0][0])


def server_version_num(conn: Conn) -> int:
    return int(
        _execute(conn, "SELECT current_setting('server_version_num')::int")[0][0]
    )


def create_database(conn: Conn, dbname: str) -> None:
    """An empty database from template0 (RDS backups carry no database configuration)."""
    _execute(
        conn,
        sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(dbname)),
        what=f"Cannot create database {dbname!r}",
    )


def rename_database(conn: Conn, old: str, new: str) -> None:
    """ALTER DATABASE old RENAME TO new; connected sessions are never killed."""
    _execute(
        conn,
        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
            sql.Identifier(old), sql.Identifier(new)
        ),
        what=f"Cannot rename database {old!r} to {new!r}",
    )


def drop_database(conn: Conn, dbname: str, *, force: bool = False) -> None:
    """DROP DATABASE IF EXISTS; ``force`` (PostgreSQL >= 13) ends sessions on it first —
    used only for the restore's own temporary database."""
    q = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(dbname))
    if force:
        q = q + sql.SQL(" WITH (FORCE)")
    _execute(conn, q, what=f"Cannot drop database {dbname!r}")


def drop_role(conn: Conn, role: str) -> None:
    _execute(
        conn,
        sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)),
        what=f"Cannot drop role {role!r}",
    )


def drop_roles(conn: Conn, roles: Iterable[str]) -> list[str]:
    """Drop roles a failed run created; return a note for each one that remains."""
    notes: list[str] = []
    for role in roles:
        try:
            drop_role(conn, role)
            log.info("Role %r created by this run dropped", role)
        except PgBackManError as exc:
            log.error("%s", exc)
            notes.append(f"Role {role!r} created by this run remains.")
    return notes


def roles_with_comment(conn: Conn, comment: str) -> list[str]:
    """Roles whose comment is exactly ``comment`` (how a drill marks the roles it creates)."""
    rows = _execute(
        conn,
        "SELECT r.rolname FROM pg_catalog.pg_roles r"
        " JOIN pg_catalog.pg_shdescription d ON d.objoid = r.oid"
        " AND d.classoid = 'pg_catalog.pg_authid'::pg_catalog.regclass"
        " WHERE d.description = %s ORDER BY 1",
        (comment,),
    )
    return [r[0] for r in rows]


def try_advisory_lock(conn: Conn, key: int) -> bool:
    """A session-level advisory lock (held until the connection closes)."""
    rows = _execute(conn, "SELECT pg_catalog.pg_try_advisory_lock(%s)", (int(key),))
    return bool(rows[0][0])
