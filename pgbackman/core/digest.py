"""Alert messages: upstream's template variables, one message per alert, digests (pure logic).

pgbackman_alerts sends, per cycle, ONE message per recipient holding every unsent alert for
that recipient (a night of 500 failed dumps is one mail, not 500), and one message for the
chat/webhook targets. Each alert is rendered with the alerts template (upstream 1.1's file:
a first line ``Subject: ...``, then the body) through ``string.Template.safe_substitute``,
so upstream templates keep working and an unknown ``$name`` stays as written.

Template variables (upstream's, plus ``$alert_description``): see :data:`VARIABLES`.
"""

from __future__ import annotations

import datetime as dt
import string
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

VARIABLES = (
    "alert_id",
    "registered",
    "alert_type",
    "alert_description",
    "ref_id",
    "bck_id",
    "backup_server_id",
    "backup_server_fqdn",
    "pgsql_node_id",
    "pgsql_node_fqdn",
    "dbname",
    "execution_status",
    "error_message",
    "sendto",
    "alert_sent",
    "date",
    "pgbackman_version",
)

# The shipped template (etc/pgbackman_alerts.template holds the same text): used when the
# configured file cannot be read, so an alert is never held back by a missing template.
DEFAULT_TEMPLATE = """\
Subject: [pgbackman_alerts] $alert_type: $alert_description [DBname: $dbname] [Node: $pgsql_node_fqdn]

PgBackMan alert
---------------
AlertID:          $alert_id
Registered:       $registered
Alert type:       $alert_type ($alert_description)
Backup server:    [$backup_server_id] $backup_server_fqdn
PgSQL node:       [$pgsql_node_id] $pgsql_node_fqdn
DBname:           $dbname
$alert_type ID: $ref_id
BckID:            $bck_id
Execution status: $execution_status

Reason:
$error_message

Details: pgbackman -C "show_alerts $backup_server_fqdn all"
         pgbackman -C "show_backup_details $bck_id" (when a BckID is given)

Date: $date
"""

RULER = "-" * 72


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S%z")
    return str(value)


def variables(
    row: Mapping[str, Any], date: dt.datetime, version: str
) -> dict[str, str]:
    """The template variables of one alert (a ``show_alerts`` row); None becomes ''."""
    values = {name: _text(row.get(name)) for name in VARIABLES}
    values["date"] = _text(date)
    values["pgbackman_version"] = version
    return values


@dataclass(frozen=True)
class Rendered:
    """One alert through the template: its subject line and its body."""

    subject: str
    body: str


def render(template: str, values: Mapping[str, str]) -> Rendered:
    """Fill the template; a first line ``Subject: ...`` becomes the subject."""
    first, _, rest = template.partition("\n")
    if first.lower().startswith("subject:"):
        # Split before filling: a value with a newline must not move text between the two.
        subject = string.Template(first[len("subject:") :]).safe_substitute(values)
        body = string.Template(rest.lstrip("\n")).safe_substitute(values)
    else:
        subject = f"[pgbackman_alerts] {values.get('alert_type', '')} {values.get('dbname', '')}"
        body = string.Template(template).safe_substitute(values)
    # A header is one line: values (error messages) may hold newlines.
    return Rendered(" ".join(subject.split()), body)


@dataclass(frozen=True)
class Message:
    """What one delivery sends: to whom, subject, body, and which alerts it carries."""

    recipient: str | None
    subject: str
    body: str
    alert_ids: tuple[int, ...]


def _one_line(row: Mapping[str, Any], subject: str) -> str:
    when = _text(row.get("registered"))
    return f"#{row['alert_id']} {when} {subject}"


def digest(
    template: str,
    rows: Sequence[Mapping[str, Any]],
    recipient: str | None,
    server_fqdn: str,
    date: dt.datetime,
    version: str,
    max_items: int = 100,
) -> Message:
    """One message for ``rows`` (oldest first): the alert itself when there is one, else a
    digest: a summary line per alert, then the first ``max_items`` alerts in full."""
    if not rows:
        raise ValueError("a digest needs at least one alert")
    rendered = [render(template, variables(r, date, version)) for r in rows]
    ids = tuple(int(r["alert_id"]) for r in rows)
    if len(rows) == 1:
        return Message(recipient, rendered[0].subject, rendered[0].body, ids)
    counts = Counter(str(r["alert_type"]) for r in rows)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    subject = f"[pgbackman_alerts] {len(rows)} alerts on {server_fqdn}: {kinds}"
    lines = [
        f"{len(rows)} PgBackMan alerts on backup server {server_fqdn} ({kinds}).",
        "",
        *(_one_line(r, m.subject) for r, m in zip(rows, rendered, strict=True)),
    ]
    for _r, m in list(zip(rows, rendered, strict=True))[:max_items]:
        lines += ["", RULER, m.subject, "", m.body.rstrip("\n")]
    if len(rows) > max_items:
        lines += [
            "",
            RULER,
            f"... {len(rows) - max_items} more alerts are listed above only;"
            f' see pgbackman -C "show_alerts {server_fqdn} all".',
        ]
    return Message(recipient, subject, "\n".join(lines) + "\n", ids)


def summary(message: Message, limit: int = 50) -> str:
    """A short body for chat targets: the summary lines only (at most ``limit``)."""
    lines = message.body.splitlines()
    if len(message.alert_ids) == 1:
        return message.body
    head = lines[: 2 + min(limit, len(message.alert_ids))]
    if len(message.alert_ids) > limit:
        head.append(f"... and {len(message.alert_ids) - limit} more")
    return "\n".join(head) + "\n"
