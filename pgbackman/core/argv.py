"""argv lists for pg_dump, pg_dumpall and pg_restore, and the tokenising of the free-text
``extra_backup_parameters`` into argv items checked against an allowlist.

Nothing here runs a program: the lists go to :func:`pgbackman.infra.proc.run`, never to a
shell. Connection targets (host, port, user, database) never appear in argv: they travel as
libpq environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE), so a database name is data
and is never parsed as a conninfo string or by a shell. No password is ever placed in argv.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from pgbackman.errors import ExtraParameterError

BACKUP_CODES = ("FULL", "SCHEMA", "DATA", "CLUSTER", "RDS")
DATABASE_CODES = ("FULL", "SCHEMA", "DATA", "RDS")
DATA_CODES = ("FULL", "DATA", "RDS")  # codes whose archive must hold table data


@dataclass(frozen=True)
class _Opt:
    takes_value: bool


# Options that change where output goes, what is connected to, or how we authenticate:
# refused with a specific message (we set them ourselves).
_FORBIDDEN = {
    "-f": "output file",
    "--file": "output file",
    "-F": "output format",
    "--format": "output format",
    "-d": "connection",
    "--dbname": "connection",
    "-h": "connection",
    "--host": "connection",
    "-p": "connection",
    "--port": "connection",
    "-U": "connection",
    "--username": "connection",
    "-l": "connection",
    "--database": "connection",
    "-w": "authentication",
    "--no-password": "authentication",
    "-W": "authentication",
    "--password": "authentication",
    "-o": "output",
    "-?": "help",
    "--help": "help",
    "-V": "version",
    "--version": "version",
}

# What a code already decides (the backup code is the single source of truth).
_CODE_OWNED = {
    "-s": "schema-only",
    "--schema-only": "schema-only",
    "-a": "data-only",
    "--data-only": "data-only",
    "-g": "globals-only",
    "--globals-only": "globals-only",
    "-r": "roles-only",
    "--roles-only": "roles-only",
}

_NO_VALUE_COMMON = (
    "-c --clean --if-exists -O --no-owner -x --no-privileges --no-acl --no-comments "
    "--no-publications --no-subscriptions --no-security-labels --no-tablespaces "
    "--no-unlogged-table-data --no-toast-compression --no-table-access-method --no-sync "
    "--load-via-partition-root --quote-all-identifiers --disable-triggers "
    "--disable-dollar-quoting --inserts --column-inserts --on-conflict-do-nothing "
    "--use-set-session-authorization -v --verbose --no-statistics --with-statistics "
    "--sequence-data --no-policies"
).split()
_VALUE_COMMON = (
    "--lock-wait-timeout --extra-float-digits --rows-per-insert -E --encoding --role"
).split()

_PG_DUMP_NO_VALUE = (
    _NO_VALUE_COMMON
    + (
        "-b --blobs --large-objects -B --no-blobs --no-large-objects -C --create "
        "--serializable-deferrable --enable-row-security --strict-names "
        "--no-synchronized-snapshots --include-foreign-data-dummy"
    ).split()
)
_PG_DUMP_VALUE = (
    _VALUE_COMMON
    + (
        "-j --jobs -n --schema -N --exclude-schema -t --table -T --exclude-table "
        "--exclude-table-data --table-and-children --exclude-table-and-children "
        "--exclude-table-data-and-children -Z --compress -e --extension --exclude-extension "
        "--section --snapshot --include-foreign-data --filter"
    ).split()
)
_PG_DUMPALL_NO_VALUE = _NO_VALUE_COMMON + [
    "-t",
    "--tablespaces-only",
    "--no-role-passwords",
]
_PG_DUMPALL_VALUE = _VALUE_COMMON + ["--exclude-database", "--filter"]


def _table(no_value: Sequence[str], value: Sequence[str]) -> dict[str, _Opt]:
    t = {o: _Opt(False) for o in no_value}
    t.update({o: _Opt(True) for o in value})
    return t


# pg_restore (extra_restore_parameters, used by pgbackman_restore). Not here, so refused:
# -C/--create (PgBackMan creates the database), -l/--list, -L/--use-list, -f, -d, -h, -p, -U.
_PG_RESTORE_NO_VALUE = (
    "-c --clean --if-exists -e --exit-on-error -O --no-owner -x --no-privileges --no-acl "
    "--no-comments --no-data-for-failed-tables --no-publications --no-security-labels "
    "--no-subscriptions --no-tablespaces --no-table-access-method --disable-triggers "
    "--enable-row-security -1 --single-transaction --use-set-session-authorization "
    "--strict-names -v --verbose --no-statistics --no-policies"
).split()
_PG_RESTORE_VALUE = (
    "-j --jobs -n --schema -N --exclude-schema -t --table -T --trigger -I --index "
    "-P --function --section --role -S --superuser --transaction-size"
).split()

_TABLES = {
    "pg_dump": _table(_PG_DUMP_NO_VALUE, _PG_DUMP_VALUE),
    "pg_dumpall": _table(_PG_DUMPALL_NO_VALUE, _PG_DUMPALL_VALUE),
    "pg_restore": _table(_PG_RESTORE_NO_VALUE, _PG_RESTORE_VALUE),
}


def tokenize_extra(text: str | None, tool: str = "pg_dump") -> list[str]:
    """Split ``text`` like a POSIX shell would split words (no expansion, no execution) and
    check every option against the allowlist of ``tool``; return the argv items.

    Raises :class:`ExtraParameterError` with a one-line reason. Case is preserved.
    """
    if tool not in _TABLES:
        raise ValueError(f"unknown tool {tool!r}")
    if not text or not text.strip():
        return []
    if any(ord(c) < 32 and c not in " \t" for c in text) or "\x7f" in text:
        raise ExtraParameterError(
            "extra parameters must not contain control characters"
        )
    try:
        tokens = shlex.split(text, comments=False, posix=True)
    except ValueError as exc:
        raise ExtraParameterError(
            f"cannot parse extra parameters {text!r}: {exc}"
        ) from None
    table = _TABLES[tool]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if not tok.startswith("-") or tok == "-":
            raise ExtraParameterError(
                f"extra parameter {tok!r} is not an option of {tool} (positional arguments "
                "are not allowed)"
            )
        if tok.startswith("--"):
            name, eq, value = tok.partition("=")
            has_eq = bool(eq)
        else:
            name, value = tok[:2], tok[2:]
            has_eq = bool(value)
        _check_name(name, tool, table)
        opt = table[name]
        if opt.takes_value:
            if has_eq:
                out.append(tok)
            else:
                if i >= len(tokens):
                    raise ExtraParameterError(f"extra parameter {name} needs a value")
                out.extend([tok, tokens[i]])
                i += 1
        else:
            if has_eq:
                raise ExtraParameterError(
                    f"extra parameter {tok!r}: {name} takes no value (write short options "
                    "one per word)"
                )
            out.append(tok)
    return out


def option_spans(
    tokens: Sequence[str], tool: str = "pg_dump"
) -> list[tuple[str, str, int, int]]:
    """(option, value, first token, end token) of argv items that :func:`tokenize_extra`
    returned (value "" for options that take none; ``--opt=v``, ``-ov`` and ``-o v``
    alike); ``tokens[first:end]`` are the items of that option."""
    table = _TABLES[tool]
    out: list[tuple[str, str, int, int]] = []
    i = 0
    while i < len(tokens):
        start = i
        tok = tokens[i]
        i += 1
        if tok.startswith("--"):
            name, eq, value = tok.partition("=")
        else:
            name, value = tok[:2], tok[2:]
            eq = "=" if value else ""
        opt = table.get(name)
        if opt is not None and opt.takes_value and not eq and i < len(tokens):
            value = tokens[i]
            i += 1
        out.append((name, value, start, i))
    return out


def option_pairs(tokens: Sequence[str], tool: str = "pg_dump") -> list[tuple[str, str]]:
    """(option, value) of argv items that :func:`tokenize_extra` returned (value "" for
    options that take none; ``--opt=v``, ``-ov`` and ``-o v`` alike)."""
    return [(name, value) for name, value, _s, _e in option_spans(tokens, tool)]


def _check_name(name: str, tool: str, table: dict[str, _Opt]) -> None:
    if name in _FORBIDDEN:
        raise ExtraParameterError(
            f"extra parameter {name} is not allowed ({_FORBIDDEN[name]} is set by PgBackMan)"
        )
    if name in _CODE_OWNED:
        raise ExtraParameterError(
            f"extra parameter {name} is not allowed ({_CODE_OWNED[name]} is chosen by the "
            "backup code)"
        )
    if name not in table:
        raise ExtraParameterError(
            f"extra parameter {name} is not a supported {tool} option"
        )


def pg_dump_argv(
    bindir: str,
    backup_code: str,
    output_dir: str,
    extra: Sequence[str] = (),
    *,
    no_sync: bool = False,
) -> list[str]:
    """pg_dump in directory format into ``output_dir``; the database comes from PGDATABASE.

    ``no_sync`` (pg_dump >= 10): the caller makes the files durable itself."""
    code = backup_code.upper()
    if code not in DATABASE_CODES:
        raise ValueError(f"backup code {backup_code!r} is not a database dump code")
    argv = [
        f"{bindir.rstrip('/')}/pg_dump",
        "--no-password",
        "--verbose",
        "--format=directory",
        f"--file={output_dir}",
    ]
    if no_sync:
        argv.append("--no-sync")
    if code == "SCHEMA":
        argv.append("--schema-only")
    elif code == "DATA":
        argv += ["--data-only", "-b"]
    else:  # FULL, RDS: large objects even when -n/-t narrow the dump
        argv.append("-b")
    return argv + list(extra)


def pg_dumpall_argv(bindir: str, extra: Sequence[str] = ()) -> list[str]:
    """pg_dumpall to stdout (compressed by the caller); connection from PG* variables."""
    return [f"{bindir.rstrip('/')}/pg_dumpall", "--no-password", "--verbose", *extra]


def pg_restore_check_argv(bindir: str, archive: str) -> list[str]:
    """Read back a whole archive without a database (catches truncated data files)."""
    return [f"{bindir.rstrip('/')}/pg_restore", "--file=/dev/null", archive]


def pg_restore_list_argv(bindir: str, archive: str) -> list[str]:
    """The archive's table of contents on stdout (its TABLE DATA entries are checked)."""
    return [f"{bindir.rstrip('/')}/pg_restore", "--list", archive]


def version_argv(program_path: str) -> list[str]:
    return [program_path, "--version"]


def libpq_env(
    host: str, port: int, user: str, dbname: str, appname: str
) -> dict[str, str]:
    """PG* variables for a client program. Never PGPASSWORD (passwords come from .pgpass)."""
    return {
        "PGHOST": host,
        "PGPORT": str(int(port)),
        "PGUSER": user,
        "PGDATABASE": dbname,
        "PGAPPNAME": appname,
    }
