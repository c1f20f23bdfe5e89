"""The one error hierarchy of PgBackMan and the one place that maps it to exit codes.

Every program catches ``PgBackManError`` at its top level and calls :func:`exit_code_for`,
so that "0 success, 1 failure, 2 bad usage" (INTERFACES.md) holds everywhere.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class PgBackManError(Exception):
    """Root of every error PgBackMan raises on purpose."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str = "", *, log_path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.log_path = log_path

    def __str__(self) -> str:
        return self.message


class ConfigError(PgBackManError):
    """The configuration file is missing, unreadable or holds a bad value."""


class CatalogUnavailableError(PgBackManError):
    """The catalog database cannot be reached (connect failure, timeout, lost connection).

    Callers that produce results (dump, restore) spool them instead of failing.
    """


class CatalogError(PgBackManError):
    """The catalog refused an operation; ``sqlstate`` says why."""

    def __init__(self, message: str = "", *, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class LockBusyError(PgBackManError):
    """Another process holds the lock of the same job."""


class DumpError(PgBackManError):
    """A backup step failed (pg_dump exit status, read-back check, file system)."""


class RestoreError(PgBackManError):
    """A restore step failed."""


class UserInputError(PgBackManError):
    """A value given by the user is invalid. Shown as one line, never with a traceback."""


class UsageError(PgBackManError):
    """A program was started with bad command-line arguments."""

    exit_code = EXIT_USAGE


def exit_code_for(exc: BaseException | None) -> int:
    """Return the process exit status for ``exc`` (``None`` means success)."""
    if exc is None:
        return EXIT_OK
    if isinstance(exc, PgBackManError):
        return exc.exit_code
    if isinstance(exc, SystemExit):
        code = exc.code
        return code if isinstance(code, int) else EXIT_FAILURE
    return EXIT_FAILURE
