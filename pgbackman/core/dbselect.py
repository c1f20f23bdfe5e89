"""Which databases a backup or snapshot registration is about.

Owns the DBname forms of ``register_backup_definition`` / ``register_snapshot_definition``:
one name, a comma list, ``#all_databases#``, ``#databases_without_backup_definitions#``
(``#databases_without_backups#`` is accepted as the same thing: upstream spelled it
differently in its two modes), and ``''`` for a CLUSTER backup; plus the exceptions list.
Given the node's database list (fetched by the caller), :func:`select_databases` returns the
final list or raises before anything is registered if any explicit name is unknown.

Pure: the caller supplies the node's databases and the names that already have definitions.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pgbackman.core.cronfields import random_hour, random_minute
from pgbackman.errors import UserInputError

ALL_DATABASES = "#all_databases#"
WITHOUT_DEFINITIONS = "#databases_without_backup_definitions#"
WITHOUT_BACKUPS = "#databases_without_backups#"
SPECIAL_FORMS = (ALL_DATABASES, WITHOUT_DEFINITIONS, WITHOUT_BACKUPS)

# Never selected by the special forms (upstream: every db except these).
SYSTEM_DATABASES = ("template0", "template1", "postgres")

KIND_CLUSTER = "cluster"
KIND_NAMES = "names"
KIND_ALL = "all"
KIND_WITHOUT = "without_definitions"


@dataclass(frozen=True)
class DbSpec:
    """A parsed DBname argument."""

    kind: str
    names: tuple[str, ...] = ()

    @property
    def is_special(self) -> bool:
        return self.kind in (KIND_ALL, KIND_WITHOUT)


def _check_chars(name: str, what: str) -> None:
    # Control characters would end up in file names and logs; PostgreSQL allows them.
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UserInputError(f"{what} [{name!r}] contains control characters")


def registrable(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(names that can be registered, names that cannot): a database whose name holds
    control characters exists on the node but cannot be backed up safely (file names, cron
    mail, logs), so ``#all_databases#`` skips it with a warning instead of failing the node."""
    ok: list[str] = []
    skipped: list[str] = []
    for n in names:
        (skipped if any(ord(c) < 32 or ord(c) == 127 for c in n) else ok).append(n)
    return ok, skipped


def split_list(text: str) -> list[str]:
    """Comma list -> names (surrounding blanks removed, empty items dropped)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_dbname(text: str, allow_without_definitions: bool = True) -> DbSpec:
    """Classify a DBname argument. A name without a comma is taken verbatim."""
    stripped = text.strip()
    if stripped == "":
        return DbSpec(KIND_CLUSTER)
    if stripped == ALL_DATABASES:
        return DbSpec(KIND_ALL)
    if stripped in (WITHOUT_DEFINITIONS, WITHOUT_BACKUPS):
        if not allow_without_definitions:
            raise UserInputError(
                f"{stripped} cannot be used here; use {ALL_DATABASES} or a list"
            )
        return DbSpec(KIND_WITHOUT)
    names = split_list(text) if "," in text else [text]
    seen: list[str] = []
    for n in names:
        _check_chars(n, "DBname")
        if n in SPECIAL_FORMS:
            raise UserInputError(f"{n} cannot be part of a list of databases")
        if n not in seen:
            seen.append(n)
    return DbSpec(KIND_NAMES, tuple(seen))


def parse_exceptions(text: str) -> list[str]:
    """The DBname exceptions argument: a comma list, spaces around names removed."""
    names = split_list(text or "")
    for n in names:
        _check_chars(n, "DBname exception")
    return names


def check_names(
    spec: DbSpec, node_databases: Iterable[str], node_label: str = ""
) -> None:
    """Every database a list names must exist on the node (UserInputError otherwise)."""
    on_node = set(node_databases)
    missing = [n for n in spec.names if n not in on_node]
    if missing:
        raise UserInputError(
            "; ".join(
                f"Database [{n}] does not exist in the PgSQL node [{node_label}]"
                for n in missing
            )
        )


def select_databases(
    spec: DbSpec,
    exceptions: Iterable[str],
    node_databases: Sequence[str],
    with_definitions: Iterable[str] = (),
    node_label: str = "",
    backup_code: str = "FULL",
) -> list[str]:
    """The databases to register, in a stable order.

    Raises UserInputError (nothing registered) when an explicit name is not on the node, when a
    CLUSTER code gets database names or a non-CLUSTER code gets none, or when nothing is left.
    """
    code = backup_code.upper()
    if spec.kind == KIND_CLUSTER:
        if code != "CLUSTER":
            raise UserInputError(
                f"DBname is required for backup code {code} (empty only for CLUSTER)"
            )
        return [""]
    if code == "CLUSTER":
        raise UserInputError(
            "Backup code CLUSTER backs up the whole node: leave DBname empty"
        )
    excluded = set(exceptions)
    on_node = set(node_databases)
    if spec.kind == KIND_NAMES:
        check_names(spec, on_node, node_label)
        chosen = [n for n in spec.names if n not in excluded]
    else:
        candidates = sorted(n for n in on_node if n not in SYSTEM_DATABASES)
        if spec.kind == KIND_WITHOUT:
            have = set(with_definitions)
            candidates = [n for n in candidates if n not in have]
        chosen = [n for n in candidates if n not in excluded]
    if not chosen:
        raise UserInputError(
            f"No databases left to register in the PgSQL node [{node_label}]"
        )
    return chosen


def spread_schedule(
    dbnames: Sequence[str],
    minutes: str,
    hours: str,
    minutes_interval: str,
    hours_interval: str,
    rng: random.Random | None = None,
) -> list[tuple[str, str, str]]:
    """(dbname, minute, hour) per database.

    One database keeps the given minute/hour; several get each their own random minute and hour
    inside the node's intervals so that they do not all start at the same moment.
    """
    if len(dbnames) == 1:
        return [(dbnames[0], minutes, hours)]
    return [
        (db, random_minute(minutes_interval, rng), random_hour(hours_interval, rng))
        for db in dbnames
    ]
