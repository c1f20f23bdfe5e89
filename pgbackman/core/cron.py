"""Rendering of the cron.d file of one PgSQL node (pure logic; fields: core/cronfields.py).

The file is rendered from catalog rows; every job line is

    m h dom mon dow <os_user> <pgbackman_dump> --config <config file> --def-id <N>

Only ids and paths travel through cron: the job reads everything else (database name, backup
code, extra parameters) from the catalog or the local cache, so a hostile database name can
never reach a shell. Each command token is still ``shlex.quote``-d and every ``%`` escaped as
``\\%`` (cron turns an unescaped ``%`` into a newline), and the rendered file is parsed back
(our emulation of cron's rules plus python-crontab) before it is handed to the installer.
A definition whose schedule or tokens are not safe is skipped and reported, never written.

The lines of one file differ only in their schedule and their id, so the checks that do not
depend on those are made once and remembered (pgbackman_control --once renders 8 000 lines):
the command without its id parses back to its argv with any id appended (the id is
digits), a schedule is validated once, and python-crontab reads each distinct line shape
(schedule, user, command without its id) once.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from crontab import CronTab

from pgbackman.core import cronfields
from pgbackman.errors import CronRenderError, UserInputError

# Debian/Vixie cron.d user field: a plain login name.
_USER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,31}\$?$")
# cron ignores cron.d files whose names are not made of these (Debian run-parts rules).
CRON_FILE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
GENERATED_PREFIX = "# Generated: "


def validate_schedule(fields: Sequence[str]) -> list[str]:
    """The five fields of a catalog schedule, checked again before they reach a cron.d line
    (the catalog is not trusted with what root's cron runs); raise CronRenderError."""
    if len(fields) != 5:
        raise CronRenderError(f"A cron schedule has 5 fields, got {len(fields)}")
    return list(_valid_schedule(tuple(str(f) for f in fields)))


@functools.lru_cache(maxsize=4096)
def _valid_schedule(fields: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(cronfields.validate_schedule(*fields, normalize=False))
    except UserInputError as exc:
        raise CronRenderError(str(exc)) from None


def validate_cron_user(user: str) -> str:
    if not _USER_RE.match(user or ""):
        raise CronRenderError(f"Invalid OS user name for cron {user!r}")
    return user


def quote_token(token: str) -> str:
    """Quote one command token for /bin/sh and escape ``%`` for cron."""
    if _CONTROL_RE.search(token):
        raise CronRenderError(
            f"Control characters are not allowed in cron command {token!r}"
        )
    if "\\" in token:
        # cron only removes a backslash in front of '%'; a backslash already in the token
        # would change the meaning of our escape. No path or id we write needs one.
        raise CronRenderError(f"Backslashes are not allowed in cron command {token!r}")
    return shlex.quote(token).replace("%", "\\%")


def render_command(argv: Sequence[str]) -> str:
    """The command field of a cron line for ``argv``."""
    if not argv:
        raise CronRenderError("Empty cron command")
    return " ".join(quote_token(str(a)) for a in argv)


def cron_unescape(command: str) -> tuple[str, str | None]:
    """Apply cron's rules to a command field: return (what /bin/sh -c gets, stdin text).

    Vixie/Debian cron: ``\\%`` becomes ``%``; the first unescaped ``%`` ends the command
    and the rest (with further ``%`` turned into newlines) is fed to the job's stdin.
    Other backslashes are kept.
    """
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(command):
        if escaped:
            if ch == "%":
                out[-1] = "%"  # drop the backslash
            else:
                out.append(ch)
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            out.append(ch)
            continue
        if ch == "%":
            rest = command[i + 1 :].replace("%", "\n")
            return "".join(out), rest
        out.append(ch)
    return "".join(out), None


@dataclass(frozen=True)
class CronJob:
    """One ACTIVE backup definition to schedule."""

    def_id: int
    minutes: str
    hours: str
    day_month: str
    month: str
    weekday: str

    @property
    def fields(self) -> list[str]:
        return [self.minutes, self.hours, self.day_month, self.month, self.weekday]


@dataclass(frozen=True)
class CrontabContext:
    """What is the same for every line of one node's file."""

    file_path: str
    node_fqdn: str
    server_fqdn: str
    os_user: str
    dump_program: str
    config_file: str
    mailto: str = ""


@dataclass
class RenderResult:
    text: str
    lines: int
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (def_id, reason)


def job_argv(ctx: CrontabContext, def_id: int) -> list[str]:
    """The argv a job line runs (what the job program receives). Without a config file
    the job finds its configuration through the usual lookup order."""
    config = ["--config", ctx.config_file] if ctx.config_file else []
    return [ctx.dump_program, *config, "--def-id", str(int(def_id))]


def render_job_line(ctx: CrontabContext, job: CronJob) -> str:
    schedule = validate_schedule(job.fields)
    user = validate_cron_user(ctx.os_user)
    head = " ".join(schedule) + " " + user
    if len(head.split()) != 6:  # the command must start at cron's 7th field
        raise CronRenderError(f"Cron schedule and user do not make 6 fields: {head!r}")
    return f"{head} {_command_without_id(ctx.dump_program, ctx.config_file)} {int(job.def_id)}"


@functools.lru_cache(maxsize=256)
def _command_without_id(dump_program: str, config_file: str) -> str:
    """The command of a job line up to its id, checked once: with an id appended it parses
    back (cron's rules, then /bin/sh's) to exactly the job's argv (see module docstring)."""
    ctx = CrontabContext("", "", "", "", dump_program, config_file)
    argv = job_argv(ctx, 1)
    command = render_command(argv[:-1])
    _check_line(f"* * * * * user {command} 1", argv)
    return command


def _check_line(line: str, argv: list[str]) -> None:
    """Parse ``line`` back the way cron and /bin/sh would and compare with ``argv``."""
    parts = line.split(None, 6)
    command, stdin = cron_unescape(parts[6])
    if stdin is not None or shlex.split(command) != argv:
        raise CronRenderError(f"Cron line does not parse back to its command: {line!r}")


def _comment_safe(text: str) -> str:
    return _CONTROL_RE.sub("?", text)


def _mailto_value(mailto: str) -> str:
    # An environment line of cron takes the rest of the line verbatim: only plain addresses.
    if mailto and re.match(r"^[A-Za-z0-9._%+@,\-]+$", mailto):
        return mailto
    return '""'


def render_crontab(
    ctx: CrontabContext, jobs: Iterable[CronJob], generated: str
) -> RenderResult:
    """Render the whole cron.d file of one node. ``generated`` is the timestamp text."""
    header = [
        f"# File: {_comment_safe(ctx.file_path)}",
        "# ",
        "# This crontab file is generated automatically",
        "# and contains the backup jobs to be run",
        f"# for the PgSQL node {_comment_safe(ctx.node_fqdn)}",
        f"# in the backup server {_comment_safe(ctx.server_fqdn)}",
        "# ",
        f"{GENERATED_PREFIX}{_comment_safe(generated)}",
        "#",
        "SHELL=/bin/sh",
        "PATH=/sbin:/bin:/usr/sbin:/usr/bin",
        f"MAILTO={_mailto_value(ctx.mailto)}",
        "",
    ]
    lines: list[str] = []
    skipped: list[tuple[int, str]] = []
    for job in jobs:
        try:
            lines.append(render_job_line(ctx, job))
        except CronRenderError as exc:
            skipped.append((job.def_id, str(exc)))
    text = "\n".join(header + lines) + "\n"
    _check_file(text, len(lines))
    return RenderResult(text=text, lines=len(lines), skipped=skipped)


def _check_file(text: str, expected_jobs: int) -> None:
    """python-crontab must read back exactly the job lines we wrote (system cron format):
    none from the header, one from every job line (each line shape read once)."""
    header, _, body = text.partition("\n\n")
    found = _jobs_read_back(header + "\n")
    for line in body.splitlines():
        shape, _, ident = line.rpartition(" ")
        found += _jobs_read_back(f"{shape} 1\n") if ident.isdigit() else 99
    if found != expected_jobs:
        raise CronRenderError(
            f"Rendered crontab reads back {found} jobs instead of {expected_jobs}"
        )


@functools.lru_cache(maxsize=4096)
def _jobs_read_back(text: str) -> int:
    tab = CronTab(tab=text, user=False)
    return sum(1 for j in tab if j.is_valid() and j.is_enabled())


def parse_job_lines(text: str) -> list[tuple[list[str], str, list[str]]]:
    """Job lines of a cron.d file as (five fields, user, argv as /bin/sh would split it)."""
    out = []
    for raw in text.splitlines():
        s = raw.strip()
        if not s or s.startswith("#") or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", s):
            continue
        parts = s.split(None, 6)
        command, _stdin = cron_unescape(parts[6])
        out.append((parts[:5], parts[5], shlex.split(command)))
    return out


def same_content(old: str | None, new: str) -> bool:
    """True when two renderings differ at most in their ``# Generated:`` line."""
    if old is None:
        return False

    def strip(t: str) -> list[str]:
        return [ln for ln in t.splitlines() if not ln.startswith(GENERATED_PREFIX)]

    return strip(old) == strip(new)


def valid_cron_file_name(name: str) -> bool:
    return bool(CRON_FILE_NAME_RE.match(name))
