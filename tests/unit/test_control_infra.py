"""infra/cronfile.py, infra/atjobs.py (time zones, job text) and infra/daemon.py (pidfile,
signal flags) without PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pgbackman.errors import CronFileError, PidFileError
from pgbackman.infra import atjobs, cronfile
from pgbackman.infra.daemon import PidFile, SignalFlags

UTC = dt.UTC


# -- cronfile -----------------------------------------------------------------------------
def header(path: Path) -> str:
    return f"# File: {path}\n# \n# Generated: x\n#\nSHELL=/bin/sh\n"


def test_install_is_atomic_0644_and_skips_identical(tmp_path: Path) -> None:
    target = tmp_path / "pgsql_node_1"
    os.umask(0o077)
    try:
        assert cronfile.install_crontab(
            target, header(target) + "0 1 * * * root /bin/true\n"
        )
    finally:
        os.umask(0o022)
    assert target.stat().st_mode & 0o7777 == 0o644
    before = target.stat().st_mtime_ns
    # Only the Generated: line differs -> not rewritten.
    text2 = header(target).replace("x", "y") + "0 1 * * * root /bin/true\n"
    assert not cronfile.install_crontab(target, text2)
    assert target.stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == ["pgsql_node_1"]  # no temp left


@pytest.mark.parametrize("name", ["pgsql_node_1.conf", "node 1", ".x"])
def test_install_refuses_names_cron_ignores(tmp_path: Path, name: str) -> None:
    with pytest.raises(CronFileError):
        cronfile.install_crontab(tmp_path / name, "# x\n")
    assert not (tmp_path / name).exists()


def test_install_refuses_empty_and_relative(tmp_path: Path) -> None:
    with pytest.raises(CronFileError):
        cronfile.install_crontab(tmp_path / "n1", "  \n")
    with pytest.raises(CronFileError):
        cronfile.install_crontab("relative_name", "# x\n")


def test_install_failure_keeps_old_file(tmp_path: Path) -> None:
    d = tmp_path / "ro"
    d.mkdir()
    target = d / "n1"
    cronfile.install_crontab(target, header(target) + "0 1 * * * root /bin/true\n")
    os.chmod(d, 0o500)
    try:
        if os.geteuid() == 0:
            # root ignores directory modes: simulate with a file in place of the directory
            bad = tmp_path / "notadir"
            bad.write_text("x")
            with pytest.raises(CronFileError):
                cronfile.install_crontab(bad / "n1", "# x\n")
        else:
            with pytest.raises(CronFileError):
                cronfile.install_crontab(
                    target, header(target) + "0 2 * * * root /bin/true\n"
                )
    finally:
        os.chmod(d, 0o700)
    assert "0 1 * * *" in target.read_text()


def test_remove_only_our_files(tmp_path: Path) -> None:
    ours = tmp_path / "n1"
    cronfile.install_crontab(ours, header(ours))
    foreign = tmp_path / "n2"
    foreign.write_text("0 1 * * * root important\n")
    assert cronfile.remove_crontab(ours) and not ours.exists()
    with pytest.raises(CronFileError):
        cronfile.remove_crontab(foreign)
    assert foreign.exists()
    assert not cronfile.remove_crontab(tmp_path / "n3")


# -- at jobs ------------------------------------------------------------------------------
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_past_time_runs_now() -> None:
    assert atjobs.at_timespec(NOW - dt.timedelta(hours=1), NOW) == ["now"]
    assert atjobs.at_timespec(NOW, NOW) == ["now"]


@pytest.mark.parametrize(
    "zone,expected",
    [
        ("UTC", "202603011530"),
        ("Europe/Oslo", "202603011630"),
        ("America/New_York", "202603011030"),
        ("Asia/Kolkata", "202603012100"),
    ],
)
def test_time_is_rendered_in_the_local_zone(zone: str, expected: str) -> None:
    at = dt.datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    assert atjobs.at_timespec(at, NOW, ZoneInfo(zone)) == ["-t", expected]


def test_seconds_round_up_to_next_minute() -> None:
    at = dt.datetime(2026, 3, 1, 15, 30, 10, tzinfo=UTC)
    assert atjobs.at_timespec(at, NOW, ZoneInfo("UTC")) == ["-t", "202603011531"]


def test_time_zone_of_the_process_is_used() -> None:
    code = (
        "import datetime as d; from pgbackman.infra.atjobs import at_timespec;"
        "u=d.timezone.utc;"
        "print(at_timespec(d.datetime(2026,7,1,15,30,tzinfo=u), d.datetime(2026,3,1,tzinfo=u))[1])"
    )
    env = dict(os.environ, TZ="Europe/Oslo")
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.stdout.strip() == "202607011730", out.stderr  # CEST = UTC+2 in July


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        atjobs.at_timespec(dt.datetime(2026, 1, 1), NOW)


def test_job_text_quotes_and_switches_user() -> None:
    text = atjobs.job_text(
        ["/opt/a b/pgbackman_dump", "--snapshot-id", "4"], run_as="pgbackman"
    )
    assert text.endswith("\n") and text.count("\n") == 1
    assert shlex.split(text) == [
        "exec",
        "runuser",
        "-u",
        "pgbackman",
        "--",
        "/opt/a b/pgbackman_dump",
        "--snapshot-id",
        "4",
    ]
    with pytest.raises(atjobs.AtJobError):
        atjobs.job_text(["/x\n/y"])


# -- daemon helpers -----------------------------------------------------------------------
def test_pidfile_refuses_second_instance_and_ignores_stale(tmp_path: Path) -> None:
    path = tmp_path / "run" / "control.pid"
    path.parent.mkdir()
    path.write_text("999999\n")  # stale: nobody holds the lock
    first = PidFile(path)
    first.acquire()
    assert path.read_text().strip() == str(os.getpid())
    assert path.stat().st_mode & 0o7777 == 0o644
    # A second process cannot take it (flock is per open file description).
    code = (
        "import sys; from pgbackman.errors import PidFileError\n"
        "from pgbackman.infra.daemon import PidFile\n"
        f"try:\n PidFile({str(path)!r}).acquire()\nexcept PidFileError as e:\n print('busy')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert out.stdout.strip() == "busy", out.stderr
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from pgbackman.infra.daemon import PidFile; PidFile({str(path)!r}).check()",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Another instance" in out.stderr
    first.release()
    assert not path.exists()
    PidFile(path).check()  # free again


def test_signal_flags_only_set_flags() -> None:
    flags = SignalFlags()
    old = {
        s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    try:
        flags.install()
        os.kill(os.getpid(), signal.SIGHUP)
        assert flags.reload_requested and not flags.stop_requested
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        assert flags.stop_requested and flags.stop_signal == signal.SIGTERM
        assert flags.sleep(10) is True  # returns at once once stopped
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def test_pidfile_error_is_a_pgbackman_error() -> None:
    from pgbackman.errors import PgBackManError

    assert issubclass(PidFileError, PgBackManError)


def test_sample_config_documents_every_key_with_its_default() -> None:
    import configparser
    import dataclasses

    from pgbackman.config import _SECTIONS, Config, parse_config_file

    sample = Path(__file__).resolve().parents[2] / "etc" / "pgbackman.conf"
    parser = configparser.RawConfigParser()
    parser.read(sample)
    for section, (_attr, klass) in _SECTIONS.items():
        keys = {f.name for f in dataclasses.fields(klass)}
        assert set(parser.options(section)) == keys, section
    cfg = parse_config_file(sample)
    assert dataclasses.replace(cfg, path=None) == Config()
