"""Retention checks the backups it relies on a batch at a time and records what it found in
one catalog call (record_backup_integrity_many): every one is still checked in full, a
damaged one is recorded and alerted once per episode, an intact one is recorded INTACT, and
the backup server's role may record but never write the table itself."""

from __future__ import annotations

from typing import Any

import pytest
from maint_helpers import DAY, Dump, MaintEnv

from pgbackman.errors import CatalogError
from support.damage import flip_a_byte


def _state(mnt: MaintEnv, dump: Dump) -> tuple[Any, ...]:
    rows = mnt.pgb.su_query(
        "SELECT integrity, integrity_detail, integrity_checked FROM backup_catalog"
        " WHERE bck_id = %s",
        (dump.bck_id,),
    )
    return tuple(rows[0])


def _integrity_alerts(mnt: MaintEnv) -> list[int]:
    return [
        int(r[0])
        for r in mnt.pgb.su_query(
            "SELECT bck_id FROM alerts WHERE alert_type = 'Backup-integrity'"
            " ORDER BY bck_id, alert_id"
        )
    ]


def test_damaged_backups_among_a_batch_are_recorded_and_alerted_once(
    mnt: MaintEnv,
) -> None:
    now = mnt.now()
    defs: list[tuple[int, Dump, Dump]] = []
    for n in range(6):
        d = mnt.definition(dbname=f"app{n}", period="7 days", redundancy=1)
        old = mnt.dump(d, now - 30 * DAY, dbname=f"app{n}")
        newest = mnt.dump(d, now - DAY, dbname=f"app{n}")
        defs.append((d, old, newest))
    # What retention relies on: the newest backup of each definition, recorded INTACT
    # long ago (the pass must check them again, in full, not trust that record).
    mnt.pgb.su(
        "UPDATE backup_catalog SET integrity_checked = now() - interval '60 days'"
        " WHERE integrity = 'INTACT'"
    )
    corrupt, missing = defs[1][2], defs[4][2]
    flip_a_byte(corrupt.files["pg_dump_file"])
    missing.files["pg_dump_roles_file"].unlink()

    report = mnt.run_pass()

    for d, old, newest in defs:
        if newest in (corrupt, missing):
            # The newest backup protects nothing: the old one is the one to restore.
            assert mnt.catalog_ids(d) == {old.bck_id, newest.bck_id}
            assert old.on_disk()
        else:
            assert mnt.catalog_ids(d) == {newest.bck_id}
            assert old.none_on_disk()
            state, detail, checked = _state(mnt, newest)
            assert (state, detail) == ("INTACT", "")
            assert now - checked < DAY  # checked by this pass
    state, detail, _c = _state(mnt, corrupt)
    assert state == "CORRUPT" and detail.startswith("MISMATCH ")
    state, detail, _c = _state(mnt, missing)
    assert state == "MISSING" and detail.startswith("MISSING ")
    assert _integrity_alerts(mnt) == sorted([corrupt.bck_id, missing.bck_id])
    warnings = "\n".join(report.task("backup-retention").warnings)
    assert not report.failed
    assert f"bck_id={corrupt.bck_id}" in warnings
    assert f"bck_id={missing.bck_id}" in warnings

    mnt.run_pass()  # the same damage again: the same episode, no second alert
    assert _integrity_alerts(mnt) == sorted([corrupt.bck_id, missing.bck_id])


def test_the_server_role_records_a_batch_each_row_judged_on_its_own(
    mnt: MaintEnv,
) -> None:
    now = mnt.now()
    d = mnt.definition()
    good = mnt.dump(d, now - 2 * DAY)
    bad = mnt.dump(d, now - DAY)
    failed = mnt.dump(d, now - 3 * DAY, "ERROR")
    cat = mnt.pgb.cat  # connected as pgbackman_role_server
    rows = cat.call_rows(
        "record_backup_integrity_many",
        [good.bck_id, bad.bck_id, failed.bck_id, 999_999_999, good.bck_id],
        ["INTACT", "CORRUPT", "INTACT", "INTACT", "SHINY"],
        ["", "MISMATCH x\x01y", "", "", ""],
    )
    assert [(int(r["bck_id"]), r["refusal"]) for r in rows] == [
        (good.bck_id, None),
        (bad.bck_id, None),
        (
            failed.bck_id,
            f"Backup {failed.bck_id} did not succeed: it has no files to check",
        ),
        (999_999_999, "Backup 999999999 does not exist in the catalog"),
        (
            good.bck_id,
            "Invalid integrity state SHINY (INTACT, MISSING, CORRUPT, UNVERIFIED or "
            "LEGACY)",
        ),
    ]
    assert _state(mnt, good)[:2] == ("INTACT", "")
    assert _state(mnt, bad)[:2] == ("CORRUPT", "MISMATCH x y")
    # Arrays that do not pair up record nothing.
    with pytest.raises(CatalogError, match="one backup id"):
        cat.call_rows(
            "record_backup_integrity_many", [good.bck_id, bad.bck_id], ["MISSING"], [""]
        )
    assert _state(mnt, good)[:2] == ("INTACT", "")
    # The one-row function is the same rule, raised as an error.
    with pytest.raises(CatalogError, match="did not succeed"):
        cat.call("record_backup_integrity", failed.bck_id, "INTACT", "")
    with pytest.raises(CatalogError, match="permission denied"):
        cat.execute(
            "UPDATE backup_catalog SET integrity = 'INTACT' WHERE bck_id = %s",
            (bad.bck_id,),
        )
    definer = mnt.pgb.su_query(
        "SELECT p.prosecdef, pg_get_userbyid(p.proowner), p.proconfig,"
        " has_function_privilege('pgbackman_role_server', p.oid, 'EXECUTE'),"
        " has_function_privilege('pgbackman_role_ro', p.oid, 'EXECUTE')"
        " FROM pg_proc p WHERE p.proname = 'record_backup_integrity_many'"
    )
    assert definer == [
        (True, "pgbackman_role_owner", ["search_path=public, pg_temp"], True, False)
    ]
