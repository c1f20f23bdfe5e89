"""What the package installs besides the programs: the wheel built from a copy of the
checkout holds the manual pages (share/man, rendered by ``man -l``) and a bash completion
file for every program (share/bash-completion/completions)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SKIP = shutil.ignore_patterns(
    ".venv",
    ".git",
    "build",
    "dist",
    "*.egg-info",
    ".quickstart",
    "__pycache__",
    "bench",
)


@pytest.mark.slow
def test_wheel_installs_man_pages_and_completions(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "wheel"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    (wheel,) = (tmp_path / "wheel").glob("pgbackman-*.whl")
    with zipfile.ZipFile(wheel) as z:
        data = [n for n in z.namelist() if ".data/data/share/" in n]
        z.extractall(tmp_path / "unpacked", members=data)
    share = next((tmp_path / "unpacked").glob("*.data")) / "data" / "share"
    programs = sorted(
        p.name for p in (ROOT / "bin").iterdir() if not p.name.startswith("_")
    )
    pages = sorted(
        p.relative_to(share / "man").as_posix() for p in (share / "man").glob("man*/*")
    )
    assert pages == sorted(
        ["man1/pgbackman.1", "man5/pgbackman.conf.5"]
        + [f"man8/{p}.8" for p in programs if p != "pgbackman"]
    )
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    for page in pages:
        shown = subprocess.run(
            ["man", "-l", str(share / "man" / page)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert shown.returncode == 0 and shown.stderr == "", (page, shown.stderr)
        assert "SYNOPSIS" in shown.stdout, page
    completions = share / "bash-completion" / "completions"
    assert sorted(p.name for p in completions.iterdir()) == programs
    reference = (ROOT / "etc" / "bash-completion" / "pgbackman").read_bytes()
    assert all((completions / p).read_bytes() == reference for p in programs)
