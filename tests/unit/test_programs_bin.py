"""bin/: every program runs from a checkout, and is the console script of the same name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pgbackman.programs import module_for

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "bin"
PROGRAMS = sorted(p.name for p in BIN.iterdir() if not p.name.startswith("_"))


def test_naming_rule() -> None:
    assert module_for("pgbackman") == "pgbackman.programs.cli"
    assert module_for("pgbackman_dump") == "pgbackman.programs.dump"
    assert module_for("pgbackman_upgrade_catalog") == (
        "pgbackman.programs.upgrade_catalog"
    )
    for bad in ("pg_dump", "pgbackman_", "pgbackman_x.y", "pgbackman_../x"):
        with pytest.raises(ValueError):
            module_for(bad)


@pytest.mark.parametrize("program", PROGRAMS)
def test_program_runs_from_the_checkout(program: str, tmp_path: Path) -> None:
    path = BIN / program
    assert path.stat().st_mode & 0o111, f"{path} is not executable"
    # From another directory, with the interpreter only (no console script involved).
    res = subprocess.run(
        [sys.executable, str(path), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"usage: {program} ")


def test_every_program_is_a_console_script() -> None:
    installed = Path(sys.executable).parent
    for program in PROGRAMS:
        assert (installed / program).exists(), f"{program} is not installed"
    assert set(PROGRAMS) >= {
        "pgbackman",
        "pgbackman_control",
        "pgbackman_dump",
        "pgbackman_restore",
        "pgbackman_maintenance",
    }
