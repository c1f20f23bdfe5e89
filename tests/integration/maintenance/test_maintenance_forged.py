"""Forged catalog values cannot turn maintenance against the backups (issue 11 items 2, 3).

* A row whose pg_dump_file names a node's whole ``dump/`` directory made maintenance delete
  every backup of that node; a partition set outside root_backup_partition became a
  deletion root. A path is now deleted only when it is exactly what was written for its row.
* A retention interval of '1000000 years' stopped retention for the whole server
  (``timestamp out of range``): it is refused at registration, and one forged in the catalog
  stops nothing else.
"""

from __future__ import annotations

from typing import Any

from maint_helpers import DAY, MaintEnv


def _config_refused(mnt: MaintEnv) -> list[tuple[Any, ...]]:
    return mnt.pgb.su_query(
        "SELECT error_message FROM alerts WHERE alert_type = 'Config-refused'"
    )


def test_row_naming_the_whole_dump_directory_deletes_nothing(mnt: MaintEnv) -> None:
    now = mnt.now()
    d = mnt.definition(period="7 days", redundancy=1)
    good = [mnt.dump(d, now - i * DAY) for i in (3, 2, 1)]
    other = mnt.definition(dbname="app2")
    other_dump = mnt.dump(other, now - DAY, dbname="app2")
    forged = mnt.dump(d, now - 40 * DAY, files={"pg_dump_file": mnt.partition / "dump"})
    # Another row of the same definition claiming the newest backup's files.
    stolen = mnt.dump(d, now - 35 * DAY, files=dict(good[-1].files))

    res = mnt.cli("--once")

    assert res.returncode == 1  # refused: the pass could not do its own work
    assert all(g.on_disk() for g in good) and other_dump.on_disk()
    assert (mnt.partition / "dump").is_dir()
    assert {forged.bck_id, stolen.bck_id} <= mnt.catalog_ids(d)
    log = (mnt.pgb.tmp / "pgbackman.log").read_text()
    assert "dump: not directly inside" in log
    assert "another backup row names it too" in log
    refused = _config_refused(mnt)
    assert len(refused) == 2 and all("refused to delete" in r[0] for r in refused)
    assert mnt.cli("--once").returncode == 1
    assert len(_config_refused(mnt)) == 2  # once per episode


def test_partition_outside_the_root_is_no_deletion_root(mnt: MaintEnv) -> None:
    now = mnt.now()
    d = mnt.definition(period="7 days", redundancy=1)
    old = mnt.dump(d, now - 30 * DAY)
    mnt.dump(d, now - DAY)
    # The node's partition moved (in the catalog) to a directory outside the root that
    # holds the same layout: nothing there, and nothing of the old row, may be deleted.
    elsewhere = mnt.pgb.tmp / "elsewhere"
    (elsewhere / "dump").mkdir(parents=True)
    (elsewhere / "dump" / "precious").write_text("keep me")
    mnt.pgb.su_query(
        "UPDATE pgsql_node_config SET value = %s WHERE node_id = %s"
        " AND parameter = 'pgnode_backup_partition'",
        (str(elsewhere), mnt.node_id),
    )
    res = mnt.cli("--once")
    assert res.returncode == 1
    assert old.on_disk() and old.bck_id in mnt.catalog_ids(d)
    assert (elsewhere / "dump" / "precious").read_text() == "keep me"
    assert (
        "not inside root_backup_partition"
        in (mnt.pgb.tmp / "pgbackman.log").read_text()
    )


def test_huge_interval_refused_and_a_forged_one_stops_nothing_else(
    mnt: MaintEnv,
) -> None:
    # Refused at registration, by the shell and by the catalog.
    res = mnt.shell(
        f"register_backup_definition {mnt.pgb.server_id} {mnt.node_id} app1 '' 10 01"
        " '*' '*' '*' FULL false '1000000 years' 1 '' ACTIVE ''"
    )
    assert res.returncode == 1 and "at most 100 years" in res.stdout, res.stdout
    assert mnt.pgb.su_query("SELECT count(*) FROM backup_definition") == [(0,)]

    now = mnt.now()
    forged = mnt.definition(dbname="app1", period="7 days")
    fine = mnt.definition(dbname="app2", period="7 days")
    forged_old = mnt.dump(forged, now - 30 * DAY)
    mnt.dump(forged, now - DAY)
    fine_old = mnt.dump(fine, now - 30 * DAY, dbname="app2")
    fine_new = mnt.dump(fine, now - DAY, dbname="app2")
    # Forged behind the catalog's back (the table refuses it: its CHECK goes first), and a
    # node quarantine that is not an interval at all.
    mnt.pgb.su(
        "ALTER TABLE backup_definition DROP CONSTRAINT backup_definition_retention_period_check;"
        f" UPDATE backup_definition SET retention_period = '1000000 years' WHERE def_id = {forged};"
        " UPDATE pgsql_node_config SET value = 'forever' WHERE parameter = 'automatic_deletion_retention'"
    )

    res = mnt.cli("--once")

    assert res.returncode == 0, res.stderr
    log = (mnt.pgb.tmp / "pgbackman.log").read_text()
    assert "timestamp out of range" not in log and "task aborted" not in log
    assert mnt.catalog_ids(fine) == {fine_new.bck_id} and fine_old.none_on_disk()
    assert forged_old.bck_id in mnt.catalog_ids(forged) and forged_old.on_disk()
    # ... and the refused values are reported: a warning and one alert each.
    assert "'1000000 years' of backup definition" in log
    assert "'forever' of PgSQL node" in log
    assert mnt.cli("--once").returncode == 0
    refused = sorted(r[0] for r in _config_refused(mnt))
    assert len(refused) == 2, refused
