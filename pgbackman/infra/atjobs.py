"""Queueing one-off jobs (snapshots and restores) with the real ``at``.

The time is converted in Python from the catalog's timestamptz to the backup server's LOCAL
time zone, which is the zone ``at -t`` interprets (upstream rendered it in the catalog
session's zone: wrong whenever the two differ). A time in the past runs now. The job text is
one ``exec`` line of shell-quoted tokens holding only program paths and numeric ids, so
nothing read from the catalog can be interpreted by the shell that ``atd`` starts.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pgbackman.errors import AtJobError
from pgbackman.infra import proc

log = logging.getLogger(__name__)

AT_PROGRAM = "at"
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_JOB_RE = re.compile(r"\bjob\s+(\d+)\b")


def at_timespec(
    at_time: _dt.datetime, now: _dt.datetime | None = None, tz: _dt.tzinfo | None = None
) -> list[str]:
    """The ``at`` arguments that run a job at ``at_time`` (an aware datetime).

    ``tz`` is the zone ``at`` will interpret the time in (default: this process's local
    zone). ``at`` has minute granularity: a time with seconds is rounded UP to the next
    minute so a job never starts before the time asked for.
    """
    if at_time.tzinfo is None:
        raise ValueError("at_time must be timezone-aware")
    now = now or _dt.datetime.now(_dt.UTC)
    if at_time <= now:
        return ["now"]
    local = at_time.astimezone(tz) if tz is not None else at_time.astimezone()
    if local.second or local.microsecond:
        local = (local + _dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
    return ["-t", local.strftime("%Y%m%d%H%M")]


def job_text(argv: Sequence[str], run_as: str | None = None) -> str:
    """Shell text for ``at``: one exec line, every token quoted.

    ``run_as``: when set (we run as root and the jobs must not), the command is started
    through ``runuser -u <user> --``.
    """
    full = list(argv)
    if run_as:
        full = ["runuser", "-u", run_as, "--", *full]
    for tok in full:
        if _CONTROL_RE.search(str(tok)):
            raise AtJobError(
                f"Control characters are not allowed in an at job: {tok!r}"
            )
    return "exec " + " ".join(shlex.quote(str(t)) for t in full) + "\n"


def run_as_user(backup_user: str) -> str | None:
    """The user to switch to in at jobs: only when we are root and it is another user."""
    if os.geteuid() == 0 and backup_user and backup_user != "root":
        return backup_user
    return None


@dataclass(frozen=True)
class QueuedJob:
    job_number: int | None
    timespec: list[str]
    output: str


def queue_job(
    argv: Sequence[str],
    at_time: _dt.datetime,
    *,
    run_as: str | None = None,
    env: dict[str, Any] | None = None,
    timeout: float = 30,
) -> QueuedJob:
    """Queue ``argv`` to run at ``at_time`` with ``at``; raise AtJobError on failure."""
    at_bin = shutil.which(AT_PROGRAM)
    if at_bin is None:
        raise AtJobError("The 'at' program is not installed (install the 'at' package)")
    spec = at_timespec(at_time)
    text = job_text(argv, run_as)
    # at records the submitter's working directory and fails the job when it is gone later.
    res = proc.run([at_bin, *spec], input=text, timeout=timeout, cwd="/", env=env)
    output = (res.stdout + res.stderr).strip()
    if not res.ok:
        raise AtJobError(f"at {' '.join(spec)} failed ({res.describe()}): {output}")
    m = _JOB_RE.search(output)
    return QueuedJob(int(m.group(1)) if m else None, spec, output)
