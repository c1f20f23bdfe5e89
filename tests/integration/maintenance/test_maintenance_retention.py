"""Backup and snapshot retention with real files on disk and real catalog rows."""

from __future__ import annotations

import random
from datetime import timedelta

from maint_helpers import DAY, MaintEnv

from pgbackman.infra.locking import JobLock


def test_upstream_case_expired_dumps_go_newest_stays(mnt: MaintEnv) -> None:
    now = mnt.now()
    d = mnt.definition(period="7 days", redundancy=1)
    old1 = mnt.dump(d, now - 20 * DAY)
    old2 = mnt.dump(d, now - 10 * DAY)
    young = mnt.dump(d, now - 3 * DAY)
    newest = mnt.dump(d, now - DAY)

    report = mnt.run_pass()

    assert not report.failed, report.tasks
    assert mnt.catalog_ids(d) == {young.bck_id, newest.bck_id}
    assert old1.none_on_disk() and old2.none_on_disk()
    assert young.on_disk() and newest.on_disk()
    assert report.tasks["backup-retention"].deleted == 2
    # 5 paths per FULL dump: -DATABASE/, -USERS.sql, -DBCONFIG.sql, -MANIFEST.sha256, .log
    assert report.tasks["backup-retention"].files == 10


def test_old_good_dump_followed_by_20_failed_runs_is_kept(mnt: MaintEnv) -> None:
    """B.10 case 13: failed runs never count towards redundancy."""
    now = mnt.now()
    d = mnt.definition(period="7 days", redundancy=1)
    good = mnt.dump(d, now - 30 * DAY)
    failed = [
        mnt.dump(d, now - 29 * DAY + i * DAY + timedelta(hours=1), "ERROR")
        for i in range(20)
    ]

    assert not mnt.run_pass().failed

    assert good.bck_id in mnt.catalog_ids(d)
    assert good.on_disk()
    # No newer good dump exists: the failures are kept as evidence of the outage.
    assert mnt.catalog_ids(d) == {good.bck_id} | {f.bck_id for f in failed}

    # Once a new good dump exists, the old good one and the old failures age out.
    fresh = mnt.dump(d, now - timedelta(hours=1))
    assert not mnt.run_pass().failed
    remaining = mnt.catalog_ids(d)
    assert good.bck_id not in remaining and good.none_on_disk()
    assert fresh.bck_id in remaining
    # ERROR rows younger than 7 days stay; older ones went with their logs.
    for i, f in enumerate(failed):
        age = 29 - i  # days, minus one hour
        assert (f.bck_id in remaining) == (age <= 7), (i, age)
        assert f.on_disk() == (age <= 7)


def _expected(
    runs: list[tuple[int, object, str]], now: object, period: timedelta, redundancy: int
) -> set[int]:
    """Independent restatement: keep the max(R,1) newest SUCCEEDED; others older than the
    period go, failed ones only when a newer SUCCEEDED exists."""
    keep = max(redundancy, 1)
    good = sorted(
        [r for r in runs if r[2] == "SUCCEEDED"],
        key=lambda r: (r[1], r[0]),
        reverse=True,
    )
    protected = {r[0] for r in good[:keep]}
    newest_good = (good[0][1], good[0][0]) if good else None
    out = set()
    for bck, fin, status in runs:
        if not fin < now - period:  # type: ignore[operator]
            continue
        if status == "SUCCEEDED":
            if bck not in protected:
                out.add(bck)
        elif newest_good is not None and newest_good > (fin, bck):
            out.add(bck)
    return out


def test_redundancy_and_period_interplay_on_50_runs(mnt: MaintEnv) -> None:
    rng = random.Random(50)
    now = mnt.now()
    d = mnt.definition(period="10 days", redundancy=3)
    other = mnt.definition(dbname="app2", period="2 days", redundancy=0)
    runs: list[tuple[int, object, str]] = []
    dumps = {}
    for i in range(50):
        status = "SUCCEEDED" if rng.random() < 0.6 else "ERROR"
        # Newest good dumps are deliberately old for part of the history.
        # Whole hours + 30 min: never exactly on the period boundary (the catalog's now()
        # moves on while the test runs).
        finished = (
            now
            - timedelta(hours=6 * (50 - i) + rng.randint(0, 5), minutes=30)
            - 5 * DAY
        )
        dp = mnt.dump(d, finished, status)
        runs.append((dp.bck_id, finished, status))
        dumps[dp.bck_id] = dp
    other_runs = []
    for i in range(8):
        status = "SUCCEEDED" if i % 3 else "ERROR"
        finished = now - (8 - i) * DAY + timedelta(hours=6)  # never on the boundary
        dp = mnt.dump(other, finished, status, dbname="app2")
        other_runs.append((dp.bck_id, finished, status))
        dumps[dp.bck_id] = dp

    expected = _expected(runs, now, timedelta(days=10), 3) | _expected(
        other_runs, now, timedelta(days=2), 0
    )
    assert expected and len(expected) < 58

    assert not mnt.run_pass().failed

    remaining = mnt.catalog_ids()
    assert remaining == set(dumps) - expected
    for bck, dp in dumps.items():
        if bck in expected:
            assert dp.none_on_disk(), bck
        else:
            assert dp.on_disk(), bck


def test_missing_files_are_not_an_error_row_still_goes(mnt: MaintEnv) -> None:
    """A crash between deleting the files and the row is repaired by the next pass."""
    now = mnt.now()
    d = mnt.definition()
    old = mnt.dump(d, now - 30 * DAY)
    mnt.dump(d, now - DAY)
    for p in old.paths():
        if p.is_dir():
            for f in p.iterdir():
                f.unlink()
            p.rmdir()
        else:
            p.unlink()
    assert not mnt.run_pass().failed
    assert old.bck_id not in mnt.catalog_ids(d)


def test_running_dump_lock_makes_maintenance_skip(mnt: MaintEnv) -> None:
    """B.10 case 12: a delete of a definition whose dump runs skips, never removes mid-dump."""
    now = mnt.now()
    d = mnt.definition()
    old = mnt.dump(d, now - 30 * DAY)
    mnt.dump(d, now - DAY)
    with JobLock.for_job(mnt.partition, d, None):
        report = mnt.run_pass()
        assert not report.failed
        assert report.tasks["backup-retention"].skipped == 1
        assert old.bck_id in mnt.catalog_ids(d) and old.on_disk()
    assert not mnt.run_pass().failed
    assert old.bck_id not in mnt.catalog_ids(d) and old.none_on_disk()


def test_snapshot_retention_and_definitions(mnt: MaintEnv) -> None:
    now = mnt.now()

    def snapshot(at: object, status: str, period: str = "7 days") -> int:
        rows = mnt.pgb.su_query(
            "INSERT INTO snapshot_definition (backup_server_id, pgsql_node_id, dbname, at_time,"
            " backup_code, retention_period, status) VALUES (%s, %s, 'app1', %s, 'FULL', %s, %s)"
            " RETURNING snapshot_id",
            (mnt.pgb.server_id, mnt.node_id, at, period, status),
        )
        return int(rows[0][0])

    expired = snapshot(now - 10 * DAY, "DEFINED")
    expired_dump = mnt.dump(None, now - 10 * DAY, snapshot_id=expired)
    young = snapshot(now - 2 * DAY, "DEFINED")
    young_dump = mnt.dump(None, now - 2 * DAY, snapshot_id=young)
    waiting = snapshot(now + 2 * DAY, "WAITING")
    lost = snapshot(now - 30 * DAY, "ERROR")  # at refused it long ago: nothing to keep

    assert not mnt.run_pass().failed

    ids = {
        r[0] for r in mnt.pgb.su_query("SELECT snapshot_id FROM snapshot_definition")
    }
    assert ids == {young, waiting}
    assert expired_dump.none_on_disk() and young_dump.on_disk()
    assert mnt.catalog_ids() == {young_dump.bck_id}
    assert lost not in ids
