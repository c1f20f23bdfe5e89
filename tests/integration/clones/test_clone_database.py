"""clone_database on real clusters: the shell registers the clone, ``pgbackman_restore
--clone N`` (the job at runs) snapshots the database and restores it on node2 under a new
name with its roles; the data matches and the restore shows in show_restore_catalog."""

from __future__ import annotations

from support.shell import Shell, answer, quit_shell
from support.site import Site, control_once, databases, ensure_atd, wait_for
from support.richdb import RichDb, role_fingerprint, table_checksums


def test_clone_copies_a_database_with_its_roles_to_another_node_under_a_new_name(
    site: Site, rich: RichDb
) -> None:
    copy = f"{rich.dbname}_copy"
    res = site.shell(
        f"clone_database '' {site.node1_id} {rich.dbname} {site.node2_id} {copy} '' '#all#' ''"
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Clone CloneID: " in res.stdout
    ((clone_id, status, roles_spec),) = site.pgb.su_query(
        "SELECT clone_id, status, roles_to_restore FROM clone_definition"
    )
    assert status == "WAITING" and roles_spec == ["#all#"]

    res = site.run("pgbackman_restore", "--clone", str(clone_id))

    assert res.returncode == 0, res.stderr
    ((snapshot_id, restore_def),) = site.pgb.su_query(
        "SELECT snapshot_id, restore_def FROM clone_definition WHERE clone_id = %s",
        (clone_id,),
    )
    ((snap_status, code),) = site.pgb.su_query(
        "SELECT status, backup_code FROM snapshot_definition WHERE snapshot_id = %s",
        (snapshot_id,),
    )
    assert (snap_status, code) == ("DEFINED", "FULL")  # run by the clone, never queued
    ((bck_status,),) = site.pgb.su_query(
        "SELECT execution_status FROM backup_catalog WHERE snapshot_id = %s",
        (snapshot_id,),
    )
    assert bck_status == "SUCCEEDED"
    # The data and the roles came over; the source database keeps its name on node1 and
    # node2 has no database of that name.
    assert table_checksums(site.node2, copy) == table_checksums(site.node1, rich.dbname)
    assert role_fingerprint(site.node2, rich.roles) == role_fingerprint(
        site.node1, rich.roles
    )
    assert rich.dbname not in databases(site.node2)
    # It is an ordinary restore in the catalog.
    rows = site.shell_json("show_restore_catalog all all all")["restore_catalog"]
    (row,) = [r for r in rows if int(r["restoredef"]) == restore_def]
    assert row["status"] == "SUCCEEDED" and row["target_dbname"] == copy
    assert site.pgb.su_query(
        "SELECT target_pgsql_node_id, role_list FROM restore_catalog WHERE restore_def = %s",
        (restore_def,),
    ) == [(site.node2_id, rich.roles)]


def test_clone_to_an_existing_name_needs_a_rename_and_keeps_the_old_database(
    site: Site, rich: RichDb
) -> None:
    copy = f"{rich.dbname}_copy"
    site.node2.psql(f'CREATE DATABASE "{copy}"')
    res = site.shell(
        f"clone_database '' {site.node1_id} {rich.dbname} {site.node2_id} {copy} '' '' ''"
    )
    assert res.returncode == 1
    assert "already exists" in res.stdout + res.stderr
    assert site.pgb.su_query("SELECT count(*) FROM clone_definition") == [(0,)]


def test_control_queues_a_clone_as_one_at_job(site: Site, rich: RichDb) -> None:
    ensure_atd()
    copy = f"{rich.dbname}_copy"
    res = site.shell(
        f"clone_database '' {site.node1_id} {rich.dbname} {site.node2_id} {copy} '' '#all#' now"
    )
    assert res.returncode == 0, res.stdout + res.stderr
    control_once(site)
    ((clone_id, status),) = site.pgb.su_query(
        "SELECT clone_id, status FROM clone_definition"
    )
    assert status == "DEFINED"

    def restored() -> bool:
        rows = site.pgb.su_query(
            "SELECT r.execution_status FROM restore_catalog r"
            " JOIN clone_definition c ON c.restore_def = r.restore_def WHERE c.clone_id = %s",
            (clone_id,),
        )
        return bool(rows)

    wait_for("the clone's at job recorded its restore", restored, timeout=180)
    assert table_checksums(site.node2, copy) == table_checksums(site.node1, rich.dbname)
    # The clone's own snapshot and restore were never queued a second time.
    control_once(site)
    assert site.pgb.su_query(
        "SELECT count(*) FROM restore_catalog r JOIN clone_definition c"
        " ON c.restore_def = r.restore_def"
    ) == [(1,)]


def test_interactive_clone_asks_to_rename_an_existing_target(site: Site) -> None:
    child = Shell(site.pgb).spawn()
    child.sendline("clone_database")
    answer(child, "# Backup server SrvID / FQDN [backup01.pgbackman.test]", "")
    answer(child, "# PgSQL node NodeID / FQDN []", str(site.node1_id))
    answer(child, "# DBname []", "app1")
    answer(child, "# Target NodeID / FQDN []", str(site.node1_id))
    answer(child, "# Target DBname [app1]", "")
    answer(child, "# Roles to restore [#all#]", "")
    answer(child, "# AT timestamp [now]", "")
    child.expect_exact("[WARNING]: Target DBname already exists on target PgSQL node.")
    answer(child, "# Rename it? (yes/no)", "yes")
    child.expect(r"# Rename existing database to \[(app1_\d{4}_\d\d_\d\dT\d{6})\]: ")
    renamed = child.match.group(1)
    child.sendline("")
    child.expect_exact("[Clone accepted]")
    child.expect_exact(f"Existing database will be renamed to : {renamed}")
    answer(child, "# Are all values correct (yes/no)", "yes")
    child.expect_exact("[Done] Clone CloneID: ")
    quit_shell(child)
    assert site.pgb.su_query(
        "SELECT source_dbname, target_dbname, renamed_dbname, roles_to_restore,"
        " status FROM clone_definition"
    ) == [("app1", "app1", renamed, ["#all#"], "WAITING")]
