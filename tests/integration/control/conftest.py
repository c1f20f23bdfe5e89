"""Fixtures for the pgbackman_control tests (helpers live in ctl_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ctl_helpers import Daemon, FakeJobs, make_fake_jobs

from support.pgbenv import PgbEnv


@pytest.fixture
def fake_jobs(pgb_env: PgbEnv) -> FakeJobs:
    """pgbackman_dump/pgbackman_restore of the backup server replaced by argv recorders."""
    return make_fake_jobs(pgb_env)


@pytest.fixture
def control(pgb_env: PgbEnv, fake_jobs: FakeJobs) -> Iterator[Daemon]:
    """A running ``pgbackman_control --foreground``; must stop cleanly (exit 0) on SIGTERM."""
    d = Daemon(pgb_env).start()
    yield d
    rc = d.stop()
    assert rc == 0, (d.stderr_path.read_text(), d.log()[-3000:])
    assert "Traceback" not in d.stderr_path.read_text()
