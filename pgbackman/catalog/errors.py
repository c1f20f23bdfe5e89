"""Map psycopg2 errors (by SQLSTATE class) to PgBackMan's error families.

The message kept is PostgreSQL's primary message, which for our PL/pgSQL functions is a
complete one-line sentence; constraint violations get a sentence naming the constraint.
"""

from __future__ import annotations

import psycopg2

from pgbackman.errors import (
    CatalogError,
    CatalogUnavailableError,
    PgBackManError,
    UserInputError,
)

# SQLSTATE classes / codes whose cause is a value the user typed.
_USER_INPUT_CODES = {
    "22P02",  # invalid_text_representation (e.g. 'abc' for an integer)
    "22007",  # invalid_datetime_format (timestamps, intervals)
    "22008",  # datetime_field_overflow
    "22003",  # numeric_value_out_of_range
    "22023",  # invalid_parameter_value
    "22001",  # string_data_right_truncation
}
_CONNECTION_CLASSES = ("08", "57", "53")  # connection, operator intervention, resources


def _primary(exc: psycopg2.Error) -> str:
    diag = getattr(exc, "diag", None)
    msg = getattr(diag, "message_primary", None) if diag is not None else None
    if not msg:
        text = str(exc).strip()
        msg = text.splitlines()[0] if text else type(exc).__name__
    return str(msg)


def map_db_error(exc: psycopg2.Error) -> PgBackManError:
    """Return the PgBackManError that describes ``exc``."""
    code = exc.pgcode or ""
    msg = _primary(exc)
    if isinstance(exc, psycopg2.OperationalError) and (
        not code or code[:2] in _CONNECTION_CLASSES
    ):
        if code == "57014":  # query_canceled: statement_timeout
            return CatalogUnavailableError(f"Catalog query timed out: {msg}")
        return CatalogUnavailableError(f"Catalog connection problem: {msg}")
    if isinstance(exc, psycopg2.InterfaceError):
        return CatalogUnavailableError(f"Catalog connection problem: {msg}")
    if code == "23505":
        detail = getattr(getattr(exc, "diag", None), "message_detail", None)
        extra = f" ({detail})" if detail else ""
        return CatalogError(f"Already registered: {msg}{extra}", sqlstate=code)
    if code == "23503":
        detail = getattr(getattr(exc, "diag", None), "message_detail", None)
        extra = f" ({detail})" if detail else ""
        return CatalogError(f"Still referenced: {msg}{extra}", sqlstate=code)
    if code == "23514":
        return UserInputError(f"Invalid value: {msg}")
    if code in _USER_INPUT_CODES:
        return UserInputError(msg)
    return CatalogError(msg, sqlstate=code or None)
