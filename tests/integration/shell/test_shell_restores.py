"""register_restore_definition (interactive flow of the manual, and the scripted form) and the
restore show_* commands, against the real target node and the catalog."""

from __future__ import annotations

import re
from typing import Any

from shell_helpers import add_backup
from support.pgbenv import PgbEnv
from support.shell import answer, quit_shell

ROLE = "pgb_shellb_restore_role"


def restore_defs(pgb: PgbEnv) -> list[tuple[Any, ...]]:
    return pgb.su_query(
        "SELECT restore_def, bck_id, roles_to_restore, backup_server_id, target_pgsql_node_id,"
        " target_dbname, renamed_dbname, extra_restore_parameters, status"
        " FROM restore_definition ORDER BY restore_def"
    )


def _backup_of_app3(
    pgb_env: PgbEnv, node2: Any, status: str = "SUCCEEDED", code: str = "FULL"
) -> tuple[int, int]:
    """node2 is both the source (its app3) and the target; app3 exists there."""
    nid = pgb_env.register_node(node2)
    snap = pgb_env.su_query(
        "SELECT register_snapshot_definition(%s, %s, 'app3', now(), 'FULL', '7 days', '', 't', NULL)",
        (pgb_env.server_id, nid),
    )[0][0]
    bck = add_backup(
        pgb_env,
        nid,
        "app3",
        snapshot_id=snap,
        status=status,
        code=code,
        roles=["postgres", ROLE],
    )
    return nid, bck


def test_interactive_restore_with_rename(
    pgb_env: PgbEnv, node2: Any, shell: Any
) -> None:
    nid, bck = _backup_of_app3(pgb_env, node2)
    child = shell.spawn()
    child.sendline("register_restore_definition")
    answer(child, "# AT timestamp [", "")
    answer(child, "# BckID []", str(bck))
    answer(child, "# Target NodeID / FQDN []", str(nid))
    answer(child, "# Target DBname [app3]", "")
    answer(child, "# Extra parameters []", "--no-owner")
    answer(child, "# Are all values correct (yes/no)", "yes")
    child.expect_exact("[Processing restore data]")
    child.expect_exact("[WARNING]: Target DBname already exists on target PgSQL node.")
    answer(child, "# Rename it? (yes/no)", "yes")
    # A name that exists too is refused and the question is asked again.
    answer(child, "# Rename existing database to [app3_", "postgres")
    child.expect_exact(
        "[WARNING]: Database postgres already exists on target PgSQL node."
    )
    child.expect(r"# Rename existing database to \[(app3_\d{4}_\d\d_\d\dT\d{6})\]: ")
    proposed = child.match.group(1)
    child.sendline("")
    child.expect_exact(
        "[WARNING]: Role 'postgres' already exists on target PgSQL node."
    )
    answer(child, "# Use the existing role? (yes/no)", "yes")
    child.expect_exact("[Restore definition accepted]")
    child.expect_exact(f"BckID to restore: {bck}")
    child.expect_exact(f"Roles to restore: {ROLE}")
    child.expect_exact(f"Backup server: [{pgb_env.server_id}] backup01.pgbackman.test")
    child.expect_exact(f"Target PgSQL node: [{nid}] 127.0.0.1")
    child.expect_exact("Target DBname: app3")
    child.expect_exact("Extra restore parameters: --no-owner")
    child.expect_exact(f"Existing database will be renamed to : {proposed}")
    answer(child, "# Are all values correct (yes/no)", "yes")
    child.expect_exact("[Done] Restore definition registered.")
    quit_shell(child)
    ((_, b, roles, srv, node, target, renamed, extra, status),) = restore_defs(pgb_env)
    assert (b, roles, srv, node, target, renamed, extra, status) == (
        bck,
        [ROLE],
        pgb_env.server_id,
        nid,
        "app3",
        proposed,
        "--no-owner",
        "WAITING",
    )


def test_interactive_restore_refusals(pgb_env: PgbEnv, node2: Any, shell: Any) -> None:
    nid, bck = _backup_of_app3(pgb_env, node2)
    child = shell.spawn()
    # 1. The existing target database must not be renamed: nothing can be registered.
    child.sendline("register_restore_definition")
    answer(child, "# AT timestamp [", "")
    answer(child, "# BckID []", str(bck))
    answer(child, "# Target NodeID / FQDN []", str(nid))
    answer(child, "# Target DBname [app3]", "")
    answer(child, "# Extra parameters []", "")
    answer(child, "# Are all values correct (yes/no)", "yes")
    answer(child, "# Rename it? (yes/no)", "no")
    child.expect_exact(
        "[ERROR]: Cannot continue with this restore definition without renaming"
    )
    # 2. An existing role that must not be used aborts the definition.
    child.expect_exact("[pgbackman]$ ")
    child.sendline("register_restore_definition")
    answer(child, "# AT timestamp [", "")
    answer(child, "# BckID []", str(bck))
    answer(child, "# Target NodeID / FQDN []", str(nid))
    answer(child, "# Target DBname [app3]", "new_db")
    answer(child, "# Extra parameters []", "")
    answer(child, "# Are all values correct (yes/no)", "yes")
    child.expect_exact(
        "[OK]: Target DBname new_db does not exist on target PgSQL node."
    )
    answer(child, "# Use the existing role? (yes/no)", "no")
    child.expect_exact("[ABORTED] Command interrupted by the user.")
    # 3. Ctrl-C inside a prompt leaves the shell usable.
    child.expect_exact("[pgbackman]$ ")
    child.sendline("register_restore_definition")
    child.expect_exact("# AT timestamp [")
    child.sendcontrol("c")
    child.expect_exact("[ABORTED] Command interrupted by the user.")
    quit_shell(child)
    assert restore_defs(pgb_env) == []


def test_scripted_restore(pgb_env: PgbEnv, node2: Any, shell: Any) -> None:
    nid, bck = _backup_of_app3(pgb_env, node2)
    # Target exists and no rename name: refused.
    r = shell.cmd(f"register_restore_definition '' {bck} {nid} '' '' '' ''")
    assert r.rc == 1 and "already exists" in r.out and "Renamed DBname" in r.out
    r = shell.cmd(f"register_restore_definition '' {bck} {nid} app3 postgres '' ''")
    assert r.rc == 1 and "Renamed DBname [postgres] already exists" in r.out
    r = shell.cmd(f"register_restore_definition '' {bck} {nid} copy3 '' '' postgres")
    assert r.rc == 1 and "Role [postgres] already exists" in r.out
    r = shell.cmd(f"register_restore_definition '' {bck} {nid} copy3 '' '' nobody")
    assert r.rc == 1 and "not in the role list" in r.out
    r = shell.cmd(f"register_restore_definition 'soon' {bck} {nid} copy3 '' '' ''")
    assert r.rc == 1 and "not a valid timestamp" in r.out
    r = shell.cmd(f"register_restore_definition '' 99999 {nid} copy3 '' '' ''")
    assert r.rc == 1 and "does not exist" in r.out
    assert shell.cmd("register_restore_definition").rc == 1  # -C needs the 7 parameters
    assert restore_defs(pgb_env) == []
    r = shell.cmd(
        f"register_restore_definition '2030-05-06 07:08:09+00' {bck} {nid} app3 app3_old '-j 2' '#all#'"
    )
    assert r.rc == 0, r.out
    r = shell.cmd(f"register_restore_definition '' {bck} {nid} copy3 '' '' {ROLE}")
    assert r.rc == 0, r.out
    rows = restore_defs(pgb_env)
    assert [(x[2], x[5], x[6], x[7]) for x in rows] == [
        ([ROLE], "app3", "app3_old", "-j 2"),
        ([ROLE], "copy3", None, ""),
    ]


def test_restore_refused_for_failed_backup_or_stopped_node(
    pgb_env: PgbEnv, node2: Any, shell: Any
) -> None:
    nid, bck = _backup_of_app3(pgb_env, node2, status="ERROR")
    r = shell.cmd(f"register_restore_definition '' {bck} {nid} copy3 '' '' ''")
    assert r.rc == 1 and "its status is ERROR" in r.out
    good = add_backup(
        pgb_env,
        nid,
        "app3",
        def_id=None,
        snapshot_id=pgb_env.su_query(
            "SELECT min(snapshot_id) FROM snapshot_definition"
        )[0][0],
        roles=[],
    )
    pgb_env.su(f"UPDATE pgsql_node SET status = 'STOPPED' WHERE node_id = {nid}")
    r = shell.cmd(f"register_restore_definition '' {good} {nid} copy3 '' '' ''")
    assert r.rc == 1 and "is not RUNNING" in r.out
    assert restore_defs(pgb_env) == []


def test_cluster_backup_restore_needs_no_roles_or_rename(
    pgb_env: PgbEnv, node2: Any, shell: Any
) -> None:
    nid, _ = _backup_of_app3(pgb_env, node2)
    snap = pgb_env.su_query("SELECT min(snapshot_id) FROM snapshot_definition")[0][0]
    bck = add_backup(pgb_env, nid, "", snapshot_id=snap, code="CLUSTER", roles=[])
    r = shell.cmd(f"register_restore_definition '' {bck} {nid} '' '' '' '#all#'")
    assert r.rc == 0, r.out
    assert [(x[1], x[2], x[5]) for x in restore_defs(pgb_env)] == [
        (bck, [], "postgres")
    ]


def test_show_restore_commands(pgb_env: PgbEnv, node2: Any, shell: Any) -> None:
    nid, bck = _backup_of_app3(pgb_env, node2)
    assert (
        shell.cmd(f"register_restore_definition '' {bck} {nid} copy3 '' '' ''").rc == 0
    )
    assert (
        shell.cmd(f"register_restore_definition '' {bck} {nid} copy4 '' '' ''").rc == 0
    )
    (rd1, *_), (rd2, *_) = restore_defs(pgb_env)
    r = shell.cmd("show_restore_definitions all all copy4", fmt="json")
    (d,) = r.json()["restore_definitions"]
    assert d["restoredef"] == rd2 and d["bckid"] == bck and d["pgsql_node_id"] == nid
    r = shell.cmd("show_restores_in_progress", fmt="json")
    assert [x["restoredef"] for x in r.json()["restores_in_progress"]] == [rd1, rd2]
    rid = pgb_env.su_query(
        "INSERT INTO restore_catalog (restore_def, procpid, backup_server_id, target_pgsql_node_id,"
        " source_dbname, target_dbname, started, finished, duration, restore_log_file,"
        " global_log_file, execution_status, role_list, target_pgsql_node_release,"
        " backup_pg_release) VALUES (%s, 77, %s, %s, 'app3', 'copy3', now() - interval '3 s',"
        " now(), interval '3 s', '/tmp/r.log', '/tmp/g.log', 'SUCCEEDED', %s, '15', '15')"
        " RETURNING restore_id",
        (rd1, pgb_env.server_id, nid, [ROLE]),
    )[0][0]
    r = shell.cmd("show_restores_in_progress", fmt="json")
    assert [x["restoredef"] for x in r.json()["restores_in_progress"]] == [rd2]
    r = shell.cmd(f"show_restore_catalog '' {nid} all", fmt="json")
    (c,) = r.json()["restore_catalog"]
    assert (c["restoreid"], c["restoredef"], c["bckid"], c["status"]) == (
        rid,
        rd1,
        bck,
        "SUCCEEDED",
    )
    r = shell.cmd(f"show_restore_details {rid}", fmt="json")
    (d,) = r.json()["restore_details"]
    assert (
        d["restoreid"] == rid
        and d["roles_restored"] == ROLE
        and d["target_dbname"] == "copy3"
    )
    r = shell.cmd(f"show_restore_details {rid}")
    assert "Restore log file:" in r.out and "/tmp/r.log" in r.out
    r = shell.cmd("show_restore_catalog all all all")
    assert "# Target DBname: all" in r.out and "copy3" in r.out
    r = shell.cmd("show_restore_details 12345")
    assert r.rc == 1 and "does not exist" in r.out
    assert re.search(r"Wrong number", shell.cmd("show_restore_catalog all").out)
