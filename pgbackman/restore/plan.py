"""Pure decisions of a restore (no I/O): the temporary database name, the per-run log file
name, the psql / pg_restore argv per backup code, the extra-parameter policy, the release
check, and the filter applied to a pg_dumpall stream.

Connection targets never appear in argv: host, port and user travel as PG* variables; psql
takes the database from PGDATABASE and pg_restore from a conninfo built by libpq's own
quoting (``psycopg2.extensions.make_dsn``), so a database name is data, never parsed as
options. No password is ever placed in argv.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from psycopg2.extensions import make_dsn

from pgbackman.core import argv as argvmod
from pgbackman.core import naming, pgversion
from pgbackman.core.pgversion import Release
from pgbackman.errors import ExtraParameterError, RestoreError

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1
DATABASE_CODES = ("FULL", "SCHEMA", "DATA", "RDS")
RESTORE_CODES = (*DATABASE_CODES, "CLUSTER")
# Options we set ourselves for every restore, refused in extra parameters with a clear reason.
_CREATE_OPTIONS = ("-C", "--create")
_JOBS_OPTIONS = ("-j", "--jobs")
_SINGLE_TX = ("-1", "--single-transaction")
_OWNER_ACL = ("-O", "--no-owner", "-x", "--no-privileges", "--no-acl")


def temp_db_name(target: str, restore_def: int) -> str:
    """``<target>_pgbackman_restore_<N>``; the target part is cut (on a UTF-8 character
    boundary) so the whole name fits in 63 bytes and the suffix always survives."""
    suffix = f"_pgbackman_restore_{int(restore_def)}"
    room = MAX_IDENTIFIER_BYTES - len(suffix.encode())
    prefix = target.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return prefix + suffix


# The name of a restore's log: core/naming.py owns every file name (maintenance recognises
# the logs it may delete by the same rule).
log_file_name = naming.restore_log_name


def tokenize_restore_extra(text: str | None) -> list[str]:
    """extra_restore_parameters -> argv items (shlex, allowlist); RestoreError if refused."""
    try:
        words = argvmod.tokenize_extra(text, "pg_restore")
    except ExtraParameterError as exc:
        for opt in _CREATE_OPTIONS:
            if re.search(rf"(^|\s){re.escape(opt)}(\s|=|$)", text or ""):
                raise RestoreError(
                    f"Invalid extra restore parameters: {opt} is not allowed (PgBackMan "
                    "creates the database)"
                ) from None
        raise RestoreError(f"Invalid extra restore parameters: {exc}") from None
    return words


def _without_jobs(extra: Sequence[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for tok in extra:
        if skip:
            skip = False
            continue
        if tok in _JOBS_OPTIONS:
            skip = True
            continue
        if tok.startswith("--jobs=") or (tok.startswith("-j") and len(tok) > 2):
            continue
        out.append(tok)
    return out


def pg_restore_argv(
    bindir: str, code: str, dbname: str, archive: str, extra: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(argv, notes) of the pg_restore run for ``code`` into ``dbname``.

    * every code: ``--exit-on-error --verbose --no-password``, the database as a quoted
      conninfo in ``--dbname``;
    * DATA: ``--data-only --single-transaction`` (a failure leaves the target unchanged);
      ``-j`` cannot be combined with a single transaction and is dropped (noted);
    * RDS: ``--no-owner --no-acl`` (RDS backups carry no roles) unless extra parameters are
      given: then they are the complete option set (the operator "says otherwise").
    """
    code = code.upper()
    if code not in DATABASE_CODES:
        raise ValueError(f"backup code {code!r} is not restored with pg_restore")
    notes: list[str] = []
    argv = [
        f"{bindir.rstrip('/')}/pg_restore",
        "--exit-on-error",
        "--verbose",
        "--no-password",
        f"--dbname={make_dsn(dbname=dbname)}",
    ]
    words = list(extra)
    if code == "DATA":
        if _without_jobs(words) != words:
            notes.append("-j is ignored for a DATA restore: it runs in one transaction")
            words = _without_jobs(words)
        argv.append("--data-only")
        if not any(w in _SINGLE_TX for w in words):
            argv.append("--single-transaction")
    elif code == "RDS" and not words:
        argv += ["--no-owner", "--no-acl"]
    elif (
        code != "DATA"
        and any(w in _SINGLE_TX for w in words)
        and _without_jobs(words) != words
    ):
        raise RestoreError(
            "Invalid extra restore parameters: -j cannot be combined with "
            "--single-transaction"
        )
    return [*argv, *words, archive], notes


_NO_ACL = ("-x", "--no-privileges", "--no-acl")
ACL_DESCS = ("ACL", "ACL LANGUAGE", "DEFAULT ACL")
_TOC_ENTRY_RE = re.compile(r"^\d+; \d+ \d+ (.*)$")


def separate_acl_pass(code: str, extra: Sequence[str]) -> bool:
    """True when the privileges must be restored in a second, serial pg_restore run
    (``-j`` without ``--no-acl``; why: :mod:`pgbackman.restore.privileges`)."""
    return (
        code.upper() in ("FULL", "SCHEMA", "RDS")
        and _without_jobs(extra) != list(extra)
        and not any(w in _NO_ACL for w in extra)
    )


def acl_entries(listing: str) -> list[str]:
    """The ACL entries of a ``pg_restore --list`` listing (a ``--use-list`` file)."""
    out = []
    for line in listing.splitlines():
        m = _TOC_ENTRY_RE.match(line)
        if m and any(m.group(1).startswith(d + " ") for d in ACL_DESCS):
            out.append(line)
    return out


def without_jobs(extra: Sequence[str]) -> list[str]:
    return _without_jobs(extra)


def psql_argv(
    bindir: str, variables: Iterable[tuple[str, str]] = (), file: str = "-"
) -> list[str]:
    """psql that stops at the first error, never prompts, ignores ~/.psqlrc; the database
    comes from PGDATABASE, the script from ``file`` (``-`` = stdin)."""
    # No --echo-errors: a failed statement of the roles script would copy a password hash
    # into the log; psql's own "psql:<file>:<line>: ERROR: ..." line is enough.
    argv = [
        f"{bindir.rstrip('/')}/psql",
        "-X",
        "-v",
        "ON_ERROR_STOP=1",
        "--no-password",
    ]
    for name, value in variables:
        argv += ["-v", f"{name}={value}"]
    return [*argv, "-f", file]


def check_release(backup_release: str | None, target: Release) -> Release:
    """The backup's release; RestoreError when the target node is older (PostgreSQL 9.x and
    10..18 alike: releases compare as tuples, no hard-coded table)."""
    if not backup_release:
        raise RestoreError("The backup has no pg_dump release in the catalog")
    try:
        rel = pgversion.parse_release(backup_release)
    except ValueError as exc:
        raise RestoreError(str(exc)) from None
    if rel > target:
        raise RestoreError(
            f"Backup pgsql release {pgversion.release_dotted(rel)} > target PgSQL node release "
            f"{pgversion.release_dotted(target)}"
        )
    return rel


def roles_to_render(
    requested: Sequence[str], backup_roles: Sequence[str], existing: set[str]
) -> tuple[list[str], list[str]]:
    """(roles given to the renderer, roles that will be created).

    The roles file creates a role only when it is missing, so passing the backup's roles
    that already exist on the target as well keeps the memberships between a restored role
    and an existing one; roles neither requested nor present on the target are left out
    (with their memberships).
    """
    wanted = [r for r in dict.fromkeys(requested) if r in backup_roles]
    created = [r for r in wanted if r not in existing]
    present = [r for r in backup_roles if r in existing]
    return sorted(set(wanted) | set(present)), created


_CREATE_ROLE_RE = re.compile(rb"^CREATE ROLE (.+);\r?\n?$")


def unquote_ident(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


class ClusterStreamFilter:
    """Drops pg_dumpall's ``CREATE ROLE <r>;`` lines for roles that already exist on the
    target (its ``ALTER ROLE <r> WITH ...`` that follows still applies the source's
    attributes). Only the globals section is inspected: filtering stops at the first
    ``\\connect`` line, so table data can never be altered.
    """

    def __init__(self, existing_roles: set[str]) -> None:
        self.existing = existing_roles
        self.skipped: list[str] = []
        self.created: list[str] = []

    def filter(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        buf = b""
        it = iter(chunks)
        for chunk in it:
            buf += chunk
            lines = buf.split(b"\n")
            buf = lines.pop()
            out: list[bytes] = []
            for i, line in enumerate(lines):
                if line.startswith(b"\\connect"):
                    rest = b"\n".join(lines[i:]) + b"\n" + buf
                    yield b"".join(out) + rest
                    yield from it
                    return
                out.append(self._line(line + b"\n"))
            yield b"".join(out)
        if buf:
            yield self._line(buf)

    def _line(self, line: bytes) -> bytes:
        m = _CREATE_ROLE_RE.match(line)
        if not m:
            return line
        name = unquote_ident(m.group(1).decode("utf-8", errors="surrogateescape"))
        if name in self.existing:
            self.skipped.append(name)
            return (
                b"-- pgbackman_restore: role exists on the target, CREATE skipped: "
                + line
            )
        self.created.append(name)
        return line
