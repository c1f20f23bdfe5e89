"""PgSQL node commands through the real shell, checked against the catalog afterwards."""

from __future__ import annotations

import json
from typing import Any

from support.pgbenv import BACKUP_SERVER_DOMAIN, PgbEnv
from support.shell import Shell


def nodes(pgb_env: PgbEnv) -> dict[str, tuple[Any, ...]]:
    rows = pgb_env.su_query(
        "SELECT hostname || '.' || domain_name || ':' || pgport, node_id, admin_user, status,"
        " remarks FROM pgsql_node"
    )
    return {r[0]: r[1:] for r in rows}


def test_register_manual_example(pgb_env: PgbEnv, shell: Shell) -> None:
    # The manual's example, on a host of the manual's domain ("" = this host's domain).
    shell_run = shell.on_host("pg-backup01.example.org").cmd
    res = shell_run('register_pgsql_node pg-node01 "" "" "" running "Test node"')
    assert res.returncode == 0, res.stdout
    assert "[Done] PgSQL node pg-node01.example.org registered." in res.stdout
    assert nodes(pgb_env)["pg-node01.example.org:5432"][1:] == (
        "postgres",
        "RUNNING",
        "Test node",
    )
    # The RUNNING node queued nothing yet (no definitions) but got its config rows.
    (count,) = pgb_env.su_query(
        "SELECT count(*) FROM pgsql_node_config c JOIN pgsql_node n USING (node_id)"
        " WHERE n.hostname = 'pg-node01'"
    )[0]
    assert count >= 19


def test_register_validation_writes_nothing(pgb_env: PgbEnv, shell_run: Any) -> None:
    cases = {
        'register_pgsql_node n1 "" abc "" "" ""': "Port value should be an INTEGER",
        'register_pgsql_node n1 "" 70000 "" "" ""': "between 1 and 65535",
        'register_pgsql_node n1 "" "" "" DOWN ""': "Status [DOWN] is not valid",
        'register_pgsql_node "" "" "" "" "" ""': "Hostname cannot be empty",
        'register_pgsql_node n1 "" "" "" "" "a\tb"': "control characters",
    }
    for cmd, msg in cases.items():
        res = shell_run(cmd)
        assert res.returncode == 1, cmd
        assert res.stdout.startswith("[ERROR]: ") and msg in res.stdout, (
            cmd,
            res.stdout,
        )
    assert nodes(pgb_env) == {}


def test_admin_user_case_is_kept(pgb_env: PgbEnv, shell_run: Any) -> None:
    res = shell_run('register_pgsql_node Node7 Example.COM 5433 "DbAdmin" stopped ""')
    assert res.returncode == 0, res.stdout
    assert nodes(pgb_env)["node7.example.com:5433"][1:3] == ("DbAdmin", "STOPPED")


def test_show_json_numeric_ids_and_fqdn_port_lookup(
    pgb_env: PgbEnv, shell_run: Any, node1: Any, node2: Any
) -> None:
    id1 = pgb_env.register_node(node1)
    id2 = pgb_env.register_node(node2)
    res = shell_run("show_pgsql_nodes", output="json")
    assert res.returncode == 0
    data = json.loads(res.stdout)["pgsql_nodes"]
    assert {d["nodeid"] for d in data} == {id1, id2}
    assert all(isinstance(d["pgport"], int) for d in data)
    # Same FQDN, two ports: FQDN alone is ambiguous, FQDN:port is exact.
    res = shell_run("show_pgsql_node_config 127.0.0.1")
    assert res.returncode == 1 and "ambiguous" in res.stdout
    res = shell_run(f"show_pgsql_node_config 127.0.0.1:{node2.port}", output="json")
    assert res.returncode == 0
    cfg = {
        r["parameter"]: r["value"] for r in json.loads(res.stdout)["pgsql_node_config"]
    }
    assert cfg["pgnode_backup_partition"].endswith(f"pgsql_node_{id2}")


def test_update_node(pgb_env: PgbEnv, shell_run: Any, node1: Any) -> None:
    nid = pgb_env.register_node(node1)
    res = shell_run(f'update_pgsql_node {nid} "" "" stopped "down for maintenance"')
    assert res.returncode == 0, res.stdout
    row = pgb_env.su_query(
        "SELECT pgport, admin_user, status, remarks FROM pgsql_node"
    )[0]
    assert row == (node1.port, "postgres", "STOPPED", "down for maintenance")
    # Updating an already STOPPED node works (upstream failed on the pgsql_node_stopped PK).
    res = shell_run(f'update_pgsql_node {nid} "" "" "" "still down"')
    assert res.returncode == 0, res.stdout
    res = shell_run(f'update_pgsql_node {nid} 0 "" "" ""')
    assert res.returncode == 1 and "between 1 and 65535" in res.stdout
    assert pgb_env.su_query("SELECT status, remarks FROM pgsql_node")[0] == (
        "STOPPED",
        "still down",
    )


def test_delete_node(pgb_env: PgbEnv, shell_run: Any, node1: Any) -> None:
    nid = pgb_env.register_node(node1)
    pgb_env.su_query(
        "SELECT register_backup_definition(%s,%s,'app1','10','01','*','*','*','FULL',false,"
        "'7 days',1,'','ACTIVE','')",
        (pgb_env.server_id, nid),
    )
    res = shell_run(f"delete_pgsql_node {nid}")
    assert res.returncode == 1
    assert res.stdout.startswith("[ERROR]: Could not delete this PgSQL node:")
    assert len(nodes(pgb_env)) == 1
    pgb_env.su("DELETE FROM backup_definition")
    res = shell_run(f"delete_pgsql_node 127.0.0.1:{node1.port}")
    assert res.returncode == 0, res.stdout
    assert "[Done] PgSQL node deleted." in res.stdout
    assert nodes(pgb_env) == {}
    assert shell_run("delete_pgsql_node no.such.node").stdout.startswith(
        "[ERROR]: PgSQL node [no.such.node] does not exist"
    )


def test_node_stats_are_about_the_node(
    pgb_env: PgbEnv, shell_run: Any, node1: Any
) -> None:
    nid = pgb_env.register_node(node1)
    for db in ("app1", "app2"):
        pgb_env.su_query(
            "SELECT register_backup_definition(%s,%s,%s,'10','01','*','*','*','SCHEMA',false,"
            "'7 days',1,'','ACTIVE','')",
            (pgb_env.server_id, nid, db),
        )
    res = shell_run(f"show_pgsql_node_stats {nid}", output="json")
    assert res.returncode == 0, res.stdout
    stats = json.loads(res.stdout)["pgsql_node_stats"][0]
    assert stats["pgsql_node"] == f"[{nid}] 127.0.0.1"
    assert stats["backup_servers_running_backups_for_this_node"] == 1
    assert stats["backup_job_defs_with_schema_code"] == 2
    assert stats["different_databases"] == 2
    res = shell_run(f"show_backup_server_stats {pgb_env.server_id}", output="json")
    stats = json.loads(res.stdout)["backup_server_stats"][0]
    assert stats["pgsql_nodes_using_this_backup_server"] == 1
    assert stats["active_backup_job_defs"] == 2
    res = shell_run("show_pgbackman_stats", output="json")
    stats = json.loads(res.stdout)["pgbackman_stats"][0]
    assert (stats["running_pgsql_nodes"], stats["active_backup_job_defs"]) == (1, 2)
    res = shell_run("show_jobs_queue", output="json")
    queue = json.loads(res.stdout)["jobs_queue"]
    assert [(q["srvid"], q["nodeid"]) for q in queue] == [(pgb_env.server_id, nid)]


def test_interactive_register_update_delete(pgb_env: PgbEnv, shell_spawn: Any) -> None:
    sh = shell_spawn()
    sh.sendline("register_pgsql_node")
    for prompt, answer in (
        ("# Hostname []: ", "pg-node02"),
        (f"# Domain [{BACKUP_SERVER_DOMAIN}]: ", "example.org"),
        ("# Port [5432]: ", "5499"),
        ("# Admin user [postgres]: ", ""),
        ("# Status [STOPPED]: ", "running"),
        ("# Remarks []: ", "Test node"),
        ("# Are all values correct (yes/no): ", "yes"),
    ):
        sh.expect_exact(prompt)
        sh.sendline(answer)
    sh.expect_exact("[Done] PgSQL node pg-node02.example.org registered.")
    nid = nodes(pgb_env)["pg-node02.example.org:5499"][0]

    sh.sendline("update_pgsql_node")
    for prompt, answer in (
        ("# NodeID / FQDN []: ", "pg-node02.example.org"),
        ("# Port [5499]: ", ""),
        ("# Admin user [postgres]: ", ""),
        ("# Status [RUNNING]: ", "STOPPED"),
        ("# Remarks [Test node]: ", ""),
        ("# Are all values to update correct (yes/no): ", "yes"),
    ):
        sh.expect_exact(prompt)
        sh.sendline(answer)
    sh.expect_exact("[Done] PgSQL node pg-node02.example.org updated.")
    assert nodes(pgb_env)["pg-node02.example.org:5499"][1:] == (
        "postgres",
        "STOPPED",
        "Test node",
    )

    sh.sendline("delete_pgsql_node")
    sh.expect_exact("# NodeID / FQDN []: ")
    sh.sendline(str(nid))
    sh.expect_exact("# Are you sure you want to delete this server? (yes/no): ")
    sh.sendline("yes")
    sh.expect_exact("[Done] PgSQL node deleted.")
    assert nodes(pgb_env) == {}
    sh.sendeof()
    sh.expect_exact("Done, thank you for using PgBackMan")
    sh.wait()
    assert sh.exitstatus == 0
