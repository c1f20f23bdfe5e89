"""Client programs of a dump run: which bin directory (pgsql_bin_<major> / Debian layout /
newest compatible), their version, and the per-run log file they write into.

The run log gets a header per command (upstream §4.3: dashes, timestamp, the exact command
with secrets redacted, dashes) followed by the program's own stdout/stderr (pg_dump runs with
``--verbose``). Child output is appended through a separate O_APPEND descriptor, so lines of
our logger and of the child never overwrite each other.
"""

from __future__ import annotations

import datetime as _dt
import glob
import logging
import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from pgbackman.core import pgversion
from pgbackman.core.pgversion import Release
from pgbackman.errors import DumpError
from pgbackman.infra import proc
from pgbackman.log import redact_argv

log = logging.getLogger(__name__)
INSTALLED_GLOB = "/usr/lib/postgresql/*/bin"


def installed_bindirs() -> list[tuple[Release, str]]:
    out = []
    for d in glob.glob(INSTALLED_GLOB):
        name = Path(d).parent.name
        try:
            out.append((pgversion.parse_release(name), d))
        except ValueError:
            continue
    return out


def find_bindir(
    want: Release,
    server_config: Mapping[str, str],
    programs: Sequence[str],
    *,
    exact: bool,
) -> tuple[str, Release, str]:
    """First candidate directory holding every program in ``programs`` whose pg_dump
    reports a release >= ``want``; returns (bindir, release, full version)."""
    tried = []
    for d in pgversion.bindir_candidates(
        want, server_config, installed_bindirs(), exact=exact
    ):
        tried.append(d)
        if not all(os.access(os.path.join(d, p), os.X_OK) for p in programs):
            continue
        res = proc.run([os.path.join(d, programs[0]), "--version"], timeout=30)
        if not res.ok:
            log.warning("%s --version failed in %s: %s", programs[0], d, res.describe())
            continue
        try:
            rel, full = pgversion.parse_tool_version(res.stdout)
        except ValueError as exc:
            log.warning("%s", exc)
            continue
        if rel < want or (exact and rel != want):
            log.warning(
                "%s in %s is release %s, %s needed",
                programs[0],
                d,
                full,
                pgversion.release_dotted(want),
            )
            continue
        return d, rel, full
    raise DumpError(
        f"No {'/'.join(programs)} of PostgreSQL release {pgversion.release_dotted(want)}"
        f"{'' if exact else ' or newer'} found (tried: {', '.join(tried)})"
    )


class RunLog:
    """The per-run log file (0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        os.fchmod(fd, 0o600)
        self._fh: IO[str] = os.fdopen(fd, "a", encoding="utf-8", errors="replace")

    @property
    def fh(self) -> IO[str]:
        return self._fh

    def write(self, text: str) -> None:
        self._fh.write(text)
        self._fh.flush()

    def header(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
        """Write a command header; return the file offset where the command's output starts."""
        shown = " ".join(
            f"{k}={shlex.quote(v)}" for k, v in sorted((env or {}).items())
        )
        cmd = shlex.join(redact_argv(argv))
        now = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
        self.write(
            f"{'-' * 60}\nTimestamp: {now}\nCommand: {(shown + ' ') if shown else ''}{cmd}\n"
            f"{'-' * 60}\n\n"
        )
        return self._fh.tell()

    def tail_errors(self, offset: int, max_lines: int = 4, max_chars: int = 900) -> str:
        """The most useful lines a command wrote after ``offset`` (errors first)."""
        self._fh.flush()
        try:
            with open(self.path, encoding="utf-8", errors="replace") as fh:
                fh.seek(offset)
                lines = [ln.strip() for ln in fh.read().splitlines() if ln.strip()]
        except OSError:
            return ""
        errors = [
            ln
            for ln in lines
            if any(k in ln for k in ("error", "ERROR", "FATAL", "fatal"))
        ]
        chosen = (errors or lines)[-max_lines:]
        text = " | ".join(chosen)
        return text if len(text) <= max_chars else "..." + text[-max_chars:]

    def close(self) -> None:
        if not self._fh.closed:
            try:
                self._fh.close()
            except OSError as exc:
                # Disk full: the buffered tail is lost, but the run's result must still be
                # recorded (the error is in the program log and the catalog).
                log.warning("Cannot complete the run log %s: %s", self.path, exc)


class RunLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Copies our log lines into the run log. A run log that cannot be written (disk full)
    loses lines silently: the program log has them, and logging's default reaction (a
    traceback on stderr per line) would bury the one error that matters."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def pgpass_warning() -> str | None:
    """A warning when the password file libpq will use is readable by group/others (libpq
    then ignores it, so connections fail in a confusing way)."""
    path = os.environ.get("PGPASSFILE") or os.path.join(
        os.path.expanduser("~"), ".pgpass"
    )
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077:
        return f"Password file {path} has mode {mode:o}: libpq ignores it unless it is 0600"
    return None
