"""Exit-code mapping, SQLSTATE mapping and secret redaction."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg2
import pytest

from pgbackman.catalog.errors import map_db_error
from pgbackman.errors import (
    CatalogError,
    CatalogUnavailableError,
    ConfigError,
    UsageError,
    UserInputError,
    exit_code_for,
)
from pgbackman.log import redact, redact_argv


def test_exit_codes() -> None:
    assert exit_code_for(None) == 0
    assert exit_code_for(ConfigError("x")) == 1
    assert exit_code_for(UsageError("x")) == 2
    assert exit_code_for(RuntimeError("x")) == 1
    assert exit_code_for(SystemExit(2)) == 2


def make_error(cls: type[psycopg2.Error], pgcode: str, primary: str) -> psycopg2.Error:
    """A psycopg2 error carrying ``pgcode`` as the server would set it."""

    class Emulated(cls):  # type: ignore[valid-type,misc]
        pass

    Emulated.pgcode = pgcode  # type: ignore[attr-defined]
    return Emulated(primary)


@pytest.mark.parametrize(
    ("pgcode", "family"),
    [
        ("23505", CatalogError),
        ("23503", CatalogError),
        ("23514", UserInputError),
        ("22P02", UserInputError),
        ("P0001", CatalogError),
    ],
)
def test_sqlstate_mapping(pgcode: str, family: type) -> None:
    err = map_db_error(make_error(psycopg2.DatabaseError, pgcode, "boom happened"))
    assert isinstance(err, family)
    assert "boom happened" in str(err)


def test_operational_error_means_unavailable() -> None:
    err = map_db_error(psycopg2.OperationalError("server closed the connection"))
    assert isinstance(err, CatalogUnavailableError)


def test_redaction() -> None:
    assert redact("host=x password=s3cret user=u") == "host=x password=******** user=u"
    assert "s3cret" not in " ".join(redact_argv(["psql", "PASSWORD: s3cret"]))


def test_names_are_data_in_log_lines(tmp_path: Path) -> None:
    """A node or database name with % or a newline neither breaks nor splits a log line."""
    from pgbackman.config import Config
    from pgbackman.log import printable, setup_logging

    log_file = tmp_path / "x.log"
    conf = tmp_path / "c.conf"
    conf.write_text(f"[logging]\nlog_file = {log_file}\n")
    cfg = Config.load(str(conf))
    handler = setup_logging(cfg, "pgbackman_dump", node="n%(x)s", dbname="50%off\nx")
    try:
        logging.getLogger("t").info("value %s", "a%b")
    finally:
        assert handler is not None
        handler.close()
        logging.getLogger().removeHandler(handler)
    [line] = log_file.read_text().splitlines()
    assert "[pgbackman_dump][n%(x)s][50%off\\nx][" in line and line.endswith(
        ": value a%b"
    )
    assert printable("a\tb\x1b") == "a\\tb\\x1b" and printable("plain") == "plain"
