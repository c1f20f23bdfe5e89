"""core/argv.py: extra-parameter tokenising/allowlist and the argv builders."""

from __future__ import annotations

import pytest

from pgbackman.core import argv as A


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", []),
        ("-j 4", ["-j", "4"]),
        ("-j4 --no-owner", ["-j4", "--no-owner"]),
        (
            "--exclude-table=Big_Table -T 'a b'",
            ["--exclude-table=Big_Table", "-T", "a b"],
        ),
        ("-n App -N 'x;y'", ["-n", "App", "-N", "x;y"]),
        ("-Z 5 --lock-wait-timeout=10s", ["-Z", "5", "--lock-wait-timeout=10s"]),
        ("--exclude-table='$(id)'", ["--exclude-table=$(id)"]),
    ],
)
def test_tokenize_accepts(text: str, expected: list[str]) -> None:
    assert A.tokenize_extra(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "--exclude-table=x; touch X",  # 'touch' becomes a positional: refused
        "`id`",
        "$(id)",
        "-f /etc/passwd",
        "--file=/etc/passwd",
        "--dbname=host=evil",
        "-d evil",
        "-h evil",
        "--host=evil",
        "-p 1",
        "-U root",
        "-W",
        "--password",
        "-Fc",
        "--format=p",
        "-s",
        "--data-only",
        "--unknown-option",
        "-j",  # value missing
        "--no-owner=1",
        "-Ox",  # combined short flags
        "'unterminated",
        "-n a\nb",
        "somedb",
    ],
)
def test_tokenize_rejects(text: str) -> None:
    with pytest.raises(A.ExtraParameterError):
        A.tokenize_extra(text)


def test_tokenize_pg_dumpall_table() -> None:
    assert A.tokenize_extra(
        "--exclude-database=tmp* --no-role-passwords", "pg_dumpall"
    ) == ["--exclude-database=tmp*", "--no-role-passwords"]
    with pytest.raises(A.ExtraParameterError):
        A.tokenize_extra("-j 4", "pg_dumpall")
    with pytest.raises(A.ExtraParameterError):
        A.tokenize_extra("-g", "pg_dumpall")


def test_pg_dump_argv_per_code() -> None:
    full = A.pg_dump_argv("/usr/lib/postgresql/15/bin/", "FULL", "/x/out", ["-j", "2"])
    assert full[0] == "/usr/lib/postgresql/15/bin/pg_dump"
    assert (
        "--format=directory" in full
        and "--file=/x/out" in full
        and "--no-password" in full
    )
    assert full[-2:] == ["-j", "2"] and "-b" in full
    assert "--schema-only" in A.pg_dump_argv("/b", "SCHEMA", "/o")
    data = A.pg_dump_argv("/b", "DATA", "/o")
    assert "--data-only" in data and "-b" in data
    assert "-b" in A.pg_dump_argv("/b", "RDS", "/o")
    with pytest.raises(ValueError):
        A.pg_dump_argv("/b", "CLUSTER", "/o")
    # the database is never in argv (it travels as PGDATABASE)
    for a in full:
        assert "dbname" not in a


def test_other_argv() -> None:
    assert A.pg_dumpall_argv("/b", ["--no-sync"]) == [
        "/b/pg_dumpall",
        "--no-password",
        "--verbose",
        "--no-sync",
    ]
    assert A.pg_restore_check_argv("/b", "/d") == [
        "/b/pg_restore",
        "--file=/dev/null",
        "/d",
    ]
    env = A.libpq_env("h", 5432, "u", "we'ird db; $(touch X)", "pgbackman_dump")
    assert env["PGDATABASE"] == "we'ird db; $(touch X)" and "PGPASSWORD" not in env
