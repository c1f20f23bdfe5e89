"""Compression of a backup as a first-class choice: ``gzip:N``, ``zstd:N``, ``lz4:N`` or
``none`` (pure rules, no I/O).

Where a value comes from: the definition's (or snapshot's) own ``backup_compression``, else
the node configuration ``backup_compression``, else :data:`DEFAULT`. The value is checked
against the pg_dump release that will run (:func:`check_release`): pg_dump 16 and newer
takes ``--compress=METHOD:LEVEL``; pg_dump 15 and older compresses with gzip only. CLUSTER
dumps are compressed in Python (pgbackman/archive/compress.py), so every method works there
whatever the release. The shell checks at registration and update, and the run checks
again against the pg_dump it found, so a value that cannot work is refused with a clear
message instead of failing at 02:00.

``-Z``/``--compress`` typed in the extra parameters (upstream users' habit) is folded into
the value (:func:`fold_extra`): it becomes the compression when none was chosen, is removed
from the parameters, and contradicting a chosen value is an error.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from pgbackman.core.argv import option_spans
from pgbackman.core.pgversion import Release, release_dotted

# method -> (lowest level, highest level, default level); the ranges pg_dump 16 accepts
# (src/common/compression.c), which the Python libraries accept as well.
LEVELS: dict[str, tuple[int, int, int]] = {
    "gzip": (1, 9, 6),
    "zstd": (1, 22, 3),
    "lz4": (1, 12, 1),
}
METHODS = (*LEVELS, "none")
DEFAULT = "gzip:6"  # what pg_dump -Fd and the CLUSTER gzip stream always did
FIRST_RELEASE_WITH_METHODS: Release = (16,)
COMPRESS_OPTIONS = ("-Z", "--compress")
# Suffix of a CLUSTER dump file by method (pg_dumpall output compressed in Python).
CLUSTER_SUFFIX = {
    "gzip": ".sql.gz",
    "zstd": ".sql.zst",
    "lz4": ".sql.lz4",
    "none": ".sql",
}

_VALUE_RE = re.compile(
    r"^\s*(?P<method>[A-Za-z0-9]+)\s*(?::\s*(?:level\s*=\s*)?(?P<level>-?[0-9]+)\s*)?$"
)


class CompressionError(ValueError):
    """A compression value that is malformed or cannot work; the message is one line."""


@dataclass(frozen=True)
class Compression:
    """A method and its level (level 0 for ``none``)."""

    method: str
    level: int = 0

    def __str__(self) -> str:
        return "none" if self.method == "none" else f"{self.method}:{self.level}"

    @property
    def cluster_suffix(self) -> str:
        return CLUSTER_SUFFIX[self.method]


def parse(text: str) -> Compression:
    """``gzip:6``, ``ZSTD:3``, ``zstd`` (default level), ``lz4:level=1``, ``none`` ->
    :class:`Compression`; :class:`CompressionError` for anything else."""
    m = _VALUE_RE.match(text or "")
    if m is None:
        raise CompressionError(
            f"compression {text!r} is not valid: use gzip:N (1-9), zstd:N (1-22), "
            "lz4:N (1-12) or none"
        )
    method = m["method"].lower()
    if method not in METHODS:
        raise CompressionError(
            f"compression method {m['method']!r} is not supported: use gzip, zstd, lz4 "
            "or none"
        )
    if method == "none":
        if m["level"] not in (None, "0"):
            raise CompressionError("compression none takes no level")
        return Compression("none")
    low, high, default = LEVELS[method]
    level = default if m["level"] is None else int(m["level"])
    if not low <= level <= high:
        raise CompressionError(
            f"compression level {level} is out of range for {method} ({low}-{high})"
        )
    return Compression(method, level)


def normalise(text: str) -> str:
    """The canonical text of a value (``zstd`` -> ``zstd:3``)."""
    return str(parse(text))


def effective(own: str | None, node_default: str | None) -> Compression:
    """The value a run uses: the definition's own, else the node's, else DEFAULT."""
    return parse((own or "").strip() or (node_default or "").strip() or DEFAULT)


def check_release(comp: Compression, backup_code: str, release: Release) -> None:
    """Refuse a value the pg_dump of ``release`` cannot write (CLUSTER: always fine)."""
    if backup_code.upper() == "CLUSTER":
        return
    if comp.method in ("gzip", "none") or release >= FIRST_RELEASE_WITH_METHODS:
        return
    rel = release_dotted(release)
    raise CompressionError(
        f"compression {comp} needs pg_dump 16 or newer, and this {backup_code.upper()} "
        f"backup runs pg_dump {rel}, which compresses with gzip only: use gzip:N or none "
        f"(or a snapshot with pg_dump release 16+)"
    )


def pg_dump_option(comp: Compression, release: Release) -> str:
    """The one ``--compress`` argument for pg_dump of ``release`` (checked beforehand)."""
    if release >= FIRST_RELEASE_WITH_METHODS:
        return f"--compress={comp}"
    return f"--compress={comp.level if comp.method == 'gzip' else 0}"


def _from_option(value: str) -> Compression:
    """What ``-Z VALUE`` / ``--compress=VALUE`` means to pg_dump: an integer is a gzip level
    (0 = none), anything else ``METHOD[:LEVEL]``."""
    v = value.strip()
    if re.fullmatch(r"[0-9]", v):
        return Compression("none") if v == "0" else Compression("gzip", int(v))
    return parse(v)


def fold_extra(
    tokens: Sequence[str], chosen: str | None
) -> tuple[Compression | None, list[str]]:
    """Take ``-Z``/``--compress`` out of pg_dump extra-parameter tokens (as
    :func:`pgbackman.core.argv.tokenize_extra` returns them).

    Returns (the compression they ask for, or None; the remaining tokens). A value given
    twice differently, or different from ``chosen`` (a value chosen explicitly), is an error.
    """
    found: Compression | None = None
    rest: list[str] = []
    for name, value, first, end in option_spans(tokens):
        if name not in COMPRESS_OPTIONS:
            rest.extend(tokens[first:end])
            continue
        try:
            comp = _from_option(value)
        except CompressionError as exc:
            raise CompressionError(f"extra parameter {name} {value}: {exc}") from None
        if found is not None and comp != found:
            raise CompressionError(
                f"extra parameters ask for two compressions ({found} and {comp})"
            )
        found = comp
    if found is not None and chosen and chosen.strip():
        if parse(chosen) != found:
            raise CompressionError(
                f"extra parameter -Z/--compress ({found}) contradicts the backup "
                f"compression {parse(chosen)}: set the compression in one place"
            )
    return found, rest


def join_extra(tokens: Sequence[str]) -> str:
    """Extra-parameter tokens back to the text stored in the catalog."""
    return shlex.join(tokens)
