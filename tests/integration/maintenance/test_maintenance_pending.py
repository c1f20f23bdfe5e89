"""Pending results spooled while the catalog was down: ingested exactly once by a pass."""

from __future__ import annotations

import uuid
from typing import Any

from maint_helpers import DAY, MaintEnv

from pgbackman.infra import spool


def _record(mnt: MaintEnv, def_id: int, run_uuid: str) -> dict[str, Any]:
    finished = mnt.now() - DAY
    return {
        "def_id": def_id,
        "procpid": 4242,
        "server_id": mnt.pgb.server_id,
        "node_id": mnt.node_id,
        "dbname": "app1",
        "started": (finished - DAY / 24).isoformat(),
        "finished": finished.isoformat(),
        "duration": 3600,
        "global_log_file": str(mnt.pgb.tmp / "pgbackman.log"),
        "execution_status": "SUCCEEDED",
        "execution_method": "CRON",
        "error_message": "",
        "run_uuid": run_uuid,
        "backup_code": "FULL",
    }


def test_pending_result_is_ingested_exactly_once(mnt: MaintEnv) -> None:
    """B.10 case 15 (maintenance side): twice, and after a kill between INSERT and unlink."""
    d = mnt.definition()
    run = str(uuid.uuid4())
    path = spool.write_pending(mnt.pgb.root, "backup", _record(mnt, d, run))

    dry = mnt.cli("--dry-run")
    assert (
        dry.returncode == 0
        and f"WOULD INGEST pending backup result {path}" in dry.stdout
    )
    assert path.exists() and not mnt.catalog_ids(d)

    report = mnt.run_pass()
    assert not report.failed, report.tasks
    assert report.tasks["pending-results"].deleted == 1
    assert not path.exists()
    rows = mnt.pgb.su_query(
        "SELECT count(*) FROM backup_catalog WHERE run_uuid = %s", (run,)
    )
    assert rows[0][0] == 1

    # Killed after the INSERT, before the unlink: the same file shows up again.
    spool.write_pending(mnt.pgb.root, "backup", _record(mnt, d, run))
    assert not mnt.run_pass().failed
    assert not path.exists()
    assert (
        mnt.pgb.su_query(
            "SELECT count(*) FROM backup_catalog WHERE run_uuid = %s", (run,)
        )[0][0]
        == 1
    )


def test_malformed_pending_file_is_reported_once(mnt: MaintEnv) -> None:
    bad = spool.pending_dir(mnt.pgb.root)
    bad.mkdir(mode=0o700)
    (bad / f"backup_{uuid.uuid4()}.json").write_text("{not json")
    first = mnt.run_pass()
    assert first.failed and first.tasks["pending-results"].errors
    assert not mnt.run_pass().failed  # moved aside (rejected/), not retried every pass
