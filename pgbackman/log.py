"""Logging set-up shared by every program, and redaction of secrets in logged text.

One format for all programs (upstream's, with the program name and optional node/db):
``2026-11-24 10:00:00,000 [pgbackman_dump][node][db][1234][INFO]: message``.
The program, node and database names are data: they reach the line as a record attribute,
never as part of the ``%``-format string (a database called ``50%off`` would otherwise break
every line of the run), and control characters in them are escaped so that one record stays
one line. The log file is created 0640 whatever the umask, by every program including the
shell. The handler is a WatchedFileHandler, so logrotate without copytruncate works.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Sequence

from pgbackman.config import Config
from pgbackman.core.text import printable

_SECRET_RE = re.compile(r"(?i)(password|passwd|pwd)(\s*[=:]\s*)(\S+)")


def redact(text: str) -> str:
    """Hide ``password=...``-like values in text that goes to a log."""
    return _SECRET_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}********", text)


def redact_argv(argv: Sequence[str]) -> list[str]:
    """Redact secrets in an argv list (for logging the exact command run)."""
    return [redact(a) for a in argv]


LINE_FORMAT = "%(asctime)s %(pgb_context)s[%(process)d][%(levelname)s]: %(message)s"


class _RedactingFormatter(logging.Formatter):
    """The common line format; ``context`` ("[program][node][db]") is set as a record
    attribute at format time, so names are never interpreted as format directives."""

    def __init__(self, context: str = "") -> None:
        super().__init__(LINE_FORMAT)
        self.context = context

    def format(self, record: logging.LogRecord) -> str:
        record.pgb_context = self.context
        return redact(super().format(record))


def context_prefix(program: str, *values: str | None) -> str:
    """``[program][node][db]`` with the names escaped (see :func:`printable`)."""
    return "".join(f"[{printable(v)}]" for v in (program, *values) if v)


LOG_FILE_MODE = 0o640


class _PrivateLogFileHandler(logging.handlers.WatchedFileHandler):
    """A WatchedFileHandler whose file is created 0640 whatever the umask (programs started
    by a shell or systemd with umask 000 would otherwise make the log world-writable), also
    when it reopens the file after logrotate moved it away."""

    def _open(self) -> io.TextIOWrapper:
        try:
            fd = os.open(
                self.baseFilename,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                LOG_FILE_MODE,
            )
        except FileExistsError:
            pass
        else:
            os.fchmod(fd, LOG_FILE_MODE)
            os.close(fd)
        return super()._open()


def setup_logging(
    cfg: Config,
    program: str,
    *,
    node: str | None = None,
    dbname: str | None = None,
    to_stderr: bool = False,
    fallback_to_stderr: bool = True,
) -> logging.Handler | None:
    """Configure the root logger for ``program``; return the file handler (for daemons).

    When the log file cannot be opened the program still runs and logs to stderr: losing a
    backup because /var/log is not writable would be the wrong trade. The shell passes
    ``fallback_to_stderr=False``: its output is for the operator, never mixed with log lines.
    """
    context = context_prefix(program, node, dbname)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    level_name = cfg.logging.log_level.upper()
    level_name = "WARNING" if level_name == "WARN" else level_name
    root.setLevel(getattr(logging, level_name, logging.INFO))
    handler: logging.Handler | None = None
    try:
        handler = _PrivateLogFileHandler(
            cfg.logging.log_file, encoding="utf-8", errors="backslashreplace"
        )
    except OSError as exc:
        if not fallback_to_stderr:
            root.addHandler(logging.NullHandler())
            return None
        print(
            f"WARNING: cannot open log file {cfg.logging.log_file} ({exc.strerror}); "
            "logging to stderr",
            file=sys.stderr,
        )
        to_stderr = True
    if handler is not None:
        handler.setFormatter(_RedactingFormatter(context))
        root.addHandler(handler)
    if to_stderr:
        err = logging.StreamHandler(sys.stderr)
        err.setFormatter(_RedactingFormatter(context))
        root.addHandler(err)
    return handler
