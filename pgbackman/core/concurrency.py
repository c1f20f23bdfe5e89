"""How many dumps may run at once (pure rules): the node's and the backup server's
``max_parallel_backups`` (validated by core/validate.max_parallel_backups and SQL
``validate_max_parallel_backups``) turned into a number of slots (infra/slots.py).
"""

from __future__ import annotations

AUTO_PER_CPU = 2  # server "auto": dumps are mostly CPU (compression) with network waits
NODE_DEFAULT = "4"  # as sql/schema/03_default_config.sql
SERVER_DEFAULT = "auto"


def slots(value: str | None, *, cpus: int, default: str) -> int | None:
    """The number of slots a value gives (None: no limit). A missing or unreadable value
    (a cache written by an older version, a hand-edited catalog) counts as ``default``."""
    for text in (value, default):
        v = (text or "").strip().lower()
        if v == "unlimited":
            return None
        if v == "auto":
            return AUTO_PER_CPU * max(1, cpus)
        if v.isascii() and v.isdigit() and int(v) >= 1:
            return int(v)
    return None
