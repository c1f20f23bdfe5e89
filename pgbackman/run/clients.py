"""Client programs of a dump run: which bin directory (pgsql_bin_<major> / Debian layout /
newest compatible), their version, and the per-run log file they write into. A dump run asks
every candidate for its version at once while it connects to its node (VersionProbes).

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
from contextlib import ExitStack
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


class VersionProbes:
    """``<program> --version`` of every directory a run could choose, started before the
    run knows which release it needs: they run while it connects to its node and asks for
    the node's release, instead of after it (a few ms each, paid by every run).
    :func:`find_bindir` reads the ones it looks at.

    A context manager: leaving the block (normally or by an exception) kills and reaps
    every probe still there, so none outlives the choice of pg_dump."""

    def __init__(self, server_config: Mapping[str, str], program: str) -> None:
        self.program = program
        self._probes: dict[str, proc.Probe] = {}
        configured = [
            v.strip() for k, v in server_config.items() if k.startswith("pgsql_bin_")
        ]
        dirs = [*configured, *(d for _rel, d in installed_bindirs())]
        try:
            for d in dict.fromkeys(x for x in dirs if x):
                path = os.path.join(d, program)
                if not os.access(path, os.X_OK):
                    continue  # find_bindir skips it too
                try:
                    self._probes[d] = proc.Probe([path, "--version"])
                except OSError:
                    continue  # find_bindir runs it again and reports the error
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> VersionProbes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def result(self, bindir: str) -> proc.Result:
        """``<program> --version`` of ``bindir``: the probe's, else run now."""
        probe = self._probes.get(bindir)
        if probe is None:
            return proc.run(
                [os.path.join(bindir, self.program), "--version"], timeout=30
            )
        return probe.result()

    def close(self) -> None:
        """Kill and reap every probe (each one, even when another fails to end)."""
        probes, self._probes = list(self._probes.values()), {}
        with ExitStack() as stack:
            for probe in probes:
                stack.callback(probe.discard)


def find_bindir(
    want: Release,
    server_config: Mapping[str, str],
    programs: Sequence[str],
    *,
    exact: bool,
    probes: VersionProbes | None = None,
) -> tuple[str, Release, str]:
    """First candidate directory holding every program in ``programs`` whose pg_dump
    reports a release >= ``want``; returns (bindir, release, full version). ``probes``:
    the versions already asked for (their program must be ``programs[0]``)."""
    tried = []
    for d in pgversion.bindir_candidates(
        want, server_config, installed_bindirs(), exact=exact
    ):
        tried.append(d)
        if not all(os.access(os.path.join(d, p), os.X_OK) for p in programs):
            continue
        if probes is not None and probes.program == programs[0]:
            res = probes.result(d)
        else:
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
