"""make quickstart / make quickstart-stop for real: two copies of the checkout run their
quickstarts side by side on this host and stop independently; each is a whole small system
(cron and atd running, its cluster, control, maintenance and alerts, its crontab file in
/etc/cron.d, a first backup), and quickstart-stop leaves no crontab file and no process of
its own behind.

Runs as root (the quickstart writes /etc/cron.d and starts cron); the copies share this
checkout's virtualenv (a symlink), so no package is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
COPY_SKIP = shutil.ignore_patterns(
    ".venv",
    ".git",
    "build",
    "dist",
    "*.egg-info",
    ".quickstart",
    "__pycache__",
    "bench",
)


def _require_root() -> None:
    if os.geteuid() != 0:
        message = "make quickstart runs as root"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def checkouts() -> Iterator[tuple[Path, Path]]:
    _require_root()
    # Under /tmp and traversable: the copies' clusters run as postgres.
    base = Path(tempfile.mkdtemp(prefix="pgbackman-quickstart-", dir="/tmp"))
    os.chmod(base, 0o755)
    copies = []
    for name in ("first", "second"):
        copy = base / name
        shutil.copytree(ROOT, copy, ignore=COPY_SKIP, symlinks=True)
        (copy / ".venv").symlink_to(ROOT / ".venv")
        copies.append(copy)
    try:
        yield copies[0], copies[1]
    finally:
        for copy in copies:
            make(copy, "quickstart-stop")
        shutil.rmtree(base, ignore_errors=True)


def make(checkout: Path, target: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGBACKMAN")}
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(checkout), target],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )


def state(checkout: Path) -> dict[str, str]:
    text = (checkout / ".quickstart" / "state").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def processes_of(checkout: Path) -> list[str]:
    """Command lines of the live processes that name this checkout (its daemons, its
    cluster's postmaster: ``postgres -D <checkout>/.quickstart/data``)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = " ".join(a.decode(errors="replace") for a in argv if a)
        if str(checkout) in line:
            found.append(line)
    return found


def crontab_files(checkout: Path) -> list[Path]:
    return sorted(Path("/etc/cron.d").glob(f"pgbackman_qs_{state(checkout)['id']}_*"))


def running(name: str) -> bool:
    return subprocess.run(["pgrep", "-x", name], capture_output=True).returncode == 0


def shell(checkout: Path, line: str) -> subprocess.CompletedProcess[str]:
    # The operator's configuration (pgbackman_role_rw); the backup server's programs use
    # .quickstart/pgbackman.conf (pgbackman_role_server).
    conf = checkout / ".quickstart" / "pgbackman-shell.conf"
    return subprocess.run(
        [
            str(checkout / ".venv" / "bin" / "pgbackman"),
            "--config",
            str(conf),
            "-C",
            line,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_two_checkouts_run_side_by_side_and_stop_independently(
    checkouts: tuple[Path, Path],
) -> None:
    first, second = checkouts
    res = make(first, "quickstart")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    qs = first / ".quickstart"
    # The last lines say where everything is and how to open the shell.
    assert res.stdout.rstrip().splitlines()[-5:] == [
        f"Config:  {qs}/pgbackman.conf (backup server, pgbackman_role_server)",
        f"         {qs}/pgbackman-shell.conf (shell, pgbackman_role_rw)",
        f"Logs:    {qs}/pgbackman.log (PostgreSQL: {qs}/postgresql.log)",
        f"Backups: {qs}/backups",
        f"Shell:   {first}/.venv/bin/pgbackman --config {qs}/pgbackman-shell.conf",
    ]
    assert running("cron") and running("atd")
    res = make(second, "quickstart")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr

    a, b = state(first), state(second)
    assert a["port"] != b["port"] and a["id"] != b["id"]
    assert a["data"].startswith(str(first)) and b["data"].startswith(str(second))
    for checkout in (first, second):
        (cron_file,) = crontab_files(checkout)
        line = [ln for ln in cron_file.read_text().splitlines() if "--def-id" in ln]
        assert len(line) == 1 and f"{checkout}/.quickstart/pgbackman.conf" in line[0]
        # control, maintenance, alerts and the cluster: this checkout's own
        procs = processes_of(checkout)
        for daemon in (
            "pgbackman_control",
            "pgbackman_maintenance",
            "pgbackman_alerts",
        ):
            assert any(daemon in p for p in procs), (daemon, procs)
        assert any(p.startswith(("postgres", "/usr/lib/postgresql")) for p in procs)
        # the first backup, in its own catalog
        cat = shell(checkout, "show_backup_catalog all all demo all all")
        assert cat.returncode == 0 and "SUCCEEDED" in cat.stdout, (
            cat.stdout + cat.stderr
        )
        assert list((checkout / ".quickstart" / "backups").glob("pgsql_node_*/dump/*"))

    # Twice is harmless: same port, same daemons, one definition.
    pids = sorted(processes_of(first))
    res = make(first, "quickstart")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    assert state(first) == a and sorted(processes_of(first)) == pids
    defs = shell(first, "show_backup_definitions all all all")
    assert defs.stdout.count("| demo ") == 1

    # Stopping the first leaves the second alone.
    res = make(first, "quickstart-stop")
    assert res.returncode == 0, res.stdout + res.stderr
    assert processes_of(first) == []
    assert crontab_files(first) == []
    assert len(crontab_files(second)) == 1
    assert len(processes_of(second)) >= 4
    assert shell(second, "show_pgsql_nodes").returncode == 0

    res = make(second, "quickstart-stop")
    assert res.returncode == 0, res.stdout + res.stderr
    assert processes_of(second) == [] and crontab_files(second) == []
    # Stopping again is harmless.
    assert make(second, "quickstart-stop").returncode == 0
