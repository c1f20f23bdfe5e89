"""Helpers shared by the shell-A tests (module name unique across test dirs on purpose)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

PGBACKMAN = str(Path(sys.executable).parent / "pgbackman")
PROMPT = r"\[pgbackman\]\$ "
BACKUP_SERVER_FQDN = "backup01.pgbackman.test"


def shell_env(pgb_env: Any) -> dict[str, str]:
    """pgb_env.env with HOME in the test's tmp dir (the history file lands there)."""
    env = dict(pgb_env.env)
    env["HOME"] = str(pgb_env.tmp / "home")
    Path(env["HOME"]).mkdir(exist_ok=True)
    env["TERM"] = "dumb"
    return env


def write_ini(path: Path, values: dict[str, dict[str, Any]]) -> None:
    lines: list[str] = []
    for section, kv in values.items():
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {v}" for k, v in kv.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
