"""Everything the shell prints: tables, key/value blocks, messages, in table, csv or json.

Owns the three output formats of upstream §2.3, fixed:

* ``table`` — tabulate's ``pretty`` grid (PrettyTable's look), listed columns left-aligned,
  the others centred;
* ``csv`` — the csv module (real quoting), header = normalised column keys;
* ``json`` — ``{"<result_type>": [ {...}, ... ]}`` with numbers as numbers, NULL as null,
  timestamps as ISO 8601 strings and one stable key per column.

Key normalisation (csv header and json keys) is upstream's: lower-case, spaces -> ``_``, and the
two duplicated id columns renamed (``ID.`` -> ``backup_server_id``, ``ID`` -> ``pgsql_node_id``).

A result taller or wider than the terminal goes through a pager, as in psql: ``$PAGER``
(unset: ``less``; set empty: none), only when standard output is a terminal and the session's
``pager`` setting is on (``set pager off``).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import logging
import os
import shlex
import shutil
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from pgbackman.core.text import printable
from pgbackman.errors import UserInputError

log = logging.getLogger(__name__)

FORMATS = ("table", "csv", "json")
RULER = "-" * 56
# less: quit when the text fits one screen, keep colours, do not clear the screen on exit,
# chop long lines (wide tables scroll sideways) -- pgcli's defaults, unless LESS is set.
LESS_DEFAULTS = "-SRXF"

_KEY_RENAMES = {"ID.": "backup_server_id", "ID": "pgsql_node_id"}


def normalise_key(column: str) -> str:
    """The machine-readable key of a column title (csv header, json key)."""
    if column in _KEY_RENAMES:
        return _KEY_RENAMES[column]
    key = column.strip().lower().replace(" ", "_")
    return key.rstrip(":").replace("/", "_").replace("-", "_").replace(".", "")


def json_value(value: Any) -> Any:
    """A value as it should appear in JSON: typed where JSON has the type, text otherwise."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return text_value(value)
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return str(value)


def text_value(value: Any) -> str:
    """A value as a human reads it in a table or a csv cell."""
    if type(value) is str:  # most cells: skip the isinstance chain below
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        # Catalog timestamps are timestamptz; seconds are enough for a human.
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.timedelta):
        total = int(value.total_seconds())
        sign = "-" if total < 0 else ""
        total = abs(total)
        days, rest = divmod(total, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
        return (
            f"{sign}{days} day{'s' if days != 1 else ''} {clock}"
            if days
            else sign + clock
        )
    if isinstance(value, (list, tuple)):
        return ", ".join(text_value(v) for v in value)
    return str(value)


def cell_text(value: Any) -> str:
    """A value in a table cell or a message: one line (names from a PgSQL node may hold
    control characters; they are shown escaped, e.g. ``two\\nlines``)."""
    text = text_value(value)
    return text if text.isprintable() else printable(text)


def tabulate(*args: Any, **kwargs: Any) -> str:
    """tabulate.tabulate, imported on first use: most tables take the fast path of
    pretty_table, and the import costs ~15 ms of every shell start-up."""
    from tabulate import tabulate as _tabulate

    return str(_tabulate(*args, **kwargs))


def _plain(text: str) -> bool:
    return text.isascii() and text.isprintable()


def pretty_table(headers: list[str], body: list[list[str]], align: list[str]) -> str:
    """tabulate(tablefmt="pretty", disable_numparse=True) of string cells, aligned "left" or
    "center".

    tabulate infers a type for every cell even with numparse disabled, which makes a
    10 000-row listing (show_backup_definitions all all all) cost ~0.4 s. When every cell
    and header is one line of printable ASCII (the catalog's CHECKs forbid control
    characters), the same grid is drawn here directly; anything else (non-ASCII text whose
    display width may differ, an empty body) goes to tabulate. tests/unit/test_render_fast_table.py
    checks both give identical output.
    """
    if (
        not body
        or not all(_plain(h) and h == h.strip() for h in headers)
        or not all(_plain("".join(row)) for row in body)
        or any(a not in ("left", "center") for a in align)
    ):
        return tabulate(
            body,
            headers=headers,
            tablefmt="pretty",
            colalign=align,
            disable_numparse=True,
        )
    cells = [[c.strip() for c in row] for row in body]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            if len(c) > widths[i]:
                widths[i] = len(c)
    # tabulate pads both sides with str.format's "^" (the odd space goes right).
    fmts = [
        f"{{:{'<' if a == 'left' else '^'}{w}}}"
        for a, w in zip(align, widths, strict=True)
    ]
    fmt = "| " + " | ".join(fmts) + " |"
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    lines = [rule, fmt.format(*headers), rule]
    lines.extend(fmt.format(*row) for row in cells)
    lines.append(rule)
    return "\n".join(lines)


class Output:
    """Where and how the shell writes; ``format`` can change during a session (``set``)."""

    def __init__(
        self,
        fmt: str = "table",
        stream: TextIO | None = None,
        interactive: bool = False,
    ):
        self._format = "table"
        self.format = fmt
        self._stream = stream
        self.interactive = interactive
        self.pager = True  # the session setting (set pager on|off)

    @property
    def stream(self) -> TextIO:
        # Resolved at each write so that pytest's capsys (which swaps sys.stdout) works.
        return self._stream if self._stream is not None else sys.stdout

    @property
    def format(self) -> str:
        return self._format

    @format.setter
    def format(self, fmt: str) -> None:
        if fmt not in FORMATS:
            raise UserInputError(
                f"Output format [{fmt}] is not valid; use table, csv or json"
            )
        self._format = fmt

    def write(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def page(self, text: str) -> None:
        """Write a result; through the pager when it does not fit the terminal."""
        argv = self._pager_argv(text)
        if argv is not None:
            from pgbackman.infra import proc

            env = dict(os.environ)
            env.setdefault("LESS", LESS_DEFAULTS)
            try:
                proc.page(argv, text + "\n", env)
                return
            except OSError as exc:
                log.warning("Cannot run the pager %s: %s", argv[0], exc)
        self.write(text)

    def _pager_argv(self, text: str) -> list[str] | None:
        """The pager to use for ``text``, or None to write it directly."""
        if not self.pager or not _isatty(self.stream):
            return None
        command = os.environ.get("PAGER")
        if command is not None and not command.strip():
            return None
        size = _terminal_size(self.stream)
        lines = text.splitlines()
        if len(lines) < size.lines - 1 and all(len(ln) <= size.columns for ln in lines):
            return None
        try:
            argv = shlex.split(command) if command else ["less"]
        except ValueError:
            return None
        return argv or None

    # -- results ---------------------------------------------------------------------
    def table(
        self,
        result_type: str,
        columns: Sequence[str],
        rows: Iterable[dict[str, Any]],
        left: Iterable[str] = (),
    ) -> None:
        """Print rows (dicts keyed by column title) as a table, csv or json."""
        rows = list(rows)
        if self.format == "json":
            data = [
                {normalise_key(c): json_value(r.get(c)) for c in columns} for r in rows
            ]
            self.page(json.dumps({result_type: data}, indent=2, ensure_ascii=False))
        elif self.format == "csv":
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow([normalise_key(c) for c in columns])
            for r in rows:
                w.writerow([text_value(r.get(c)) for c in columns])
            self.page(buf.getvalue().removesuffix("\n"))
        else:
            lefts = set(left)
            align = ["left" if c in lefts else "center" for c in columns]
            body = [[cell_text(r.get(c)) for c in columns] for r in rows]
            if not body:
                # tabulate draws nothing for an empty body; keep the header visible.
                body = []
            self.page(pretty_table(list(columns), body, align))

    def keyvalue(self, result_type: str, pairs: Sequence[tuple[str, Any]]) -> None:
        """Print one record as key/value lines; ``#`` keys are separators or section titles."""
        if self.format == "json":
            data = {
                normalise_key(k): json_value(v)
                for k, v in pairs
                if not k.startswith("#")
            }
            self.page(json.dumps({result_type: [data]}, indent=2, ensure_ascii=False))
            return
        if self.format == "csv":
            kept = [(k, v) for k, v in pairs if "#" not in k]
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow([normalise_key(k) for k, _ in kept])
            w.writerow([text_value(v) for _, v in kept])
            self.page(buf.getvalue().removesuffix("\n"))
            return
        body: list[list[str]] = []
        for key, value in pairs:
            if key.startswith("#"):
                title = key.lstrip("#").strip()
                body.append([title, ""] if title else ["", ""])
            else:
                body.append([f"{key}:", cell_text(value)])
        self.page(
            tabulate(
                body,
                tablefmt="pretty",
                colalign=("right", "left"),
                disable_numparse=True,
            )
        )

    def filters(self, pairs: Sequence[tuple[str, Any]]) -> None:
        """Echo the filter values of a show_* command (table mode only, as upstream)."""
        if self.format != "table":
            return
        self.write(RULER)
        for label, value in pairs:
            self.write(f"# {label}: {cell_text(value)}")
        self.write(RULER)

    # -- messages --------------------------------------------------------------------
    def done(self, msg: str) -> None:
        # The manual (the user promise) spells it "[Done]".
        if self.interactive:
            self.write()
        self.write(f"[Done] {msg}")

    def unchanged(self, msg: str) -> None:
        # [Done] promises a change; when the values given are the current ones, say so.
        if self.interactive:
            self.write()
        self.write(f"[Nothing changed] {msg}")

    def error(self, msg: str) -> None:
        self.write(f"[ERROR]: {printable(msg)}")

    def warning(self, msg: str) -> None:
        self.write(f"[WARNING]: {printable(msg)}")

    def info(self, msg: str) -> None:
        self.write(msg)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_size(stream: TextIO) -> os.terminal_size:
    """The size of the terminal ``stream`` writes to, as the terminal says it (psql asks
    the same way); LINES/COLUMNS of the environment are often stale or inherited."""
    try:
        return os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size()
