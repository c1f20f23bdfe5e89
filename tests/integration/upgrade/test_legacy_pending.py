"""Results PgBackMan 1.x spooled while its catalog was down ('::' lines in
pending_updates/) cannot be ingested by this version: pgbackman_maintenance says so at every
pass (log, exit status 1) instead of ignoring them."""

from __future__ import annotations

import subprocess
from typing import Any


def test_maintenance_reports_1x_pending_files(pgb_env: Any) -> None:
    pending = pgb_env.root / "pending_updates"
    pending.mkdir(mode=0o700)
    line = "::".join(["1", "4321", str(pgb_env.server_id), "1", "app1"] + ["x"] * 20)
    f = pending / "backup_jobs_pending_log_updates_nodeid_1_4321.log"
    f.write_text(line + "\n")
    res = subprocess.run(
        ["pgbackman_maintenance", "--once"],
        env=pgb_env.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1
    log = (pgb_env.tmp / "pgbackman.log").read_text()
    assert "1 pending result file(s) of PgBackMan 1.x" in log
    assert f.name in log and "Migrating from PgBackMan 1.x" in log
    assert f.exists()  # never deleted: it is the only record of that run
