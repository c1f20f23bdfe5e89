"""Alert messages: upstream's template variables, one message per alert, digests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pgbackman.core import digest

UTC = dt.timezone.utc
WHEN = dt.datetime(2030, 5, 6, 3, 4, 5, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _row(alert_id: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "alert_id": alert_id,
        "registered": WHEN,
        "alert_type": "Backup-def",
        "alert_description": "A scheduled backup failed",
        "ref_id": 7,
        "bck_id": 100 + alert_id,
        "backup_server_id": 1,
        "backup_server_fqdn": "backup01.example.org",
        "pgsql_node_id": 3,
        "pgsql_node_fqdn": "pg03.example.org",
        "dbname": "sales",
        "execution_status": "ERROR",
        "error_message": f"pg_dump failed {alert_id}\nsecond line",
        "sendto": "dba@example.org",
        "alert_sent": False,
    }
    row.update(over)
    return row


def test_shipped_template_file_is_the_built_in_one() -> None:
    shipped = (ROOT / "etc" / "pgbackman_alerts.template").read_text(encoding="utf-8")
    assert shipped == digest.DEFAULT_TEMPLATE


def test_every_upstream_variable_is_filled() -> None:
    upstream = (
        "alert_id registered alert_type ref_id bck_id backup_server_id "
        "backup_server_fqdn pgsql_node_id pgsql_node_fqdn dbname execution_status "
        "error_message sendto alert_sent date pgbackman_version"
    ).split()
    template = "Subject: x\n" + " ".join(f"[${v}]" for v in upstream)
    body = digest.render(template, digest.variables(_row(1), WHEN, "2.0.0")).body
    assert "$" not in body
    assert (
        "[2030-05-06 03:04:05+0000]" in body and "[false]" in body and "[2.0.0]" in body
    )


def test_upstream_template_keeps_working_and_unknown_names_stay() -> None:
    upstream = (
        "Subject: [pgbackman_alerts] Last backup [BckID: $bck_id] for "
        "[DBname: $dbname] failed.\n\nAlertID: $alert_id $no_such_variable\n"
    )
    out = digest.render(upstream, digest.variables(_row(1), WHEN, "2.0.0"))
    assert (
        out.subject
        == "[pgbackman_alerts] Last backup [BckID: 101] for [DBname: sales] failed."
    )
    assert out.body == "AlertID: 1 $no_such_variable\n"


def test_subject_is_one_line_whatever_the_values_hold() -> None:
    out = digest.render(
        "Subject: $error_message\nbody", digest.variables(_row(1), WHEN, "v")
    )
    assert out.subject == "pg_dump failed 1 second line"


def test_none_values_are_empty_and_no_subject_line_gets_a_default() -> None:
    values = digest.variables(_row(1, bck_id=None, pgsql_node_fqdn=None), WHEN, "v")
    assert values["bck_id"] == "" and values["pgsql_node_fqdn"] == ""
    out = digest.render("Body only $dbname", values)
    assert (
        out.subject == "[pgbackman_alerts] Backup-def sales"
        and out.body == "Body only sales"
    )


def test_one_alert_is_the_alert_itself() -> None:
    m = digest.digest(digest.DEFAULT_TEMPLATE, [_row(1)], "dba@x", "srv", WHEN, "v")
    assert m.alert_ids == (1,) and m.recipient == "dba@x"
    assert m.subject.startswith(
        "[pgbackman_alerts] Backup-def: A scheduled backup failed"
    )
    assert "pg_dump failed 1\nsecond line" in m.body


def test_many_alerts_are_one_digest_with_a_line_each_and_the_first_in_full() -> None:
    rows = [_row(i) for i in range(1, 51)]
    rows[-1] = _row(50, alert_type="Backup-stale", alert_description="stale")
    m = digest.digest(digest.DEFAULT_TEMPLATE, rows, "dba@x", "srv", WHEN, "v", 5)
    assert m.alert_ids == tuple(range(1, 51))
    assert (
        m.subject
        == "[pgbackman_alerts] 50 alerts on srv: 49 Backup-def, 1 Backup-stale"
    )
    lines = m.body.splitlines()
    assert sum(1 for line in lines if line.startswith("#")) == 50
    assert m.body.count("Reason:") == 5
    assert "45 more alerts are listed above only" in m.body
    short = digest.summary(m, limit=10)
    assert (
        short.count("\n#") == 10 and "and 40 more" in short and "Reason:" not in short
    )


def test_digest_needs_alerts() -> None:
    with pytest.raises(ValueError):
        digest.digest(digest.DEFAULT_TEMPLATE, [], None, "srv", WHEN, "v")
