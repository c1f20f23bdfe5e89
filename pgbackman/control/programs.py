"""The programs pgbackman_control names in cron and at lines: local ones, never the catalog's.

Default: ``pgbackman_dump`` / ``pgbackman_restore`` installed beside the running
pgbackman_control (the directory of the started script, else the virtualenv's or Python's
bin directory), so a pip or virtualenv install works without configuration. The local
configuration file may name others (``[backup_server] pgbackman_dump``, ``pgbackman_restore``).
The catalog's parameters of the same names are kept for upstream compatibility and ignored:
whoever writes the catalog must not choose what root's cron runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pgbackman.config import Config
from pgbackman.errors import ConfigError

PROGRAMS = ("pgbackman_dump", "pgbackman_restore")


def _launch_dirs() -> list[Path]:
    """Where the running program was installed (computed before any daemon chdir)."""
    dirs: list[Path] = []
    if sys.argv and sys.argv[0]:
        dirs.append(Path(sys.argv[0]).resolve().parent)
    # Not resolved: a virtualenv's bin/python is a symlink to the system interpreter.
    dirs.append(Path(sys.executable).parent)
    return list(dict.fromkeys(dirs))


LAUNCH_DIRS = _launch_dirs()


def job_program(cfg: Config, name: str) -> str:
    """Absolute path of ``name`` (one of :data:`PROGRAMS`) for cron and at lines."""
    configured: str = getattr(cfg.backup_server, name)
    if configured:
        return configured
    for d in LAUNCH_DIRS:
        candidate = d / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ConfigError(
        f"{name} is not installed beside pgbackman_control "
        f"({', '.join(str(d) for d in LAUNCH_DIRS)}); name it in [backup_server] {name} "
        "of the configuration file"
    )
