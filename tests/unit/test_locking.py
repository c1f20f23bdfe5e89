"""infra/locking.py: per-job flock (no PostgreSQL)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pgbackman.errors import LockBusyError
from pgbackman.infra.locking import JobLock


def test_second_locker_is_refused_and_lock_is_reusable(tmp_path: Path) -> None:
    a = JobLock.for_job(tmp_path, 5, None)
    b = JobLock.for_job(tmp_path, 5, None)
    other = JobLock.for_job(tmp_path, 6, None)
    with a:
        assert a.held
        with pytest.raises(LockBusyError, match="busy"):
            b.acquire()
        with other:  # another job is independent
            assert other.held
        assert a.holder_pid() == os.getpid()
    assert not a.held
    with b:
        assert b.held
    assert stat.S_IMODE((tmp_path / ".backup-def5.lock").stat().st_mode) == 0o600


def test_lock_released_when_holder_is_killed(tmp_path: Path) -> None:
    code = (
        "import sys,time; from pgbackman.infra.locking import JobLock; "
        f"JobLock({str(tmp_path / 'x.lock')!r}).acquire(); print('ok', flush=True); time.sleep(60)"
    )
    p = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )
    try:
        assert p.stdout is not None and p.stdout.readline().strip() == "ok"
        with pytest.raises(LockBusyError):
            JobLock(tmp_path / "x.lock").acquire()
    finally:
        p.kill()
        p.wait()
        if p.stdout is not None:
            p.stdout.close()
    with JobLock(tmp_path / "x.lock") as lk:
        assert lk.held
