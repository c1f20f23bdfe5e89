"""Shell framework end to end: help, shortcuts, scripts, set, shell, history, completion,
version check, catalog outages."""

from __future__ import annotations

import time

import json
import subprocess
from pathlib import Path
from typing import Any

from support.pgbenv import PgbEnv, write_config
from support.shell import PGBACKMAN, Shell

PROMPT = r"\[pgbackman\]\$ "


def test_help(shell_run: Any) -> None:
    res = shell_run("help")
    assert res.returncode == 0
    assert "Documented commands (type help <topic>):" in res.stdout
    for name in (
        "show_backup_servers",
        "register_pgsql_node",
        "update_pgsql_node_config",
        "show_jobs_queue",
        "set",
        "shell",
        "quit",
    ):
        assert name in res.stdout
    assert "shortcuts" in res.stdout and "support" in res.stdout
    res = shell_run("help register_pgsql_node")
    assert (
        "register_pgsql_node [hostname] [domain] [pgport] [admin_user] [status] [remarks]"
        in res.stdout
    )
    assert 'register_pgsql_node pg-node01 "" "" "" running "Test node"' in res.stdout
    res = shell_run("\\? update_backup_server_config")
    assert "[pgsql_bin_12]" in res.stdout and "[root_backup_dir]" in res.stdout
    assert "\\q - quit PgBackMan shell" in shell_run("help shortcuts").stdout
    assert "github.com/rafaelma/pgbackman" in shell_run("\\h support").stdout
    res = shell_run("help no_such_command")
    assert res.returncode == 1 and res.stdout.startswith(
        "[ERROR]: No help on [no_such_command]"
    )


def test_unknown_command_and_quoting_errors(shell_run: Any) -> None:
    res = shell_run("Show_Backup_Servers")  # no lower-casing: unknown, as typed
    assert res.returncode == 1
    assert res.stdout.strip() == "[ERROR] - Unknown command: [Show_Backup_Servers]."
    res = shell_run('register_backup_server "unbalanced')
    assert res.returncode == 1 and res.stdout.strip() == "[ERROR]: No closing quotation"


def test_script_on_stdin(pgb_env: PgbEnv, shell_script: Any) -> None:
    script = (
        "# a comment line\n"
        'register_backup_server scripted "" "from a script"\n'
        "\n"
        "set output_format=json\n"
        "show_backup_servers\n"
    )
    res = shell_script(script)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Welcome" not in res.stdout and "[pgbackman]$" not in res.stdout
    body = res.stdout[res.stdout.index("{") :]
    fqdns = [s["fqdn"] for s in json.loads(body)["backup_servers"]]
    assert "scripted.pgbackman.test" in fqdns  # "" = this host's domain
    # A command that would prompt fails instead, and the script's status says so.
    res = shell_script("register_backup_server\nshow_backup_servers\n")
    assert res.returncode == 1
    assert res.stdout.startswith("[ERROR] - Wrong number of parameters used.")
    assert "backup01.pgbackman.test" in res.stdout  # later lines still ran
    res = shell_script("show_backup_servers\nquit\nno_such_command\n")
    assert res.returncode == 0 and "Unknown command" not in res.stdout


def test_set_output_format(shell_run: Any, shell_script: Any) -> None:
    res = shell_run("set output_format=yaml")
    assert res.returncode == 1 and "Output format [yaml] is not valid" in res.stdout
    res = shell_run("set colour=red")
    assert res.returncode == 1 and "not a valid parameter" in res.stdout
    res = shell_script(
        "set output_format=csv\nshow_backup_servers\nset output_format=\n"
    )
    assert "[Done] Output format changed to [csv]" in res.stdout
    assert "srvid,fqdn,remarks" in res.stdout
    assert "[Done] Output format changed to [table]" in res.stdout


def test_shell_command_runs_without_sh(pgb_env: PgbEnv, shell_run: Any) -> None:
    marker = pgb_env.tmp / "P"
    res = shell_run(f"shell echo 'a b' ; touch {marker}")
    assert res.returncode == 0
    assert res.stdout.strip() == f"a b ; touch {marker}"
    assert not marker.exists()
    res = shell_run("\\! false")
    assert res.returncode == 1 and "exited with status 1" in res.stdout
    res = shell_run("\\! /no/such/program")
    assert res.returncode == 1 and "Cannot run [/no/such/program]" in res.stdout


def test_interactive_history_completion_and_shortcuts(
    pgb_env: PgbEnv, shell_spawn: Any
) -> None:
    sh = shell_spawn()
    sh.send("show_jobs_q\t")  # unique prefix: completed
    sh.expect_exact("ueue")
    sh.sendline("")
    sh.expect_exact("JobID")
    sh.expect(PROMPT)
    sh.send("show_backup_server_config backup01.pgb\t")  # FQDNs complete too
    sh.expect_exact("ackman.test")
    sh.sendline("")
    sh.expect_exact("root_backup_partition")
    sh.expect(PROMPT)
    sh.sendline("help set")
    sh.expect_exact("set [parameter=value]")
    sh.sendline("\\s")
    sh.expect_exact("[1]: show_jobs_queue")
    sh.expect_exact("[2]: show_backup_server_config backup01.pgbackman.test")
    sh.expect_exact("[3]: help set")
    sh.expect_exact("[4]: \\s")
    sh.expect(PROMPT)
    # Inside a prompt, completion offers what the question asks for.
    sh.sendline("show_backup_server_stats")
    sh.expect_exact("# SrvID / FQDN [backup01.pgbackman.test]: ")
    sh.send("backup01.pg\t")
    sh.expect_exact("backman.test")
    sh.sendline("")
    sh.expect_exact("PgSQL nodes using this backup server:")
    sh.expect(PROMPT)
    # Ctrl-C at the prompt clears the line and keeps the shell.
    sh.send("show_pgsql_no")
    # Wait until readline has echoed the text, as a person would before pressing Ctrl-C:
    # CPython's readline loop only sees a signal that interrupts its select(), so a SIGINT
    # racing the processing of the typed characters is noticed at the next keystroke only.
    sh.expect_exact("show_pgsql_no")
    time.sleep(0.3)
    sh.sendintr()
    sh.expect(PROMPT)
    sh.sendline("\\q")
    sh.expect_exact("Done, thank you for using PgBackMan")
    sh.wait()
    assert sh.exitstatus == 0
    history = (pgb_env.tmp / "home" / ".pgbackman" / "history").read_text()
    assert "show_jobs_queue" in history and "help set" in history


def test_interactive_version_mismatch(pgb_env: PgbEnv, shell_spawn: Any) -> None:
    import pexpect

    pgb_env.su("INSERT INTO pgbackman_version (version, tag) VALUES (99, 'v_99_0_0')")
    child = pexpect.spawn(
        PGBACKMAN, [], env=Shell(pgb_env).env, encoding="utf-8", timeout=20
    )
    child.expect_exact("schema version 99")
    child.expect(pexpect.EOF)
    child.wait()
    assert child.exitstatus == 1


def test_catalog_unreachable(pgb_env: PgbEnv, tmp_path: Path) -> None:
    cfg = tmp_path / "down.conf"
    write_config(
        cfg,
        {
            "pgbackman_database": {
                "host": "127.0.0.1",
                "port": 1,
                "connect_timeout": 2,
            },
            "logging": {"log_file": str(tmp_path / "log")},
        },
    )
    env = Shell(pgb_env).env
    env["PGBACKMAN_CONFIG"] = str(cfg)
    res = subprocess.run(
        [PGBACKMAN, "-C", "show_backup_servers"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 1
    assert res.stdout.startswith("[ERROR]: Cannot connect to the catalog database")
    assert "Traceback" not in res.stdout + res.stderr


def test_reconnect_after_lost_connection(pgb_env: PgbEnv, shell_spawn: Any) -> None:
    sh = shell_spawn()
    sh.sendline("show_backup_servers")
    sh.expect_exact("backup01.pgbackman.test")
    sh.expect(PROMPT)
    kill = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = 'pgbackman_cli'"
    )
    pgb_env.su(kill)
    sh.sendline("show_backup_servers")  # read-only: transparently re-run once
    sh.expect_exact("backup01.pgbackman.test")
    sh.expect(PROMPT)
    pgb_env.su(kill)
    sh.sendline('register_backup_server lost "" ""')  # writer: never re-run blindly
    sh.expect_exact(
        "reconnected to the catalog; the command was not completed, run it again"
    )
    sh.expect(PROMPT)
    assert (
        pgb_env.su_query("SELECT count(*) FROM backup_server WHERE hostname = 'lost'")[
            0
        ][0]
        == 0
    )
    sh.sendline('register_backup_server lost "" ""')
    sh.expect_exact("[Done] Backup server lost.pgbackman.test registered.")
    sh.sendline("quit")
    sh.expect_exact("Done, thank you")
