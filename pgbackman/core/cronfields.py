"""Cron schedule fields of backup definitions: validation with real cron syntax, random picks.

Owns the five schedule fields a backup definition carries (minute, hour, day of month, month,
day of week) as the user types them, and the "random minute/hour inside the node's interval"
rule upstream uses to spread backups over time. This is the one Python owner of the rule "is
this a cron field cron(8) accepts": the shell checks what the user types with it, and
``core/cron.py`` checks every catalog schedule with it again before writing a cron.d line.
The catalog's own copy of the rule is the SQL function ``validate_cron_field`` (table CHECK
constraints and the registration functions), for writes that do not come through Python.

The accepted grammar is the one of Debian's Vixie cron (crontab(5)): a comma list of items,
each ``*``, ``n`` or ``a-b``, where ``*`` and ``a-b`` may carry a ``/step``; months and weekdays
also accept three-letter English names (a lone name is kept, names inside
ranges or lists are stored as numbers). A single number with a step (``5/10``) is a cronie
extension that Vixie cron rejects, so it is refused here too: the crontab must load on the
backup server whatever cron it runs.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from pgbackman.errors import UserInputError


@dataclass(frozen=True)
class CronField:
    """One of the five schedule fields: its user-facing label and value range."""

    key: str
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i (for names only)


MONTH_NAMES = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

MINUTE = CronField("minutes_cron", "Minutes cron", 0, 59)
HOUR = CronField("hours_cron", "Hours cron", 0, 23)
DAY_MONTH = CronField("day_month_cron", "Day-month cron", 1, 31)
MONTH = CronField("month_cron", "Month cron", 1, 12, MONTH_NAMES)
# 7 is Sunday as well as 0 in every cron implementation.
WEEKDAY = CronField("weekday_cron", "Weekday cron", 0, 7, WEEKDAY_NAMES)

FIELDS: tuple[CronField, ...] = (MINUTE, HOUR, DAY_MONTH, MONTH, WEEKDAY)
FIELDS_BY_KEY = {f.key: f for f in FIELDS}

_ITEM_RE = re.compile(
    r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$"
)
_INTERVAL_RE = re.compile(r"^\s*(\d{1,2})\s*-\s*(\d{1,2})\s*$")


def _bad(field: CronField, value: str, why: str) -> UserInputError:
    # Control characters are shown escaped so that the error stays one line.
    shown = value if value.isprintable() else repr(value)[1:-1]
    return UserInputError(f"Invalid {field.label} value [{shown}]: {why}")


def _number(field: CronField, text: str, whole: str) -> int:
    """One value of ``field``: digits or (month/weekday) a three-letter name."""
    if text.isascii() and text.isdigit():
        n = int(text)
    elif field.names and text.lower() in field.names:
        n = field.low + field.names.index(text.lower())
    else:
        allowed = f"a number {field.low}-{field.high}"
        if field.names:
            allowed += " or a name (" + ",".join(field.names) + ")"
        raise _bad(field, whole, f"[{text}] is not {allowed}")
    if not field.low <= n <= field.high:
        raise _bad(field, whole, f"{n} is out of range {field.low}-{field.high}")
    return n


def validate_field(field: CronField, value: str, *, normalize: bool = True) -> str:
    """Return ``value`` (stripped) if cron accepts it for ``field``, else raise UserInputError.

    With ``normalize`` (what the catalog stores), month and weekday names inside ranges and
    lists become numbers; without it the value is returned as typed (what a crontab shows).
    """
    text = value.strip()
    if not text:
        raise _bad(field, value, "empty value")
    if field.names and text.lower() in field.names:
        return text  # a lone name is kept as typed (the catalog accepts it as a whole field)
    if any(c.isspace() for c in text):
        raise _bad(field, value, "spaces are not allowed inside a cron field")
    for item in text.split(","):
        m = _ITEM_RE.match(item)
        if not m:
            raise _bad(field, value, f"[{item}] is not valid cron syntax")
        rng, step = m.group("range"), m.group("step")
        if rng != "*":
            first, sep, last = rng.partition("-")
            a = _number(field, first, value)
            if sep:
                b = _number(field, last, value)
                if a > b:
                    raise _bad(field, value, f"range {rng} is reversed")
            elif step is not None:
                raise _bad(
                    field, value, f"[{item}]: a step needs '*' or a range (a-b/step)"
                )
        if step is not None and not 1 <= int(step) <= field.high - field.low + 1:
            raise _bad(field, value, f"step /{step} is out of range")
    if field.names and normalize:
        # Names inside ranges/lists are stored as numbers: same meaning, and the catalog's
        # validate_cron_field only knows names as a whole field.
        return ",".join(_numeric_item(field, item) for item in text.split(","))
    return text


def _numeric_item(field: CronField, item: str) -> str:
    rng, _, step = item.partition("/")
    if rng != "*":
        rng = "-".join(str(_number(field, part, item)) for part in rng.split("-"))
    return f"{rng}/{step}" if step else rng


def validate_schedule(
    minutes: str,
    hours: str,
    day_month: str,
    month: str,
    weekday: str,
    *,
    normalize: bool = True,
) -> tuple[str, str, str, str, str]:
    """Validate the five fields in crontab order; returns them stripped (see validate_field)."""
    return (
        validate_field(MINUTE, minutes, normalize=normalize),
        validate_field(HOUR, hours, normalize=normalize),
        validate_field(DAY_MONTH, day_month, normalize=normalize),
        validate_field(MONTH, month, normalize=normalize),
        validate_field(WEEKDAY, weekday, normalize=normalize),
    )


def parse_interval(
    interval: str, low: int, high: int, label: str = "interval"
) -> tuple[int, int]:
    """``'01-59'`` -> (1, 59); the node-config form of backup_minutes/hours_interval."""
    m = _INTERVAL_RE.match(interval or "")
    if not m:
        raise UserInputError(
            f"Invalid {label} [{interval}]: expected a-b with {low}<=a<=b<={high}"
        )
    a, b = int(m.group(1)), int(m.group(2))
    if not (low <= a <= b <= high):
        raise UserInputError(
            f"Invalid {label} [{interval}]: expected a-b with {low}<=a<=b<={high}"
        )
    return a, b


def random_minute(interval: str, rng: random.Random | None = None) -> str:
    """A zero-padded minute picked uniformly inside ``interval`` (e.g. ``'01-59'``)."""
    a, b = parse_interval(interval, 0, 59, "minutes interval")
    return f"{(rng or random).randint(a, b):02d}"


def random_hour(interval: str, rng: random.Random | None = None) -> str:
    """A zero-padded hour picked uniformly inside ``interval`` (e.g. ``'01-06'``)."""
    a, b = parse_interval(interval, 0, 23, "hours interval")
    return f"{(rng or random).randint(a, b):02d}"
