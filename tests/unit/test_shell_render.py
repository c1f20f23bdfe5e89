"""shell/render.py: table, csv and json output of rows and key/value records."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json

import pytest

from pgbackman.errors import UserInputError
from pgbackman.shell.render import Output, normalise_key, text_value

COLS = ["DefID", "ID.", "Backup server", "ID", "DBname", "Retention"]
ROWS = [
    {
        "DefID": 1,
        "ID.": 2,
        "Backup server": "b.example.org",
        "ID": 3,
        "DBname": 'we\'ird, "db"',
        "Retention": dt.timedelta(days=7),
    },
    {
        "DefID": 10,
        "ID.": None,
        "Backup server": "x",
        "ID": decimal.Decimal(4),
        "DBname": "d",
        "Retention": None,
    },
]


def render(fmt: str, func: str = "table", *args: object) -> str:
    buf = io.StringIO()
    out = Output(fmt, stream=buf)
    getattr(out, func)(*args)
    return buf.getvalue()


def test_normalise_key() -> None:
    assert normalise_key("ID.") == "backup_server_id"
    assert normalise_key("ID") == "pgsql_node_id"
    assert normalise_key("Backup server") == "backup_server"
    assert normalise_key("SrvID / FQDN") == "srvid___fqdn"
    assert normalise_key("Pg_dump release") == "pg_dump_release"


def test_json_types() -> None:
    data = json.loads(render("json", "table", "backup_definitions", COLS, ROWS))
    rows = data["backup_definitions"]
    assert rows[0] == {
        "defid": 1,
        "backup_server_id": 2,
        "backup_server": "b.example.org",
        "pgsql_node_id": 3,
        "dbname": 'we\'ird, "db"',
        "retention": "7 days 00:00:00",
    }
    assert rows[1]["backup_server_id"] is None and rows[1]["pgsql_node_id"] == 4
    ts = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    kv = json.loads(
        render(
            "json",
            "keyvalue",
            "backup_details",
            [("BckID", 5), ("#", ""), ("Started", ts), ("Role list", ["a", "b"])],
        )
    )
    assert kv == {
        "backup_details": [
            {
                "bckid": 5,
                "started": "2026-01-02T03:04:05+00:00",
                "role_list": ["a", "b"],
            }
        ]
    }


def test_csv_quoting() -> None:
    text = render("csv", "table", "backup_definitions", COLS, ROWS)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == [
        "defid",
        "backup_server_id",
        "backup_server",
        "pgsql_node_id",
        "dbname",
        "retention",
    ]
    assert parsed[1][4] == 'we\'ird, "db"'
    assert parsed[2][1] == ""
    kv = render(
        "csv", "keyvalue", "stats", [("A b", 1), ("#", ""), ("#TITLE", ""), ("C", None)]
    )
    assert kv.splitlines() == ["a_b,c", "1,"]


def test_table_looks() -> None:
    text = render("table", "table", "backup_definitions", COLS, ROWS, ("DBname",))
    lines = text.splitlines()
    assert lines[0].startswith("+") and "| DefID |" in lines[1]
    assert 'we\'ird, "db"' in text
    kv = render("table", "keyvalue", "x", [("Key", "v"), ("#", ""), ("#SECTION", "")])
    assert "Key: | v" in kv and "SECTION" in kv and "#" not in kv


def test_messages_and_format() -> None:
    assert (
        render("table", "done", "Backup server deleted.")
        == "[Done] Backup server deleted.\n"
    )
    assert render("table", "error", "boom") == "[ERROR]: boom\n"
    assert render("table", "warning", "careful") == "[WARNING]: careful\n"
    assert render("json", "filters", [("DBname", "x")]) == ""
    assert "# DBname: x" in render("table", "filters", [("DBname", "x")])
    with pytest.raises(UserInputError):
        Output("yaml")


def test_text_value() -> None:
    assert text_value(None) == ""
    assert text_value(True) == "true"
    assert text_value(dt.timedelta(seconds=3725)) == "01:02:05"
    assert text_value(dt.timedelta(days=1, seconds=1)) == "1 day 00:00:01"
    assert text_value(["r1", "r2"]) == "r1, r2"
