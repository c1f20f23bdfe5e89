"""The one error hierarchy of PgBackMan and the one place that maps it to exit codes.

Every error class of the package is defined here (grouped by family below), so that a caller
can see in one file what may be raised and how it ends the program. Every program catches
``PgBackManError`` at its top level and calls :func:`exit_code_for`, so that "0 success,
1 failure, 2 bad usage" (INTERFACES.md) holds everywhere.

Families (``PgBackManError`` is the root, exit status 1 unless said otherwise)::

    ConfigError
    CatalogUnavailableError                 connect failure / timeout: the caller may spool
    CatalogError                            the catalog refused (``.sqlstate``)
    PendingRecordError                      a spooled result can never be ingested
    ServerNotRegisteredError                this host is not a registered backup server
    NodeUnavailableError                    a PgSQL node cannot be reached
    LockBusyError
    PidFileError                            pidfile unusable, or another instance runs
    DumpError, RestoreError
    CryptError                              age encryption or decryption of a backup file
    OffsiteError                            object storage refused, failed or mismatched
    ReadBackError                           a file of a backup does not read back whole
    UnsafePathError                         a deletion outside the backup root
    CacheError                              local cache missing or unreadable
    CronFileError                           a cron.d file cannot be installed or removed
    AtJobError                              ``at`` refused a job
    UserInputError                          shown as one line, never with a traceback
        CronRenderError                     a value cannot go into a cron.d file safely
        ScheduleError                       a catalog schedule croniter cannot read
    UsageError                              bad command line: exit status 2
    Aborted                                 the shell user interrupted a command

``ExtraParameterError`` is a ``ValueError`` raised by the pure argv rules (core/argv.py);
callers turn it into a ``UserInputError`` or a refused job.
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


class CryptError(PgBackManError):
    """A backup file could not be encrypted or decrypted (no recipients, no or a wrong
    identity, a file that fails age's authentication)."""


class OffsiteError(PgBackManError):
    """An offsite copy could not be uploaded, fetched, verified or deleted (object storage
    unreachable or refusing, a checksum mismatch, a missing object)."""


class ReadBackError(PgBackManError):
    """A file of a backup does not read back whole: truncated, corrupt, missing, or changed
    after it was checked (archive/streamcheck.py, archive/readback.py)."""


class DeliveryError(PgBackManError):
    """An alert could not be delivered (mail or URL); it stays unsent and is retried."""


class UserInputError(PgBackManError):
    """A value given by the user is invalid. Shown as one line, never with a traceback."""


class ConfigRefusedError(UserInputError):
    """A catalog value a backup server's own configuration file does not allow (a path
    outside its limits, root as backup user...): refused, logged and alerted, never used."""

    def __init__(self, parameter: str, value: str, reason: str) -> None:
        super().__init__(f"{parameter} value {value!r} refused: {reason}")
        self.parameter = parameter
        self.value = value
        self.reason = reason


class UsageError(PgBackManError):
    """A program was started with bad command-line arguments (one line, exit status 2)."""

    exit_code = EXIT_USAGE


class PendingRecordError(PgBackManError):
    """A pending result file is malformed: it can never be ingested."""


class ServerNotRegisteredError(PgBackManError):
    """This host is not registered as a backup server in the catalog."""


class NodeUnavailableError(PgBackManError):
    """A PgSQL node cannot be reached."""


class PidFileError(PgBackManError):
    """The pidfile cannot be created or another instance holds it."""


class UnsafePathError(PgBackManError):
    """A path to delete lies outside the backup root (or escapes it through a symlink)."""


class CacheError(PgBackManError):
    """The local cache is missing or unreadable."""


class CronFileError(PgBackManError):
    """A crontab file cannot be installed or removed."""


class AtJobError(PgBackManError):
    """``at`` refused or failed to queue a job."""


class ScheduleError(UserInputError):
    """A schedule croniter cannot read (a catalog row that bypassed validation)."""


class CronRenderError(UserInputError):
    """A value cannot be written safely into a cron.d file."""


class Aborted(PgBackManError):
    """The user interrupted a shell command (Ctrl-C/EOF at a prompt, or answered no)."""

    def __init__(self, message: str = "Command interrupted by the user.") -> None:
        super().__init__(message)


class ExtraParameterError(ValueError):
    """extra_backup_parameters holds something we refuse to pass on (pure rule, core/argv)."""


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
