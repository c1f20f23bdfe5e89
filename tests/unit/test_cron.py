"""core/cron.py: field validation, quoting, cron's % rules, whole-file rendering."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from pgbackman.core.cron import (
    CronJob,
    CronRenderError,
    CrontabContext,
    cron_unescape,
    parse_job_lines,
    quote_token,
    render_command,
    render_crontab,
    same_content,
    valid_cron_file_name,
    validate_schedule,
)

HOSTILE = "we'ird db; $(touch /tmp/P) host=evil %x\\z"


def ctx(**kw: str) -> CrontabContext:
    base = {
        "file_path": "/etc/cron.d/pgsql_node_3",
        "node_fqdn": "db1.example.org",
        "server_fqdn": "backup01.example.org",
        "os_user": "pgbackman",
        "dump_program": "/usr/bin/pgbackman_dump",
        "config_file": "/etc/pgbackman/pgbackman.conf",
        "mailto": "dba@example.org",
    }
    base.update(kw)
    return CrontabContext(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [
        ["0", "1", "*", "*", "*"],
        ["*/5", "1-3", "*", "*", "mon-fri"],
        ["0,15,30", "01", "1", "jan", "7"],
        ["41", "01", "*", "*", "*"],
    ],
)
def test_valid_schedules(fields: list[str]) -> None:
    assert validate_schedule(fields) == fields


@pytest.mark.parametrize(
    "fields",
    [
        ["61", "1", "*", "*", "*"],
        ["0", "24", "*", "*", "*"],
        ["0", "1", "*", "*"],
        ["0 1", "*", "*", "*", "*"],
        ["@daily", "*", "*", "*", "*"],
        ["0", "1", "*", "*", "* root touch /tmp/x"],
        ["0\n* * * * * root id", "1", "*", "*", "*"],
        ["", "1", "*", "*", "*"],
        ["*/0", "1", "*", "*", "*"],
    ],
)
def test_invalid_schedules(fields: list[str]) -> None:
    with pytest.raises(CronRenderError):
        validate_schedule(fields)


def test_percent_is_escaped_and_unescaped_like_cron() -> None:
    q = quote_token("/srv/50%off/pgbackman.conf")
    assert "\\%" in q
    command, stdin = cron_unescape(q)
    assert stdin is None
    assert shlex.split(command) == ["/srv/50%off/pgbackman.conf"]


def test_cron_unescape_splits_at_unescaped_percent() -> None:
    assert cron_unescape("echo a%b%c") == ("echo a", "b\nc")
    assert cron_unescape("echo a\\%b") == ("echo a%b", None)
    assert cron_unescape("echo a\\b") == ("echo a\\b", None)


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b", "a\\b"])
def test_tokens_with_control_chars_or_backslashes_are_refused(bad: str) -> None:
    with pytest.raises(CronRenderError):
        quote_token(bad)


def test_job_line_is_ids_only_and_parses_back() -> None:
    res = render_crontab(
        ctx(), [CronJob(12, "41", "01", "*", "*", "*")], "2026-01-01 00:00:00"
    )
    jobs = parse_job_lines(res.text)
    assert jobs == [
        (
            ["41", "01", "*", "*", "*"],
            "pgbackman",
            [
                "/usr/bin/pgbackman_dump",
                "--config",
                "/etc/pgbackman/pgbackman.conf",
                "--def-id",
                "12",
            ],
        )
    ]
    assert res.lines == 1 and not res.skipped


def test_hostile_paths_are_quoted_and_run_nothing(
    tmp_path: pytest.TempPathFactory,
) -> None:
    marker = f"{tmp_path}/P"
    evil = f"/opt/we'ird dir; $(touch {marker}) 50%off/pgbackman_dump"
    res = render_crontab(
        ctx(dump_program=evil), [CronJob(1, "0", "1", "*", "*", "*")], "now"
    )
    (_fields, _user, argv) = parse_job_lines(res.text)[0]
    assert argv[0] == evil
    line = next(ln for ln in res.text.splitlines() if ln.startswith("0 1 "))
    command, stdin = cron_unescape(line.split(None, 6)[6])
    assert stdin is None
    # What /bin/sh does with it: looks for one (missing) program, runs nothing else.
    out = subprocess.run(
        ["/bin/sh", "-c", command], capture_output=True, text=True, check=False
    )
    assert out.returncode == 127, out.stderr
    assert not (tmp_path / "P").exists()  # type: ignore[operator]


def test_bad_definition_is_skipped_not_fatal() -> None:
    jobs = [CronJob(1, "61", "1", "*", "*", "*"), CronJob(2, "5", "1", "*", "*", "*")]
    res = render_crontab(ctx(), jobs, "now")
    assert res.lines == 1
    assert [d for d, _ in res.skipped] == [1]
    assert [a[-1] for _f, _u, a in parse_job_lines(res.text)] == ["2"]


def test_bad_user_skips_every_line_but_keeps_header() -> None:
    res = render_crontab(
        ctx(os_user="root x"), [CronJob(1, "5", "1", "*", "*", "*")], "now"
    )
    assert res.lines == 0 and len(res.skipped) == 1
    assert "SHELL=/bin/sh" in res.text


def test_header_and_stopped_node() -> None:
    res = render_crontab(ctx(), [], "2026-01-01 00:00:00")
    lines = res.text.splitlines()
    assert lines[0] == "# File: /etc/cron.d/pgsql_node_3"
    assert "# for the PgSQL node db1.example.org" in lines
    assert "# in the backup server backup01.example.org" in lines
    assert "SHELL=/bin/sh" in lines and "MAILTO=dba@example.org" in lines
    assert parse_job_lines(res.text) == []


def test_hostile_mailto_and_fqdn_cannot_add_lines() -> None:
    res = render_crontab(
        ctx(mailto="x\n* * * * * root id", node_fqdn="a\n* * * * * root id"), [], "now"
    )
    assert parse_job_lines(res.text) == []
    assert 'MAILTO=""' in res.text


def test_no_config_file_means_no_config_option() -> None:
    res = render_crontab(
        ctx(config_file=""), [CronJob(7, "5", "1", "*", "*", "*")], "now"
    )
    assert parse_job_lines(res.text)[0][2] == [
        "/usr/bin/pgbackman_dump",
        "--def-id",
        "7",
    ]


def test_same_content_ignores_generated_line() -> None:
    a = render_crontab(ctx(), [CronJob(1, "5", "1", "*", "*", "*")], "2026-01-01").text
    b = render_crontab(ctx(), [CronJob(1, "5", "1", "*", "*", "*")], "2026-02-02").text
    c = render_crontab(ctx(), [CronJob(2, "5", "1", "*", "*", "*")], "2026-02-02").text
    assert same_content(a, b) and not same_content(a, c) and not same_content(None, a)


@pytest.mark.parametrize(
    "name,ok",
    [
        ("pgsql_node_1", True),
        ("node-2", True),
        ("pgsql_node_1.bak", False),
        (".hidden", False),
        ("a b", False),
        ("", False),
    ],
)
def test_cron_file_names(name: str, ok: bool) -> None:
    assert valid_cron_file_name(name) is ok


def test_render_command_quotes_every_token() -> None:
    assert render_command(["/usr/bin/x", "--def-id", "3"]) == "/usr/bin/x --def-id 3"
    assert render_command(["/a b/x"]) == "'/a b/x'"
    with pytest.raises(CronRenderError):
        render_command([])
    assert HOSTILE  # used by the integration tests
