"""What one maintenance pass did: per-task counts, errors and warnings, and the dry-run
listing.

Errors are failures of the pass's own work (a task aborted, a file that could not be
deleted or was refused, a catalog change refused, a pending result not ingested): they make
``--once`` exit 1. Warnings are trouble outside its work that it reports and goes past (a
PgSQL node that cannot be reached, a job running, a backup found missing or corrupt, which is
also an alert): they do not change the exit status."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("pgbackman_maintenance")

Printer = Callable[[str], None]


def stdout_printer(line: str) -> None:
    """Dry-run lines go to stdout, one per line, flushed (they may be piped to a script)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class TaskStats:
    deleted: int = 0  # catalog rows / queue rows / definitions acted on
    files: int = 0  # files or directories removed
    skipped: int = 0  # busy (job lock held): retried next pass, not an error
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PassReport:
    """Counts of one pass; ``failed`` is True when any task logged an error."""

    dry_run: bool = False
    tasks: dict[str, TaskStats] = field(default_factory=dict)
    would: list[str] = field(default_factory=list)  # dry-run lines

    def task(self, name: str) -> TaskStats:
        return self.tasks.setdefault(name, TaskStats())

    def error(self, task: str, message: str) -> None:
        """Record and log one error; the pass goes on with the next item."""
        self.task(task).errors.append(message)
        log.error("[%s] %s", task, message)

    def warning(self, task: str, message: str) -> None:
        """Record and log trouble the pass reports and goes past (not a failure of its own)."""
        self.task(task).warnings.append(message)
        log.warning("[%s] %s", task, message)

    @property
    def failed(self) -> bool:
        return any(t.errors for t in self.tasks.values())

    @property
    def error_count(self) -> int:
        return sum(len(t.errors) for t in self.tasks.values())

    def summary(self) -> str:
        parts = []
        for name, t in self.tasks.items():
            bits = [f"{t.deleted} done", f"{t.files} files"]
            if t.skipped:
                bits.append(f"{t.skipped} busy")
            if t.warnings:
                bits.append(f"{len(t.warnings)} warnings")
            if t.errors:
                bits.append(f"{len(t.errors)} errors")
            parts.append(f"{name}: {', '.join(bits)}")
        return "; ".join(parts) or "nothing to do"
