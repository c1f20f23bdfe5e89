"""Two backup servers on one catalog: definitions, move, dumps, retention, deletions.

Both servers run on this host, so they share the node crontab path (pgnode_crontab_file is a
node setting): each control run is checked right after it rewrote the file.
"""

from __future__ import annotations

import pytest

from pathlib import Path
from typing import Any

from ops_helpers import (
    add_server2,
    backups,
    cron_def_ids,
    register_def,
    row_files,
    server1,
    shell,
)

from support.pgbenv import PgbEnv


def _crontab(pgb: PgbEnv, node_id: int) -> Path:
    return Path(pgb.cron_dir / f"pgsql_node_{node_id}")


def test_move_definition_between_servers(
    pgb_env: PgbEnv, node1: Any, node2: Any
) -> None:
    s1 = server1(pgb_env)
    s2 = add_server2(pgb_env)
    n1 = pgb_env.register_node(node1)
    n2 = pgb_env.register_node(node2)
    d_app1 = register_def(pgb_env, s1.server_id, n1, "app1", "11")
    d_app2 = register_def(pgb_env, s1.server_id, n1, "app2", "12")
    d_app3 = register_def(pgb_env, s2.server_id, n2, "app3", "13")

    s1.control_once()
    assert cron_def_ids(_crontab(pgb_env, n1)) == [d_app1, d_app2]
    s2.control_once()
    assert cron_def_ids(_crontab(pgb_env, n2)) == [d_app3]

    # Server 1 dumps app1 once before the move.
    assert s1.dump(d_app1).returncode == 0
    old = backups(pgb_env, d_app1)
    assert [r["server_id"] for r in old] == [s1.server_id]
    assert all(p.exists() for p in row_files(old[0]))

    res = shell(
        pgb_env, f"move_backup_definition {s1.server_id} {s2.server_id} {n1} app1 all"
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (
        pgb_env.su_query(
            "SELECT backup_server_id FROM backup_definition WHERE def_id = %s",
            (d_app1,),
        )[0][0]
        == s2.server_id
    )

    s1.control_once()
    assert cron_def_ids(_crontab(pgb_env, n1)) == [d_app2]
    s2.control_once()
    assert cron_def_ids(_crontab(pgb_env, n1)) == [d_app1]
    assert (s2.root / "cache_dir").is_dir()

    # Server 2 now runs it; the old backup stays with server 1.
    assert s2.dump(d_app1).returncode == 0
    rows = backups(pgb_env, d_app1)
    assert [r["server_id"] for r in rows] == [s1.server_id, s2.server_id]

    # Backdate the old one: server 1's maintenance still expires it (the definition keeps
    # a newer good backup on server 2); server 2's maintenance never touches it.
    pgb_env.su(
        f"UPDATE backup_catalog SET finished = now() - interval '30 days',"
        f" started = now() - interval '30 days 1 minute' WHERE bck_id = {old[0]['bck_id']}"
    )
    s2.maintenance_once()
    assert backups(pgb_env, d_app1) == rows  # not server 2's to expire
    s1.maintenance_once()
    rows = backups(pgb_env, d_app1)
    assert [r["server_id"] for r in rows] == [s2.server_id]
    assert not any(p.exists() for p in row_files(old[0]))
    assert all(p.exists() for p in row_files(rows[0]))


def test_force_delete_definition_then_maintenance(pgb_env: PgbEnv, node1: Any) -> None:
    s1 = server1(pgb_env)
    n1 = pgb_env.register_node(node1)
    d_app1 = register_def(pgb_env, s1.server_id, n1, "app1", "21")
    d_app2 = register_def(pgb_env, s1.server_id, n1, "app2", "22")
    s1.control_once()
    for d in (d_app1, d_app2, d_app1):
        assert s1.dump(d).returncode == 0
    gone = backups(pgb_env, d_app1)
    kept = backups(pgb_env, d_app2)
    assert len(gone) == 2 and len(kept) == 1

    res = shell(pgb_env, f"delete_backup_definition_id {d_app1}")
    assert res.returncode != 0  # has backups: needs force-deletion
    res = shell(pgb_env, f"delete_backup_definition_id {d_app1} force-deletion")
    assert res.returncode == 0, res.stdout + res.stderr
    s1.control_once()
    assert cron_def_ids(_crontab(pgb_env, n1)) == [d_app2]

    res = s1.maintenance_once()
    assert res.returncode == 0, res.stdout + res.stderr
    assert not any(p.exists() for r in gone for p in row_files(r))
    assert all(p.exists() for r in kept for p in row_files(r))
    assert backups(pgb_env, d_app2) == kept
    assert (
        pgb_env.su_query(
            "SELECT count(*) FROM backup_catalog WHERE def_id = %s", (d_app1,)
        )[0][0]
        == 0
    )


def test_delete_node_removes_only_its_files_on_both_servers(
    pgb_env: PgbEnv, node1: Any, node2: Any
) -> None:
    s1 = server1(pgb_env)
    s2 = add_server2(pgb_env, pgb_env.tmp)
    n1 = pgb_env.register_node(node1)
    n2 = pgb_env.register_node(node2)
    d1 = register_def(pgb_env, s1.server_id, n1, "app1", "31")
    d3 = register_def(pgb_env, s2.server_id, n2, "app3", "33")
    s1.control_once()
    s2.control_once()
    assert s1.dump(d1).returncode == 0
    assert s2.dump(d3).returncode == 0
    part1 = pgb_env.root / f"pgsql_node_{n1}"
    part2 = pgb_env.root / f"pgsql_node_{n2}"
    cache1 = [s.root / "cache_dir" / f"pgsql_node_{n1}.json" for s in (s1, s2)]
    assert cache1[0].exists()
    assert part1.is_dir() and part2.is_dir()

    assert shell(pgb_env, f"delete_pgsql_node {n1}").returncode != 0  # has definitions
    assert (
        shell(pgb_env, f"delete_backup_definition_id {d1} force-deletion").returncode
        == 0
    )
    res = shell(pgb_env, f"delete_pgsql_node {n1}")
    assert res.returncode == 0, res.stdout + res.stderr
    s1.maintenance_once()
    s1.control_once()
    s2.control_once()
    assert not _crontab(pgb_env, n1).exists()
    assert not part1.exists()
    assert not any(c.exists() for c in cache1)
    # node 2 untouched
    assert cron_def_ids(_crontab(pgb_env, n2)) == [d3]
    assert all(p.exists() for r in backups(pgb_env, d3) for p in row_files(r))
    assert (s2.root / "cache_dir" / f"pgsql_node_{n2}.json").exists()
    assert (part2 / "dump").is_dir()


@pytest.mark.slow
def test_move_whole_node_then_force_delete_spans_both_servers(
    pgb_env: PgbEnv, node1: Any
) -> None:
    s1 = server1(pgb_env)
    s2 = add_server2(pgb_env)
    n1 = pgb_env.register_node(node1)
    d1 = register_def(pgb_env, s1.server_id, n1, "app1", "14")
    s1.control_once()
    assert cron_def_ids(_crontab(pgb_env, n1)) == [d1]
    assert s1.dump(d1).returncode == 0

    res = shell(
        pgb_env, f"move_backup_definition {s1.server_id} {s2.server_id} all all all"
    )
    assert res.returncode == 0, res.stdout + res.stderr
    s1.control_once()  # no job left on server 1 for this node: header only
    assert _crontab(pgb_env, n1).exists() and cron_def_ids(_crontab(pgb_env, n1)) == []
    s2.control_once()
    assert cron_def_ids(_crontab(pgb_env, n1)) == [d1]
    assert s2.dump(d1).returncode == 0
    on1, on2 = backups(pgb_env, d1)
    assert (on1["server_id"], on2["server_id"]) == (s1.server_id, s2.server_id)

    assert (
        shell(pgb_env, f"delete_backup_definition_id {d1} force-deletion").returncode
        == 0
    )
    assert s2.maintenance_once().returncode == 0
    assert all(
        p.exists() for p in row_files(on1)
    )  # server 2 leaves server 1's files alone
    assert not any(p.exists() for p in row_files(on2))
    assert s1.maintenance_once().returncode == 0
    assert not any(p.exists() for p in row_files(on1))
    assert pgb_env.su_query("SELECT count(*) FROM catalog_entries_to_delete")[0][0] == 0
