"""The interactive shell as a DBA types into it (pexpect, a real pty): every answer is checked
as soon as it is typed and asked again, Tab completes what the position asks for, Ctrl-C
aborts a command cleanly (also when SIGINT was inherited ignored), long output is paged."""

from __future__ import annotations

import time
from typing import Any

import pexpect

from shell_helpers import add_backup, definitions, reg
from support.pgbenv import BACKUP_SERVER_DOMAIN, BACKUP_SERVER_FQDN, PgbEnv
from support.shell import PROMPT, Shell, answer, quit_shell


def _node_row(pgb_env: PgbEnv, hostname: str) -> list[tuple[Any, ...]]:
    return pgb_env.su_query(
        "SELECT pgport, status, remarks FROM pgsql_node WHERE hostname = %s",
        (hostname,),
    )


def test_bad_port_is_reported_at_once_and_asked_again(
    pgb_env: PgbEnv, shell: Shell
) -> None:
    sh = shell.spawn()
    sh.sendline("register_pgsql_node")
    answer(sh, "# Hostname []", "pg-typed")
    answer(sh, f"# Domain [{BACKUP_SERVER_DOMAIN}]", "")
    answer(sh, "# Port [5432]", "abc")
    sh.expect_exact(
        "[ERROR]: Port value should be an INTEGER between 1 and 65535: [abc]"
    )
    sh.expect_exact("# Port [5432]: ")  # the same question, nothing before it again
    assert "# Hostname" not in sh.before and "# Domain" not in sh.before
    sh.sendline("70000")
    sh.expect_exact("[ERROR]: Port value should be between 1 and 65535: [70000]")
    answer(sh, "# Port [5432]", "5433")
    answer(sh, "# Admin user [postgres]", "")
    answer(sh, "# Status [STOPPED]", "DOWN")
    sh.expect_exact("[ERROR]: Status [DOWN] is not valid; use one of RUNNING, STOPPED")
    answer(sh, "# Status [STOPPED]", "running")
    answer(sh, "# Remarks []", "typed")
    answer(sh, "# Are all values correct (yes/no)", "yes")
    sh.expect_exact(f"[Done] PgSQL node pg-typed.{BACKUP_SERVER_DOMAIN} registered.")
    quit_shell(sh)
    assert _node_row(pgb_env, "pg-typed") == [(5433, "RUNNING", "typed")]


def test_bad_values_cost_one_answer_each_not_a_run_each(
    pgb_env: PgbEnv, node1: Any, shell: Shell
) -> None:
    nid = pgb_env.register_node(node1)
    sh = shell.spawn()
    sh.sendline("register_backup_definition")
    answer(sh, f"# Backup server SrvID / FQDN [{BACKUP_SERVER_FQDN}]", "")
    answer(sh, "# PgSQL node NodeID / FQDN []", "no.such.node")
    sh.expect_exact("[ERROR]: PgSQL node [no.such.node] does not exist")
    answer(sh, "# PgSQL node NodeID / FQDN []", str(nid))
    answer(sh, "# DBname []", "nosuchdb")
    sh.expect_exact("[ERROR]: Database [nosuchdb] does not exist in the PgSQL node")
    answer(sh, "# DBname []", "app1")
    answer(sh, "# DBname exceptions []", "")
    answer(sh, "# Minutes cron [", "61")
    sh.expect_exact("[ERROR]: Invalid Minutes cron value [61]")
    answer(sh, "# Minutes cron [", "15")
    for label in ("Hours cron", "Day-month cron", "Month cron", "Weekday cron"):
        answer(sh, f"# {label} [", "")
    answer(sh, "# Backup code [FULL]", "CONFIG")
    sh.expect_exact("[ERROR]: Backup code [CONFIG] is not valid")
    answer(sh, "# Backup code [FULL]", "schema")
    # Values that depend on the backup server or the node's pg_dump: checked when typed.
    answer(sh, "# Encryption [false]", "true")
    sh.expect_exact("has no encryption_recipients")
    answer(sh, "# Encryption [false]", "")
    for label in (
        "Retention period",
        "Retention redundancy",
        "Extra parameters",
        "Job status",
        "Remarks",
    ):
        answer(sh, f"# {label} [", "")
    answer(sh, "# Backup compression [default]", "zstd:3")
    sh.expect_exact("zstd:3 needs pg_dump 16 or newer")
    answer(sh, "# Backup compression [default]", "gzip:9")
    answer(sh, "# Are all values correct (yes/no)", "yes")
    sh.expect_exact("[Done] Backup definition for dbname: [app1] registered.")
    quit_shell(sh)
    ((_, _, node, db, minutes, *_rest),) = definitions(pgb_env)
    assert (node, db, minutes) == (nid, "app1", "15")
    assert (_rest[4], _rest[5]) == ("SCHEMA", False)
    assert pgb_env.su_query("SELECT backup_compression FROM backup_definition") == [
        ("gzip:9",)
    ]


def _listing_after_tab_tab(sh: pexpect.spawn, line: str) -> str:
    """Type ``line``, press Tab twice, return what readline listed; drop the line."""
    sh.send(line)
    sh.expect_exact(line)
    time.sleep(0.3)  # let readline take the typed text before the Tabs
    sh.send("\t\t")
    sh.expect(PROMPT)  # readline lists the candidates, then shows the line again
    shown = sh.before
    sh.expect_exact(line)
    time.sleep(0.3)
    sh.sendintr()  # Ctrl-C at the prompt: the line is dropped
    sh.expect(PROMPT)
    return shown


def test_tab_tab_offers_the_node_databases(
    pgb_env: PgbEnv, node1: Any, shell: Shell
) -> None:
    nid = pgb_env.register_node(node1)
    sh = shell.spawn()
    shown = _listing_after_tab_tab(
        sh, f"register_backup_definition {pgb_env.server_id} {nid} "
    )
    for name in ("app1", "app2", "#all_databases#"):
        assert name in shown, shown
    assert BACKUP_SERVER_FQDN not in shown  # not the servers of position 1
    # Position 10 (backup code) offers the codes, position 2 after a node its databases.
    shown = _listing_after_tab_tab(
        sh,
        f"register_backup_definition {pgb_env.server_id} {nid} app1 '' 10 01 '*' '*' '*' ",
    )
    for code in ("FULL", "SCHEMA", "DATA", "CLUSTER", "RDS"):
        assert code in shown, shown
    sh.sendline("quit")
    sh.expect(pexpect.EOF)


def test_show_backup_details_completes_backup_ids(
    pgb_env: PgbEnv, node1: Any, shell: Shell
) -> None:
    nid = pgb_env.register_node(node1)
    assert shell.cmd(reg(nid, "app1")).rc == 0
    bck = add_backup(pgb_env, nid, "app1", def_id=definitions(pgb_env)[0][0])
    sh = shell.spawn()
    sh.send("show_backup_details ")
    sh.expect_exact("show_backup_details ")
    time.sleep(0.3)
    sh.send("\t")  # one backup: completed in place
    sh.expect_exact(str(bck))
    sh.sendline("")
    sh.expect_exact("Execution status:")
    quit_shell(sh)


def _ctrl_c_aborts(sh: pexpect.spawn, pgb_env: PgbEnv) -> None:
    # At the command prompt: the typed text is dropped and the shell stays.
    sh.send("show_backup_serv")
    sh.expect_exact("show_backup_serv")
    time.sleep(0.3)  # let readline finish echoing (see test_shell_session)
    sh.sendintr()
    sh.expect(PROMPT)
    sh.sendline("show_jobs_queue")
    sh.expect_exact("JobID")  # the interrupted text did not stick to this line
    sh.expect(PROMPT)
    # Inside a command's questions, also right after a re-asked bad value.
    sh.sendline("register_pgsql_node")
    answer(sh, "# Hostname []", "interrupted")
    answer(sh, "# Domain [", "")
    answer(sh, "# Port [", "not-a-port")
    sh.expect_exact("[ERROR]: Port value should be an INTEGER")
    sh.expect_exact("# Port [")
    sh.sendintr()
    sh.expect_exact("[ABORTED] Command interrupted by the user.")
    sh.expect(PROMPT)
    # At the confirmation.
    sh.sendline("register_backup_server")
    answer(sh, "# Hostname []", "interrupted")
    answer(sh, "# Domain [", "")
    answer(sh, "# Remarks []", "")
    sh.expect_exact("# Are all values correct (yes/no): ")
    sh.sendintr()
    sh.expect_exact("[ABORTED] Command interrupted by the user.")
    sh.expect(PROMPT)
    sh.sendline("quit")
    sh.expect_exact("Done, thank you for using PgBackMan")
    sh.expect(pexpect.EOF)
    sh.wait()
    assert sh.exitstatus == 0
    assert _node_row(pgb_env, "interrupted") == []
    assert pgb_env.su_query(
        "SELECT count(*) FROM backup_server WHERE hostname = 'interrupted'"
    ) == [(0,)]


def test_ctrl_c_aborts_a_command_cleanly(pgb_env: PgbEnv, shell: Shell) -> None:
    _ctrl_c_aborts(shell.spawn(), pgb_env)


def test_ctrl_c_works_when_sigint_is_inherited_ignored(
    pgb_env: PgbEnv, shell: Shell
) -> None:
    """Started from a background job or nohup, the shell inherits SIGINT ignored; it sets
    its own handler, so Ctrl-C behaves the same."""
    _ctrl_c_aborts(shell.spawn(sigint_ignored=True), pgb_env)


def test_long_output_goes_through_the_pager(
    pgb_env: PgbEnv, node1: Any, shell: Shell
) -> None:
    nid = pgb_env.register_node(node1)
    sh = shell.spawn(env={"PAGER": "sed -e s/^/PAGED:/"}, dimensions=(20, 250))
    sh.sendline(f"show_pgsql_node_config {nid}")  # ~25 lines on a 20-line terminal
    sh.expect_exact("PAGED:| automatic_deletion_retention")
    sh.expect(PROMPT)
    sh.sendline("show_backup_servers")  # fits: written directly
    sh.expect_exact(BACKUP_SERVER_FQDN)
    sh.expect(PROMPT)
    assert "PAGED:" not in sh.before
    sh.sendline("set pager off")
    sh.expect_exact("[Done] Pager changed to [off]")
    sh.sendline("set pager=off")
    sh.expect_exact("[Nothing changed] Pager is already [off]")
    sh.sendline(f"show_pgsql_node_config {nid}")
    sh.expect_exact("| automatic_deletion_retention")
    sh.expect(PROMPT)
    assert "PAGED:" not in sh.before
    sh.sendline("quit")
    sh.expect(pexpect.EOF)
