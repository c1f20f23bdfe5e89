"""Retention carries out its decisions a batch at a time (one read, one path check, each
job's lock once, one catalog call): what goes wrong with one row concerns that row only, and
the catalog's floor holds for every row of the one call, whoever makes it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from maint_helpers import DAY, Dump, MaintEnv

from pgbackman.errors import CatalogError
from pgbackman.infra.locking import JobLock
from pgbackman.maintenance.files import Deleter


def _alerts(mnt: MaintEnv, kind: str) -> list[str]:
    return [
        str(r[0])
        for r in mnt.pgb.su_query(
            "SELECT error_message FROM alerts WHERE alert_type = %s", (kind,)
        )
    ]


def test_one_bad_row_of_a_batch_stops_none_of_the_others(
    mnt: MaintEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In ONE pass (one batch): a row whose files are refused, a row whose file cannot be
    removed and a definition whose job runs each keep their rows and files and are
    reported; every other expired row of the batch goes with its files."""
    now = mnt.now()
    defs = [mnt.definition(dbname=f"app{i}") for i in range(1, 7)]
    expired: dict[int, list[Dump]] = {}
    newest: dict[int, Dump] = {}
    for i, d in enumerate(defs):
        db = f"app{i + 1}"
        expired[d] = [mnt.dump(d, now - (30 + k) * DAY, dbname=db) for k in range(2)]
        newest[d] = mnt.dump(d, now - DAY, dbname=db)
    refused_def, unremovable_def, busy_def = defs[0], defs[1], defs[2]
    # Refused: another row of the same job names the same log (a forged row).
    forged_victim = expired[refused_def][0]
    forged = mnt.dump(
        refused_def,
        now - 40 * DAY,
        files={"pg_dump_log_file": forged_victim.files["pg_dump_log_file"]},
    )
    # Cannot be removed: the manifest of one backup (the file system says no).
    stuck = expired[unremovable_def][1]
    stuck_path = stuck.files["pg_dump_manifest_file"]
    real_remove = Deleter.remove

    def remove(self: Deleter, p: Path) -> bool:
        if p == stuck_path:
            raise PermissionError(1, "Operation not permitted", str(p))
        return real_remove(self, p)

    monkeypatch.setattr(Deleter, "remove", remove)

    with JobLock.for_job(mnt.partition, busy_def, None):
        report = mnt.run_pass()

    stats = report.tasks["backup-retention"]
    errors = stats.errors
    assert len(errors) == 3, errors  # the forged row and its victim; the stuck manifest
    assert sum("another backup row names it too" in e for e in errors) == 2
    assert [e for e in errors if "Cannot delete" in e] == [
        f"backup bck_id={stuck.bck_id} def_id={unremovable_def} (SUCCEEDED): "
        f"Cannot delete {stuck_path}: [Errno 1] Operation not permitted: '{stuck_path}'"
    ]
    assert stats.skipped == 1 and any(
        f"def_id={busy_def}: job is running" in w for w in stats.warnings
    )
    # Kept, with their files: the refused rows, the stuck one, the busy definition's.
    kept = {forged.bck_id, forged_victim.bck_id, stuck.bck_id}
    kept |= {x.bck_id for x in expired[busy_def]}
    assert forged_victim.on_disk() and stuck_path.exists()
    assert all(x.on_disk() for x in expired[busy_def])
    # Everything else that expired went, rows and files: 2 x 6 - 1 - 1 - 2 = 8 rows.
    gone = {x.bck_id for xs in expired.values() for x in xs} - kept
    assert len(gone) == 8 and stats.deleted == 8
    assert mnt.catalog_ids() == kept | {n.bck_id for n in newest.values()}
    assert all(
        x.none_on_disk() for xs in expired.values() for x in xs if x.bck_id in gone
    )
    assert all(n.on_disk() for n in newest.values())
    # One Config-refused alert per refused row; the stuck row is left for the next pass.
    refused = _alerts(mnt, "Config-refused")
    assert len(refused) == 2 and all("refused to delete" in r for r in refused)

    monkeypatch.setattr(Deleter, "remove", real_remove)
    report = mnt.run_pass()
    assert stuck.bck_id not in mnt.catalog_ids() and stuck.none_on_disk()
    assert {x.bck_id for x in expired[busy_def]}.isdisjoint(mnt.catalog_ids())
    assert len(report.tasks["backup-retention"].errors) == 2  # the forged pair, again
    assert len(_alerts(mnt, "Config-refused")) == 2  # once per episode


def test_dry_run_lists_a_batch_in_decision_order(mnt: MaintEnv) -> None:
    now = mnt.now()
    defs = [mnt.definition(dbname=f"app{i}") for i in range(1, 4)]
    old = []
    for i, d in enumerate(defs):
        old += [mnt.dump(d, now - (30 - k) * DAY, dbname=f"app{i + 1}") for k in (0, 1)]
        mnt.dump(d, now - DAY, dbname=f"app{i + 1}")
    bad = mnt.dump(
        defs[1], now - 50 * DAY, files={"pg_dump_file": mnt.partition / "dump"}
    )
    before = mnt.tree()

    res = mnt.cli("--dry-run")

    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert [line.split(":")[0] for line in lines if " bck_id=" in line] == [
        f"WOULD DELETE backup bck_id={old[0].bck_id} def_id={defs[0]} (SUCCEEDED)",
        f"WOULD DELETE backup bck_id={old[1].bck_id} def_id={defs[0]} (SUCCEEDED)",
        f"WOULD REFUSE backup bck_id={bad.bck_id} def_id={defs[1]} (SUCCEEDED)",
        f"WOULD DELETE backup bck_id={old[2].bck_id} def_id={defs[1]} (SUCCEEDED)",
        f"WOULD DELETE backup bck_id={old[3].bck_id} def_id={defs[1]} (SUCCEEDED)",
        f"WOULD DELETE backup bck_id={old[4].bck_id} def_id={defs[2]} (SUCCEEDED)",
        f"WOULD DELETE backup bck_id={old[5].bck_id} def_id={defs[2]} (SUCCEEDED)",
    ]
    assert mnt.tree() == before and len(mnt.catalog_ids()) == 10


def _many(cat: Any, ids: list[int]) -> dict[int, str | None]:
    rows = cat.call_rows("delete_backup_catalog_many", ids)
    return {int(r["bck_id"]): r["refusal"] for r in rows}


def test_the_catalog_keeps_its_floor_for_every_row_of_one_call(mnt: MaintEnv) -> None:
    """Asked by the backup server's role to delete every row at once, the catalog deletes
    only those that have expired AND are followed by a newer intact backup: the newest
    intact one stays; a row with an UPLOADED offsite copy stays with local_deleted_at."""
    now = mnt.now()
    d = mnt.definition(period="7 days", redundancy=1)
    oldest = mnt.dump(d, now - 40 * DAY)
    uploaded = mnt.dump(d, now - 35 * DAY)
    newest_intact = mnt.dump(d, now - 30 * DAY)
    newer_error = mnt.dump(d, now - 20 * DAY, "ERROR")
    young_error = mnt.dump(d, now - DAY, "ERROR")
    broken = mnt.dump(d, now - 10 * DAY)  # newer, but found CORRUPT: protects nothing
    mnt.pgb.su(
        "UPDATE backup_catalog SET integrity = 'CORRUPT' "
        f"WHERE bck_id = {broken.bck_id};"
        " UPDATE backup_catalog SET offsite_status = 'UPLOADED',"
        " offsite_location = 's3://bucket/x/', offsite_updated = now()"
        f" WHERE bck_id = {uploaded.bck_id}"
    )
    ids = [
        oldest.bck_id,
        uploaded.bck_id,
        newest_intact.bck_id,
        newer_error.bck_id,
        young_error.bck_id,
        oldest.bck_id,  # twice: one answer
        999_999_999,
    ]

    answers = _many(mnt.pgb.cat, ids)  # as pgbackman_role_server

    n, b = newest_intact.bck_id, broken.bck_id
    assert answers == {
        oldest.bck_id: None,
        uploaded.bck_id: None,
        n: f"Backup {n} is not followed by an intact backup of definition {d}: kept",
        newer_error.bck_id: f"Backup {newer_error.bck_id} is not followed by an intact "
        f"backup of definition {d}: kept",
        young_error.bck_id: f"Backup {young_error.bck_id} has not expired "
        "(retention period 7 days)",
        999_999_999: "Backup 999999999 does not exist in the catalog",
    }
    assert mnt.catalog_ids(d) == {
        uploaded.bck_id,
        n,
        newer_error.bck_id,
        young_error.bck_id,
        b,
    }
    marked = dict(
        mnt.pgb.su_query(
            "SELECT bck_id, local_deleted_at IS NOT NULL FROM backup_catalog"
            " WHERE def_id = %s",
            (d,),
        )
    )
    assert marked == {
        uploaded.bck_id: True,
        n: False,
        newer_error.bck_id: False,
        young_error.bck_id: False,
        b: False,
    }
    # The one-row function is the same rule, raised as an error.
    with pytest.raises(CatalogError, match=f"Backup {n} is not followed by an intact"):
        mnt.pgb.cat.call("delete_backup_catalog", n)
    # Asking again for the newest intact one alone, or with nothing else left: kept.
    assert _many(mnt.pgb.cat, [n])[n] is not None
    assert n in mnt.catalog_ids(d)


def test_the_server_role_calls_it_but_cannot_delete_rows_itself(
    mnt: MaintEnv,
) -> None:
    now = mnt.now()
    d = mnt.definition()
    old = mnt.dump(d, now - 30 * DAY)
    new = mnt.dump(d, now - DAY)
    with pytest.raises(CatalogError, match="permission denied"):
        mnt.pgb.cat.execute(
            "DELETE FROM backup_catalog WHERE bck_id = %s", (old.bck_id,)
        )
    assert mnt.catalog_ids(d) == {old.bck_id, new.bck_id}
    with pytest.raises(CatalogError, match="NULL"):
        mnt.pgb.cat.call_rows("delete_backup_catalog_many", [old.bck_id, None])
    assert mnt.catalog_ids(d) == {old.bck_id, new.bck_id}  # nothing of a refused call
    assert _many(mnt.pgb.cat, [old.bck_id]) == {old.bck_id: None}
    assert mnt.catalog_ids(d) == {new.bck_id}
    definer = mnt.pgb.su_query(
        "SELECT p.prosecdef, pg_get_userbyid(p.proowner),"
        " has_function_privilege('pgbackman_role_server', p.oid, 'EXECUTE'),"
        " has_function_privilege('pgbackman_role_ro', p.oid, 'EXECUTE')"
        " FROM pg_proc p WHERE p.proname = 'delete_backup_catalog_many'"
    )
    assert definer == [(True, "pgbackman_role_owner", True, False)]
    assert os.path.isdir(mnt.partition / "dump")
