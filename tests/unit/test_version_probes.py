"""``pg_dump --version`` asked early (infra/proc.Probe, run/clients.VersionProbes): the
answer is the program's, and every probe is killed if needed and reaped on every path (no
zombie, no pipe left open), also when the run fails or is interrupted meanwhile.

The programs are small scripts in temporary bin directories (run as argv, no shell)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pgbackman.errors import DumpError
from pgbackman.infra import proc
from pgbackman.run import clients


class Interrupted(BaseException):
    """What a signal handler raising would throw into the waiting code."""


def children() -> set[int]:
    """Processes whose parent is this one, running or zombie (not yet reaped)."""
    me, out = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        if int(text.rsplit(")", 1)[1].split()[1]) == me:
            out.add(int(entry))
    return out


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def tool(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def bindir(base: Path, version: str | None) -> Path:
    """pg_dump and pg_restore of ``version``; None: a pg_dump that never answers (exec:
    the process killed is the one started, no grandchild)."""
    d = base / "bin"
    count = base / "runs"
    answer = (
        f'echo x >> "{count}"; echo "pg_dump (PostgreSQL) {version}"'
        if version is not None
        else "exec sleep 60"
    )
    tool(d / "pg_dump", answer)
    tool(d / "pg_restore", f'echo "pg_restore (PostgreSQL) {version}"')
    return d


@contextmanager
def nothing_left_behind() -> Iterator[None]:
    before, fds = children(), open_fds()
    yield
    assert children() - before == set()
    assert open_fds() == fds


@contextmanager
def interrupt_after(seconds: float) -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise Interrupted

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_probe_result_is_the_programs_answer_and_it_is_reaped(tmp_path: Path) -> None:
    d = bindir(tmp_path, "16.4")
    with nothing_left_behind():
        probe = proc.Probe([str(d / "pg_dump"), "--version"])
        res = probe.result()
        assert res.ok and res.stdout.strip() == "pg_dump (PostgreSQL) 16.4"
        assert not probe.running and probe.result() is res
        probe.discard()  # after the result: nothing to do


def test_discarded_probe_is_killed_and_reaped(tmp_path: Path) -> None:
    d = bindir(tmp_path, None)
    with nothing_left_behind():
        before = children()
        probe = proc.Probe([str(d / "pg_dump"), "--version"])
        (pid,) = children() - before
        probe.discard()
        assert pid not in children() and not probe.running
        with pytest.raises(RuntimeError, match="discarded"):
            probe.result()


def test_probe_that_does_not_answer_in_time_is_killed(tmp_path: Path) -> None:
    d = bindir(tmp_path, None)
    with nothing_left_behind():
        res = proc.Probe([str(d / "pg_dump"), "--version"], timeout=0.3).result()
        assert res.signal == signal.SIGKILL and "timed out" in res.stderr


def test_probe_interrupted_while_waiting_is_reaped(tmp_path: Path) -> None:
    d = bindir(tmp_path, None)
    with nothing_left_behind():
        probe = proc.Probe([str(d / "pg_dump"), "--version"])
        with interrupt_after(0.2), pytest.raises(Interrupted):
            probe.result()
        assert not probe.running


def test_find_bindir_uses_the_probes_answer(tmp_path: Path) -> None:
    good = bindir(tmp_path / "16", "16.4")
    # A candidate find_bindir never looks at: killed when the block ends.
    hung = bindir(tmp_path / "15", None)
    config = {"pgsql_bin_16": str(good), "pgsql_bin_15": f" {hung} "}
    with nothing_left_behind():
        with clients.VersionProbes(config, "pg_dump") as probes:
            found = clients.find_bindir(
                (16,), config, ["pg_dump", "pg_restore"], exact=True, probes=probes
            )
        assert found == (str(good), (16,), "16.4")
    assert (tmp_path / "16" / "runs").read_text() == "x\n"  # asked once, not again


def test_probes_are_reaped_when_the_run_fails_meanwhile(tmp_path: Path) -> None:
    config = {
        "pgsql_bin_16": str(bindir(tmp_path / "16", "16.4")),
        "pgsql_bin_15": str(bindir(tmp_path / "15", None)),
    }
    with nothing_left_behind():
        with pytest.raises(DumpError), clients.VersionProbes(config, "pg_dump"):
            raise DumpError("Database 'db' to backup not available")
        with interrupt_after(0.2), pytest.raises(Interrupted):
            with clients.VersionProbes(config, "pg_dump") as probes:
                probes.result(config["pgsql_bin_15"])  # waits for the hung one


def test_probes_started_before_an_interruption_are_reaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {
        "pgsql_bin_16": str(bindir(tmp_path / "16", None)),
        "pgsql_bin_15": str(bindir(tmp_path / "15", None)),
    }
    started: list[proc.Probe] = []
    real = proc.Probe

    def second_one_interrupted(argv: list[str], **kw: Any) -> proc.Probe:
        if started:
            raise Interrupted
        started.append(real(argv, **kw))
        return started[-1]

    monkeypatch.setattr(proc, "Probe", second_one_interrupted)
    with nothing_left_behind():
        with pytest.raises(Interrupted):
            clients.VersionProbes(config, "pg_dump")
        assert len(started) == 1 and not started[0].running
