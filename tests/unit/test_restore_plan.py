"""pgbackman.restore.plan: pure decisions of a restore (names, argv, policies, stream filter)."""

from __future__ import annotations

import pytest

from pgbackman.errors import RestoreError
from pgbackman.restore import plan


def test_temp_db_name_fits_63_bytes_and_keeps_the_suffix() -> None:
    assert plan.temp_db_name("app", 7) == "app_pgbackman_restore_7"
    long = "é" * 40  # 80 bytes
    name = plan.temp_db_name(long, 12345)
    assert len(name.encode()) <= 63 and name.endswith("_pgbackman_restore_12345")
    name.encode().decode("utf-8")  # never a cut UTF-8 character


def test_log_file_name_is_file_name_safe() -> None:
    name = plan.log_file_name("we'ird db/x", "127.0.0.1", "15", 3, "20260101T000000")
    assert "/" not in name and " " not in name and "'" not in name
    assert name.endswith("-v15-restoredef3-20260101T000000.log")
    assert plan.log_file_name("", "h", "15", 1, "T").startswith("CLUSTER-h-")


@pytest.mark.parametrize(
    "text,reason",
    [
        ("--create", "--create is not allowed"),
        ("-C", "-C is not allowed"),
        ("-d postgres", "-d is not allowed"),
        ("--dbname=x", "--dbname is not allowed"),
        ("-h evil", "-h is not allowed"),
        ("-f /tmp/out", "-f is not allowed"),
        ("-s", "schema-only"),
        ("--data-only", "data-only"),
        ("-j", "needs a value"),
        ("$(touch /tmp/x)", "not an option"),
        ("'unterminated", "cannot parse"),
    ],
)
def test_dangerous_extra_parameters_are_refused(text: str, reason: str) -> None:
    with pytest.raises(RestoreError, match="Invalid extra restore parameters") as exc:
        plan.tokenize_restore_extra(text)
    assert reason in str(exc.value)


def test_extra_parameters_are_tokenised_like_a_shell_without_one() -> None:
    assert plan.tokenize_restore_extra("-j 4 --no-owner -n 'My Schema'") == [
        "-j",
        "4",
        "--no-owner",
        "-n",
        "My Schema",
    ]
    assert plan.tokenize_restore_extra("") == []


def test_pg_restore_argv_full_and_schema() -> None:
    argv, notes = plan.pg_restore_argv(
        "/b/", "FULL", "we'ird db", "/d/x-DATABASE", ["-j", "2"]
    )
    assert (
        argv[0] == "/b/pg_restore"
        and "--exit-on-error" in argv
        and "--no-password" in argv
    )
    assert "--dbname=dbname='we\\'ird db'" in argv
    assert argv[-3:] == ["-j", "2", "/d/x-DATABASE"] and notes == []
    assert not any(
        a in argv for a in ("--data-only", "--single-transaction", "--no-owner")
    )


def test_pg_restore_argv_data_is_one_transaction_without_jobs() -> None:
    argv, notes = plan.pg_restore_argv(
        "/b", "DATA", "db", "/a", ["-j", "4", "--disable-triggers"]
    )
    assert "--data-only" in argv and "--single-transaction" in argv
    assert "-j" not in argv and "4" not in argv and "--disable-triggers" in argv
    assert notes and "-j" in notes[0]


def test_pg_restore_argv_rds_defaults_unless_told_otherwise() -> None:
    argv, _ = plan.pg_restore_argv("/b", "RDS", "db", "/a", [])
    assert "--no-owner" in argv and "--no-acl" in argv
    argv, _ = plan.pg_restore_argv("/b", "RDS", "db", "/a", ["--no-owner"])
    assert "--no-acl" not in argv


def test_pg_restore_argv_refuses_jobs_with_single_transaction() -> None:
    with pytest.raises(RestoreError):
        plan.pg_restore_argv("/b", "FULL", "db", "/a", ["-1", "-j", "2"])
    with pytest.raises(ValueError):
        plan.pg_restore_argv("/b", "CLUSTER", "db", "/a", [])


def test_psql_argv_stops_on_error_and_never_prompts() -> None:
    argv = plan.psql_argv("/b", [("target_db", "x y")], "/f.sql")
    assert argv[:5] == ["/b/psql", "-X", "-v", "ON_ERROR_STOP=1", "--no-password"]
    assert argv[-4:] == ["-v", "target_db=x y", "-f", "/f.sql"]
    assert plan.psql_argv("/b")[-2:] == ["-f", "-"]


@pytest.mark.parametrize(
    "backup,target,ok",
    [
        ("15", (15,), True),
        ("12", (18,), True),
        ("9.6", (10,), True),
        ("9_6", (9, 6), True),
        ("16", (15,), False),
        ("10", (9, 6), False),
    ],
)
def test_release_check(backup: str, target: tuple[int, ...], ok: bool) -> None:
    if ok:
        plan.check_release(backup, target)
    else:
        with pytest.raises(RestoreError, match="Backup pgsql release"):
            plan.check_release(backup, target)
    with pytest.raises(RestoreError):
        plan.check_release(None, (15,))


def test_roles_to_render_keeps_memberships_with_existing_roles() -> None:
    render, created = plan.roles_to_render(
        ["a", "b", "zz"], ["a", "b", "c", "g"], {"b", "g", "postgres"}
    )
    assert created == ["a"]  # b exists; zz is not in the backup
    assert render == ["a", "b", "g"]  # c is neither requested nor present: left out


def _run_filter(
    data: bytes, existing: set[str], size: int
) -> tuple[bytes, plan.ClusterStreamFilter]:
    f = plan.ClusterStreamFilter(existing)
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(f.filter(chunks)), f


@pytest.mark.parametrize("size", [1, 3, 7, 64, 10000])
def test_cluster_filter_skips_existing_roles_only_in_the_globals_section(
    size: int,
) -> None:
    data = (
        b"SET x = 1;\nCREATE ROLE postgres;\nALTER ROLE postgres WITH SUPERUSER;\n"
        b'CREATE ROLE "We""ird";\nCREATE ROLE newrole;\n\\connect template1\n'
        b"CREATE ROLE postgres;\nCOPY t FROM stdin;\nCREATE ROLE postgres;\n"
    )
    out, f = _run_filter(data, {"postgres", 'We"ird'}, size)
    lines = out.split(b"\n")
    assert lines[1].startswith(b"-- pgbackman_restore:") and lines[2].startswith(
        b"ALTER ROLE"
    )
    assert (
        lines[3].startswith(b"-- pgbackman_restore:")
        and lines[4] == b"CREATE ROLE newrole;"
    )
    # After the first \connect nothing is touched (table data could contain anything).
    assert out.endswith(
        b"\\connect template1\nCREATE ROLE postgres;\nCOPY t FROM stdin;\n"
        b"CREATE ROLE postgres;\n"
    )
    assert f.skipped == ["postgres", 'We"ird'] and f.created == ["newrole"]
    assert len(out) > len(data)


def test_cluster_filter_without_trailing_newline() -> None:
    out, f = _run_filter(b"CREATE ROLE postgres;", {"postgres"}, 5)
    assert out.startswith(b"-- pgbackman_restore:") and f.skipped == ["postgres"]
