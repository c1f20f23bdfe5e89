"""Validation of values typed by users: names, ports, codes, statuses, intervals, cron ranges.

Pure functions (no I/O). Each returns the normalised value or raises
:class:`~pgbackman.errors.UserInputError` with a one-line message naming the field, so that a
command refuses bad input *before* it writes anything. The catalog checks again (FKs, casts,
CHECK constraints); these checks exist to give a clear message first.
"""

from __future__ import annotations

import re

from pgbackman.core.text import undecodable
from pgbackman.errors import ExtraParameterError, UserInputError

SERVER_STATUSES = ("RUNNING", "STOPPED")
BACKUP_CODES = ("FULL", "SCHEMA", "DATA", "CLUSTER", "RDS")
JOB_STATUSES = ("ACTIVE", "STOPPED")
OUTPUT_FORMATS = ("table", "csv", "json")

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_HOST_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

# Units PostgreSQL's interval input accepts (singular, plural and abbreviations), with their
# length as PostgreSQL compares intervals (a month is 30 days, a day 24 hours): the schema's
# retention_interval_ok() compares that way, so :func:`interval_seconds` does too.
_MONTH = 30 * 86400.0
_UNIT_SECONDS: dict[str, float] = {
    **dict.fromkeys(("microsecond", "microseconds", "us", "usec", "usecs"), 1e-6),
    **dict.fromkeys(("millisecond", "milliseconds", "ms", "msec", "msecs"), 1e-3),
    **dict.fromkeys(("second", "seconds", "s", "sec", "secs"), 1.0),
    **dict.fromkeys(("minute", "minutes", "m", "min", "mins"), 60.0),
    **dict.fromkeys(("hour", "hours", "h", "hr", "hrs"), 3600.0),
    **dict.fromkeys(("day", "days", "d"), 86400.0),
    **dict.fromkeys(("week", "weeks", "w"), 7 * 86400.0),
    **dict.fromkeys(("month", "months", "mon", "mons"), _MONTH),
    **dict.fromkeys(("year", "years", "y", "yr", "yrs"), 12 * _MONTH),
    **dict.fromkeys(("decade", "decades"), 120 * _MONTH),
    **dict.fromkeys(("century", "centuries"), 1200 * _MONTH),
    **dict.fromkeys(("millennium", "millennia"), 12000 * _MONTH),
}
_INTERVAL_UNITS = tuple(_UNIT_SECONDS)
_NUM = r"\d+(?:\.\d+)?"
_UNIT = "|".join(sorted(_INTERVAL_UNITS, key=len, reverse=True))
_QUANTITY = rf"{_NUM}\s*(?:{_UNIT})"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
_INTERVAL_RE = re.compile(
    rf"^@?\s*(?:{_QUANTITY})(?:\s+(?:{_QUANTITY}))*(?:\s+{_CLOCK})?$|^{_CLOCK}$",
    re.IGNORECASE,
)
_ISO_INTERVAL_RE = re.compile(
    r"^P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$"
)


# PostgreSQL's integer and bigint: ids and counts beyond them can never exist in the catalog.
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
MAX_REDUNDANCY = 999999  # the catalog's check on retention_redundancy (6 digits)
_DIGITS_RE = re.compile(r"[0-9]+")


def no_control_chars(field: str, value: str) -> str:
    """Refuse newlines, NULs and other control characters (they break cron lines and logs),
    and bytes that are not UTF-8 (they cannot be stored in the catalog)."""
    bad = undecodable(value)
    if bad is not None:
        raise UserInputError(f"{field} is not valid UTF-8 (byte {bad})")
    if _CONTROL_RE.search(value):
        raise UserInputError(
            f"{field} contains control characters, which are not allowed"
        )
    return value


def required(field: str, value: str) -> str:
    value = no_control_chars(field, value.strip())
    if not value:
        raise UserInputError(f"{field} cannot be empty")
    return value


def hostname(value: str, field: str = "Hostname") -> str:
    """A host name or domain (lower-cased): dot-separated labels of letters, digits, '-'."""
    value = required(field, value).lower()
    labels = value.split(".")
    if len(value) > 253 or not all(_HOST_LABEL_RE.match(lbl) for lbl in labels):
        raise UserInputError(f"{field} [{value}] is not a valid host/domain name")
    return value


def domain_of(fqdn: str) -> str | None:
    """The domain of a host's FQDN (``backup01.example.net`` -> ``example.net``); None when
    the name holds no usable domain (``localhost``, ``vm``, ``vm.localdomain``)."""
    _, dot, domain = fqdn.strip().lower().partition(".")
    if not dot or domain in ("", "localdomain", "local", "localhost"):
        return None
    if all(label.isdigit() for label in fqdn.split(".")):
        return None  # an IPv4 address, not a name
    try:
        return hostname(domain, "Domain")
    except UserInputError:
        return None


def split_fqdn_port(value: str) -> tuple[str, int | None]:
    """``host.domain`` or ``host.domain:port`` -> (fqdn, port or None)."""
    fqdn, sep, port_text = value.strip().rpartition(":")
    if not sep:
        return value.strip().lower(), None
    return fqdn.lower(), port(port_text)


def port(value: str | int, field: str = "Port") -> int:
    text = str(value).strip()
    if not _DIGITS_RE.fullmatch(text):
        raise UserInputError(
            f"{field} value should be an INTEGER between 1 and 65535: [{text}]"
        )
    number = int(text)
    if not 1 <= number <= 65535:
        raise UserInputError(f"{field} value should be between 1 and 65535: [{text}]")
    return number


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    v = no_control_chars(field, value.strip()).upper()
    if v not in allowed:
        raise UserInputError(
            f"{field} [{value.strip()}] is not valid; use one of {', '.join(allowed)}"
        )
    return v


def server_status(value: str, field: str = "Status") -> str:
    return _choice(field, value, SERVER_STATUSES)


def backup_code(value: str, field: str = "Backup code") -> str:
    return _choice(field, value, BACKUP_CODES)


def job_status(value: str, field: str = "Job status") -> str:
    return _choice(field, value, JOB_STATUSES)


def boolean(value: str, field: str = "Encryption") -> bool:
    v = value.strip().lower()
    if v in ("true", "t", "yes", "y", "on", "1"):
        return True
    if v in ("false", "f", "no", "n", "off", "0"):
        return False
    raise UserInputError(f"{field} [{value.strip()}] is not valid; use true or false")


def on_off(value: str, field: str) -> bool:
    """A session switch: on/off (true/false, yes/no, 1/0 too)."""
    v = value.strip().lower()
    if v in ("on", "true", "yes", "1"):
        return True
    if v in ("off", "false", "no", "0"):
        return False
    raise UserInputError(f"{field} [{value.strip()}] is not valid; use on or off")


MAX_RETENTION_SECONDS = 100 * 12 * _MONTH  # 100 years, as retention_interval_ok()


def _interval_text(value: str, field: str) -> str:
    """The normalised text of an interval PostgreSQL accepts (``7 days``, ``P1D``, ...)."""
    v = " ".join(no_control_chars(field, value).split()).lower()
    if not v or not (_INTERVAL_RE.match(v) or _ISO_INTERVAL_RE.match(v.upper())):
        raise UserInputError(
            f"{field} [{value.strip()}] is not a valid interval (e.g. '7 days', '2 weeks', '1 month')"
        )
    return v


def interval(value: str, field: str = "Retention period") -> str:
    """A retention interval (``7 days``, ``1 week 2 days``, ``P1D``, ``12:00:00``): more than
    0 and at most 100 years, like the catalog's retention_interval_ok()."""
    v = _interval_text(value, field)
    if not 0 < interval_seconds(v) <= MAX_RETENTION_SECONDS:
        raise UserInputError(
            f"{field} [{value.strip()}] is out of range: it must be more than 0 and at most "
            "100 years"
        )
    return v


def duration(value: str, field: str = "Interval") -> str:
    """An interval that may be 0 (e.g. stale_backup_grace), at most 100 years."""
    v = _interval_text(value, field)
    if not 0 <= interval_seconds(v) <= MAX_RETENTION_SECONDS:
        raise UserInputError(
            f"{field} [{value.strip()}] is out of range: it must be from 0 to 100 years"
        )
    return v


_QUANTITY_RE = re.compile(rf"({_NUM})\s*({_UNIT})(?![a-z])", re.IGNORECASE)
_ISO_PART_RE = re.compile(r"(\d+(?:\.\d+)?)([YMWDHS])")


def interval_seconds(value: str) -> float:
    """Seconds of an interval PostgreSQL accepts, counted as PostgreSQL compares intervals
    (a month is 30 days, a year 12 months): the catalog's checks (retention_interval_ok(),
    backup_timeout's range) compare that way."""
    v = _interval_text(value, "Interval")
    if _ISO_INTERVAL_RE.match(v.upper()):
        date, _, time = v.upper()[1:].partition("T")
        units = {"Y": 12 * _MONTH, "M": _MONTH, "W": 7 * 86400.0, "D": 86400.0}
        total = sum(float(n) * units[u] for n, u in _ISO_PART_RE.findall(date))
        tunits = {"H": 3600.0, "M": 60.0, "S": 1.0}
        return total + sum(float(n) * tunits[u] for n, u in _ISO_PART_RE.findall(time))
    total = 0.0
    clock = re.search(_CLOCK + "$", v)
    if clock and (clock.start() == 0 or v[clock.start() - 1] == " "):
        parts = [float(x) for x in clock.group(0).split(":")]
        total += parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)
        v = v[: clock.start()]
    for number, unit in _QUANTITY_RE.findall(v):
        total += float(number) * _UNIT_SECONDS[unit.lower()]
    return total


MAX_BACKUP_TIMEOUT = 365 * 86400


def backup_timeout(value: str, field: str = "Backup timeout") -> str:
    """The node's backup_timeout: an interval from 1 second to 365 days."""
    v = _interval_text(value, field)
    if not 1 <= interval_seconds(v) <= MAX_BACKUP_TIMEOUT:
        raise UserInputError(
            f"{field} [{value.strip()}] must be from 1 second to 365 days"
        )
    return v


MIN_DRILL_INTERVAL = 3600
MAX_DRILL_INTERVAL = 3650 * 86400


def drill_interval(value: str, field: str = "Drill interval") -> str:
    """How often a restore drill runs: an interval from 1 hour to 3650 days (as the
    catalog's check_restore_drill_interval())."""
    v = interval(value, field)
    if not MIN_DRILL_INTERVAL <= interval_seconds(v) <= MAX_DRILL_INTERVAL:
        raise UserInputError(
            f"{field} [{value.strip()}] must be from 1 hour to 3650 days"
        )
    return v


def min_free_disk_space(value: str, field: str = "min_free_disk_space") -> str:
    """A backup server's min_free_disk_space: ``10%`` or a size such as ``50 GB``."""
    from pgbackman.core.diskusage import parse_min_free

    v = " ".join(no_control_chars(field, value).split())
    parse_min_free(v, field)
    return v


MAX_PARALLEL_BACKUPS = 10000


def max_parallel_backups(
    value: str, field: str = "Max parallel backups", allow_auto: bool = False
) -> str:
    """A max_parallel_backups value: 1..10000, ``unlimited``, or (backup servers only)
    ``auto``; the same rule as SQL ``validate_max_parallel_backups``."""
    v = value.strip().lower()
    if v == "unlimited" or (v == "auto" and allow_auto):
        return v
    if not _DIGITS_RE.fullmatch(v) or not 1 <= int(v) <= MAX_PARALLEL_BACKUPS:
        auto = ", auto" if allow_auto else ""
        raise UserInputError(
            f"{field} [{value.strip()}] must be a number from 1 to "
            f"{MAX_PARALLEL_BACKUPS}{auto}, or unlimited"
        )
    return str(int(v))


def server_max_parallel_backups(value: str, field: str = "Max parallel backups") -> str:
    return max_parallel_backups(value, field, allow_auto=True)


def redundancy(value: str | int, field: str = "Retention redundancy") -> int:
    text = str(value).strip()
    if not _DIGITS_RE.fullmatch(text) or not 1 <= int(text) <= MAX_REDUNDANCY:
        raise UserInputError(
            f"{field} [{text}] must be an integer between 1 and {MAX_REDUNDANCY}"
        )
    return int(text)


def number(value: str, field: str, maximum: int = BIGINT_MAX) -> int | None:
    """An id typed by the user: ASCII digits -> int (UserInputError when it is larger than
    any id the catalog can hold); None when ``value`` is not a number (e.g. an FQDN)."""
    text = value.strip()
    if not _DIGITS_RE.fullmatch(text):
        return None
    n = int(text)
    if n > maximum:
        raise UserInputError(f"{field} [{text}] is out of range (at most {maximum})")
    return n


def _range(field: str, value: str, high: int) -> str:
    v = value.strip()
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", v)
    if not m or not (0 <= int(m.group(1)) <= int(m.group(2)) <= high):
        raise UserInputError(
            f"{field} [{v}] is not valid; use 'a-b' with 0 <= a <= b <= {high}"
        )
    return f"{int(m.group(1)):02d}-{int(m.group(2)):02d}"


def minutes_interval(value: str, field: str = "Minutes cron interval") -> str:
    return _range(field, value, 59)


def hours_interval(value: str, field: str = "Hours cron interval") -> str:
    return _range(field, value, 23)


def absolute_path(value: str, field: str = "Directory") -> str:
    v = required(field, value)
    if not v.startswith("/"):
        raise UserInputError(f"{field} [{v}] must be an absolute path")
    return v


def email(value: str, field: str = "Logs e-mail") -> str:
    v = required(field, value)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", v):
        raise UserInputError(f"{field} [{v}] is not a valid e-mail address")
    return v


def role_name(value: str, field: str = "Admin user") -> str:
    return required(field, value)


def output_format(value: str) -> str:
    v = value.strip().lower() or "table"
    if v not in OUTPUT_FORMATS:
        raise UserInputError(
            f"Output format [{value.strip()}] is not valid; use table, csv or json"
        )
    return v


def extra_parameters(label: str, value: str, tool: str) -> str:
    """Extra pg_dump / pg_dumpall / pg_restore parameters, checked at registration with the
    same allowlist the job programs apply at run time (a definition that can never run is
    refused now, not failed at 02:00)."""
    from pgbackman.core.argv import tokenize_extra

    text = no_control_chars(label, value)
    try:
        tokenize_extra(text, tool)
    except ExtraParameterError as exc:
        raise UserInputError(f"{label} [{text}]: {exc}") from None
    return text


def backup_extra_parameters(label: str, value: str, backup_code: str) -> str:
    """Extra parameters of a backup definition or snapshot: the allowlist of the program the
    code runs, and no option that would leave a FULL/DATA/RDS backup without any table
    data (core/tablefilter.dataless_reason; the catalog refuses them too)."""
    from pgbackman.core.argv import tokenize_extra
    from pgbackman.core.tablefilter import dataless_reason

    text = extra_parameters(label, value, dump_tool(backup_code))
    reason = dataless_reason(backup_code, tokenize_extra(text, dump_tool(backup_code)))
    if reason:
        raise UserInputError(f"{label} [{text}]: {reason}")
    return text


def dump_tool(backup_code: str) -> str:
    """The program a backup code runs (its extra parameters are checked against it)."""
    return "pg_dumpall" if backup_code.upper() == "CLUSTER" else "pg_dump"


def offsite_retention_period(
    value: str, field: str = "Offsite retention period"
) -> str:
    """How long offsite copies are kept: a retention interval like the others (more than 0
    and at most 100 years; the catalog refuses the same values)."""
    return interval(value, field)


def offsite_url(value: str, field: str = "Offsite URL") -> str:
    """``s3://bucket/prefix`` (core/offsite.parse_url), or '' = offsite copies off."""
    from pgbackman.core.offsite import parse_url

    v = no_control_chars(field, value).strip()
    if not v:
        return ""
    try:
        return str(parse_url(v))
    except ValueError as exc:
        raise UserInputError(f"{field} [{v}]: {exc}") from None


def offsite_endpoint_url(value: str, field: str = "Offsite endpoint URL") -> str:
    """``http(s)://host[:port]`` of an S3-compatible service without credentials, or ''."""
    from pgbackman.core.offsite import check_endpoint

    v = no_control_chars(field, value).strip()
    try:
        return check_endpoint(v)
    except ValueError as exc:
        raise UserInputError(f"{field} [{v}]: {exc}") from None
