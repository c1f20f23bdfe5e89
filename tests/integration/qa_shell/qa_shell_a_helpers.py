"""Helpers for the QA shell tests (module name unique across test dirs on purpose)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

PGBACKMAN = str(Path(sys.executable).parent / "pgbackman")


def run_shell(
    pgb_env: Any, command: str, output: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``pgbackman [-o fmt] -C command`` as a real subprocess against the test catalog."""
    env = dict(pgb_env.env)
    home = Path(pgb_env.tmp) / "qa_home"
    home.mkdir(exist_ok=True)
    env["HOME"] = str(home)
    env["TERM"] = "dumb"
    argv = [PGBACKMAN] + (["-o", output] if output else []) + ["-C", command]
    return subprocess.run(
        argv,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
