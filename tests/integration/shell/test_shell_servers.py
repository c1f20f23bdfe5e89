"""Backup server commands through the real shell: -C, stdin scripts and interactive prompts."""

from __future__ import annotations

import json
from typing import Any

from support.pgbenv import BACKUP_SERVER_DOMAIN, BACKUP_SERVER_FQDN, PgbEnv
from support.shell import Shell


def servers(pgb_env: PgbEnv) -> dict[str, tuple[Any, ...]]:
    rows = pgb_env.su_query(
        "SELECT hostname || '.' || domain_name, server_id, status, remarks FROM backup_server"
    )
    return {r[0]: r[1:] for r in rows}


def test_register_and_delete_manual_examples(pgb_env: PgbEnv, shell: Shell) -> None:
    # The manual's example, on a host of the manual's domain ("" = this host's domain).
    shell_run = shell.on_host("pg-backup01.example.org").cmd
    res = shell_run('register_backup_server backup01 "" "Test server"')
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == "[Done] Backup server backup01.example.org registered."
    assert servers(pgb_env)["backup01.example.org"] == (2, "RUNNING", "Test server")
    res = shell_run("delete_backup_server 2")
    assert res.returncode == 0, res.stdout
    assert res.stdout.strip() == "[Done] Backup server deleted."
    assert "backup01.example.org" not in servers(pgb_env)


def test_domain_default_follows_the_host(pgb_env: PgbEnv, shell: Shell) -> None:
    """ "" (and Enter at the Domain prompt) means the domain a DBA set in the catalog, else
    the domain of this host (the catalog ships the placeholder example.org)."""
    res = shell.cmd('register_backup_server b7 "" ""')
    assert (
        res.stdout.strip()
        == f"[Done] Backup server b7.{BACKUP_SERVER_DOMAIN} registered."
    )
    res = shell.cmd('register_pgsql_node n7 "" 5433 "" "" ""')
    assert (
        res.stdout.strip() == f"[Done] PgSQL node n7.{BACKUP_SERVER_DOMAIN} registered."
    )
    res = shell.on_host("vm").cmd('register_backup_server b8 "" ""')  # no domain
    assert res.stdout.strip() == "[Done] Backup server b8.example.org registered."
    pgb_env.su(
        "UPDATE backup_server_default_config SET value = 'dba.example.net'"
        " WHERE parameter = 'domain'"
    )
    res = shell.cmd('register_backup_server b9 "" ""')
    assert res.stdout.strip() == "[Done] Backup server b9.dba.example.net registered."
    assert {"b7.pgbackman.test", "b8.example.org", "b9.dba.example.net"} <= set(
        servers(pgb_env)
    )


def test_register_keeps_case_of_remarks_and_rejects_bad_host(
    pgb_env: PgbEnv, shell_run: Any
) -> None:
    res = shell_run(
        'register_backup_server BackUp03 pgbackman.test "Mixed Case Remarks"'
    )
    assert res.returncode == 0, res.stdout
    assert servers(pgb_env)["backup03.pgbackman.test"][2] == "Mixed Case Remarks"
    before = servers(pgb_env)
    res = shell_run('register_backup_server "bad host" "" ""')
    assert res.returncode == 1
    assert res.stdout.startswith("[ERROR]: Hostname [bad host] is not a valid")
    res = shell_run('register_backup_server "x\ny" "" ""')
    assert res.returncode == 1 and "control characters" in res.stdout
    assert servers(pgb_env) == before


def test_register_duplicate_is_one_line_error(pgb_env: PgbEnv, shell_run: Any) -> None:
    res = shell_run('register_backup_server backup01 pgbackman.test ""')
    assert res.returncode == 1
    assert res.stdout.strip().splitlines() == [
        "[ERROR]: Backup server backup01.pgbackman.test is already registered"
    ]


def test_wrong_number_of_parameters(pgb_env: PgbEnv, shell_run: Any) -> None:
    for cmd in (
        "register_backup_server a b",
        "register_backup_server",
        "show_backup_servers x",
    ):
        res = shell_run(cmd)
        assert res.returncode == 1
        assert res.stdout.splitlines() == [
            "[ERROR] - Wrong number of parameters used.",
            "Type help or \\? to list commands",
        ]


def test_show_backup_servers_formats(pgb_env: PgbEnv, shell_run: Any) -> None:
    shell_run(
        'register_backup_server b2 "ex, ample.org" "has, comma"'
    )  # invalid domain
    shell_run('register_backup_server b2 example.org "has, comma \\"quoted\\""')
    res = shell_run("show_backup_servers", output="json")
    assert res.returncode == 0
    data = json.loads(res.stdout)["backup_servers"]
    by_fqdn = {d["fqdn"]: d for d in data}
    assert by_fqdn[BACKUP_SERVER_FQDN]["srvid"] == pgb_env.server_id
    assert by_fqdn["b2.example.org"]["remarks"] == 'has, comma "quoted"'
    res = shell_run("show_backup_servers", output="csv")
    lines = res.stdout.splitlines()
    assert lines[0] == "srvid,fqdn,remarks"
    assert '"has, comma ""quoted"""' in res.stdout
    res = shell_run("show_backup_servers")
    assert "| SrvID |" in res.stdout.replace("  ", " ") or "SrvID" in res.stdout
    assert BACKUP_SERVER_FQDN in res.stdout


def test_update_and_delete(pgb_env: PgbEnv, shell_run: Any) -> None:
    assert shell_run('register_backup_server backup09 example.org ""').returncode == 0
    sid = servers(pgb_env)["backup09.example.org"][0]
    res = shell_run(f'update_backup_server {sid} "New remarks"')
    assert res.returncode == 0, res.stdout
    assert servers(pgb_env)["backup09.example.org"][2] == "New remarks"
    res = shell_run('update_backup_server backup09.example.org ""')  # "" keeps current
    assert res.returncode == 0
    assert res.stdout.strip() == (
        "[Nothing changed] Backup server backup09.example.org already has these values."
    )
    assert servers(pgb_env)["backup09.example.org"][2] == "New remarks"
    res = shell_run("delete_backup_server backup09.example.org")
    assert res.returncode == 0
    assert "[Done] Backup server deleted." in res.stdout
    assert "backup09.example.org" not in servers(pgb_env)
    res = shell_run("delete_backup_server 99999")
    assert res.returncode == 1 and "does not exist" in res.stdout


def test_delete_server_in_use_fails(
    pgb_env: PgbEnv, shell_run: Any, node1: Any
) -> None:
    node_id = pgb_env.register_node(node1)
    pgb_env.su_query(
        "SELECT register_backup_definition(%s,%s,'app1','10','01','*','*','*','FULL',false,"
        "'7 days',1,'','ACTIVE','')",
        (pgb_env.server_id, node_id),
    )
    res = shell_run(f"delete_backup_server {pgb_env.server_id}")
    assert res.returncode == 1
    assert res.stdout.startswith("[ERROR]: Could not delete this backup server:")
    assert BACKUP_SERVER_FQDN in servers(pgb_env)


def test_interactive_register_and_delete(pgb_env: PgbEnv, shell_spawn: Any) -> None:
    sh = shell_spawn()
    sh.sendline("register_backup_server")
    sh.expect_exact("# Hostname []: ")
    sh.sendline("backup05")
    # The catalog's default domain is the shipped placeholder: this host's domain instead.
    sh.expect_exact(f"# Domain [{BACKUP_SERVER_DOMAIN}]: ")
    sh.sendline("example.org")
    sh.expect_exact("# Remarks []: ")
    sh.sendline("Test server")
    sh.expect_exact("# Are all values correct (yes/no): ")
    sh.sendline("maybe")
    sh.expect_exact("# Are all values correct (yes/no): ")
    sh.sendline("yes")
    sh.expect_exact("[Done] Backup server backup05.example.org registered.")
    sh.expect(r"\[pgbackman\]\$ ")
    assert servers(pgb_env)["backup05.example.org"][2] == "Test server"

    sh.sendline("delete_backup_server")
    sh.expect_exact(f"# SrvID / FQDN [{BACKUP_SERVER_FQDN}]: ")
    sh.sendline("backup05.example.org")
    sh.expect_exact("# Are you sure you want to delete this server? (yes/no): ")
    sh.sendline("no")
    sh.expect_exact("[ABORTED] Command interrupted by the user.")
    assert "backup05.example.org" in servers(pgb_env)
    sh.sendline("delete_backup_server")
    sh.expect_exact("# SrvID / FQDN [")
    sh.sendline("backup05.example.org")
    sh.expect_exact("(yes/no): ")
    sh.sendline("yes")
    sh.expect_exact("[Done] Backup server deleted.")
    assert "backup05.example.org" not in servers(pgb_env)

    # Ctrl-C inside a prompt cancels the command, not the shell.
    sh.sendline("register_backup_server")
    sh.expect_exact("# Hostname []: ")
    sh.sendintr()
    sh.expect_exact("[ABORTED] Command interrupted by the user.")
    sh.expect(r"\[pgbackman\]\$ ")
    sh.sendline("register_backup_server a b")
    sh.expect_exact("[ERROR] - Wrong number of parameters used.")
    sh.sendline("quit")
    sh.expect_exact("Done, thank you for using PgBackMan")
    sh.expect(r"\$|$", timeout=5)
    sh.wait()
    assert sh.exitstatus == 0
