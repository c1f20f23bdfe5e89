"""Server/node configuration commands and show_pgbackman_config through the real shell."""

from __future__ import annotations

import json
from typing import Any

from support.pgbenv import PgbEnv


def node_cfg(pgb_env: PgbEnv, nid: int) -> dict[str, str]:
    return dict(
        pgb_env.su_query(
            "SELECT parameter, value FROM pgsql_node_config WHERE node_id = %s", (nid,)
        )
    )


def server_cfg(pgb_env: PgbEnv) -> dict[str, str]:
    return dict(
        pgb_env.su_query(
            "SELECT parameter, value FROM backup_server_config WHERE server_id = %s",
            (pgb_env.server_id,),
        )
    )


def test_update_pgsql_node_config_documented_order(
    pgb_env: PgbEnv, shell_run: Any, node1: Any
) -> None:
    nid = pgb_env.register_node(node1)
    args = [
        str(nid),
        "05-30",
        "02-04",
        "1",
        "2",
        "3",
        "schema",
        "14 days",
        "2",
        "30 days",
        "--no-owner",
        "--no-acl",
        "stopped",
        "example.net",
        "dba@example.net",
        "dbadmin",
        "5433",
        f"{pgb_env.root}/x/node",
        f"{pgb_env.cron_dir}/x_node",
        "running",
    ]
    res = shell_run("update_pgsql_node_config " + " ".join(f'"{a}"' for a in args))
    assert res.returncode == 0, res.stdout
    assert f"[Done] Configuration parameters for NodeID: {nid} updated." in res.stdout
    cfg = node_cfg(pgb_env, nid)
    assert cfg["backup_minutes_interval"] == "05-30"
    assert cfg["backup_hours_interval"] == "02-04"
    assert (
        cfg["backup_day_month_cron"],
        cfg["backup_month_cron"],
        cfg["backup_weekday_cron"],
    ) == ("1", "2", "3")
    assert cfg["backup_code"] == "SCHEMA"
    assert cfg["retention_period"] == "14 days"
    assert cfg["retention_redundancy"] == "2"
    # Positions 10-12 in the documented order (upstream read them shifted).
    assert cfg["automatic_deletion_retention"] == "30 days"
    assert cfg["extra_backup_parameters"] == "--no-owner"
    assert cfg["extra_restore_parameters"] == "--no-acl"
    assert cfg["backup_job_status"] == "STOPPED"
    assert (cfg["domain"], cfg["logs_email"], cfg["admin_user"], cfg["pgport"]) == (
        "example.net",
        "dba@example.net",
        "dbadmin",
        "5433",
    )
    assert (cfg["pgnode_backup_partition"], cfg["pgnode_crontab_file"]) == (
        f"{pgb_env.root}/x/node",
        f"{pgb_env.cron_dir}/x_node",
    )
    assert cfg["pgsql_node_status"] == "RUNNING"


def test_update_pgsql_node_config_bad_values_change_nothing(
    pgb_env: PgbEnv, shell_run: Any, node1: Any
) -> None:
    nid = pgb_env.register_node(node1)
    before = node_cfg(pgb_env, nid)
    empty = [""] * 19
    bad = {
        0: ("30-05", "Minutes cron interval [30-05] is not valid"),
        1: ("01-24", "Hours cron interval [01-24] is not valid"),
        5: ("CONFIG", "Backup code [CONFIG] is not valid"),
        6: ("7 dayz", "Retention period [7 dayz] is not a valid interval"),
        7: ("0", "Retention redundancy [0] must be an integer between 1 and 999999"),
        11: ("PAUSED", "Backup Job status [PAUSED] is not valid"),
        15: ("99999", "between 1 and 65535"),
        16: ("relative/dir", "must be an absolute path"),
        18: ("DOWN", "PgSQL node status [DOWN] is not valid"),
    }
    for pos, (value, msg) in bad.items():
        args = list(empty)
        args[0] = (
            "01-10"  # a valid change before the bad one: must not be applied either
        )
        args[pos] = value
        cmd = f"update_pgsql_node_config {nid} " + " ".join(f'"{a}"' for a in args)
        res = shell_run(cmd)
        assert res.returncode == 1, cmd
        assert msg in res.stdout, (pos, res.stdout)
    # A cron field only the catalog rejects: the transaction leaves nothing behind.
    args = list(empty)
    args[0], args[2] = "01-10", "61"
    res = shell_run(
        f"update_pgsql_node_config {nid} " + " ".join(f'"{a}"' for a in args)
    )
    assert res.returncode == 1 and res.stdout.startswith("[ERROR]: ")
    assert node_cfg(pgb_env, nid) == before
    res = shell_run(f"update_pgsql_node_config {nid} 01-10")
    assert res.returncode == 1 and "Wrong number of parameters" in res.stdout


def test_update_backup_server_config(pgb_env: PgbEnv, shell_run: Any) -> None:
    res = shell_run(
        f'update_backup_server_config {pgb_env.server_id} "" "" "" "" /opt/pg16/bin "" "" ""'
    )
    assert res.returncode == 0, res.stdout
    assert server_cfg(pgb_env)["pgsql_bin_16"] == "/opt/pg16/bin"
    assert server_cfg(pgb_env)["pgsql_bin_15"] == "/usr/lib/postgresql/15/bin"
    before = server_cfg(pgb_env)
    res = shell_run(
        'update_backup_server_config backup01.pgbackman.test "" "" "" "" "" "" "" rel'
    )
    assert (
        res.returncode == 1
        and "Main backup dir [rel] must be an absolute path" in res.stdout
    )
    assert server_cfg(pgb_env) == before
    res = shell_run("show_backup_server_config backup01.pgbackman.test", output="json")
    rows = json.loads(res.stdout)["backup_server_config"]
    assert {
        "parameter": "pgsql_bin_16",
        "value": "/opt/pg16/bin",
        "description": "PostgreSQL 16 bin directory",
    } in rows


def test_update_config_interactive(
    pgb_env: PgbEnv, shell_spawn: Any, node1: Any
) -> None:
    nid = pgb_env.register_node(node1)
    sh = shell_spawn()
    sh.sendline("update_backup_server_config")
    sh.expect_exact("# SrvID / FQDN [backup01.pgbackman.test]: ")
    sh.sendline("")
    for major in range(12, 19):
        sh.expect_exact(f"# PgSQL bindir {major} [/usr/lib/postgresql/{major}/bin]: ")
        sh.sendline("/opt/pg17/bin" if major == 17 else "")
    sh.expect_exact("# Main backup dir [")
    sh.sendline("")
    sh.expect_exact("# Encryption recipients []: ")
    sh.sendline("")
    # The offsite parameters are asked after the encryption recipients.
    sh.expect_exact("# Offsite URL []: ")
    sh.sendline("s3://pg-backups/site-a")
    sh.expect_exact("# Offsite endpoint URL []: ")
    sh.sendline("")
    sh.expect_exact("# Offsite retention period [90 days]: ")
    sh.sendline("")
    sh.expect_exact("# Min free disk space [10%]: ")
    sh.sendline("5%")
    sh.expect_exact("# Max parallel backups [auto]: ")
    sh.sendline("6")
    sh.expect_exact("# Are all values to update correct (yes/no): ")
    sh.sendline("yes")
    sh.expect_exact(
        f"[Done] Configuration parameters for SrvID: {pgb_env.server_id} updated."
    )
    assert server_cfg(pgb_env)["pgsql_bin_17"] == "/opt/pg17/bin"
    assert server_cfg(pgb_env)["offsite_url"] == "s3://pg-backups/site-a"
    assert server_cfg(pgb_env)["min_free_disk_space"] == "5%"
    assert server_cfg(pgb_env)["max_parallel_backups"] == "6"

    sh.sendline("update_pgsql_node_config")
    sh.expect_exact("# NodeID / FQDN []: ")
    sh.sendline(str(nid))
    sh.expect_exact("# Minutes cron interval [01-59]: ")
    sh.sendline("10-20")
    sh.expect_exact("# Hours cron interval [01-06]: ")
    sh.sendintr()  # Ctrl-C in the middle: nothing changes
    sh.expect_exact("[ABORTED] Command interrupted by the user.")
    sh.expect(r"\[pgbackman\]\$ ")
    assert node_cfg(pgb_env, nid)["backup_minutes_interval"] == "01-59"
    sh.sendline("quit")
    sh.expect_exact("Done, thank you for using PgBackMan")


def test_show_pgbackman_config(pgb_env: PgbEnv, shell_run: Any) -> None:
    res = shell_run("show_pgbackman_config", output="json")
    assert res.returncode == 0, res.stdout
    cfg = json.loads(res.stdout)["pgbackman_config"][0]
    assert cfg["backup_server"] == "backup01.pgbackman.test"
    assert cfg["configuration_file_used"] == str(pgb_env.shell_config_path)
    assert cfg["db_version"] == "[5]:v_2_0_0"
    assert cfg["dbport"] == pgb_env.catalog_cluster.port
    assert cfg["alert_retention"] == "90 days"
    assert "password" not in res.stdout.lower()
    res = shell_run("show_pgbackman_config")
    assert "PGBACKMAN DATABASE" in res.stdout and "DBname:" in res.stdout


def test_remaining_commands_interactively(
    pgb_env: PgbEnv, shell_spawn: Any, node1: Any
) -> None:
    nid = pgb_env.register_node(node1)
    sh = shell_spawn()

    def answer(*pairs: tuple[str, str]) -> None:
        for prompt, value in pairs:
            sh.expect_exact(prompt)
            sh.sendline(value)

    sh.sendline("update_backup_server")
    answer(
        ("# SrvID / FQDN [backup01.pgbackman.test]: ", ""),
        ("# Remarks [test backup server]: ", "Main backup server"),
        ("# Are all values to update correct (yes/no): ", "yes"),
    )
    sh.expect_exact("[Done] Backup server backup01.pgbackman.test updated.")
    assert (
        pgb_env.su_query("SELECT remarks FROM backup_server")[0][0]
        == "Main backup server"
    )

    sh.sendline("show_pgsql_node_config")
    answer(("# NodeID / FQDN []: ", str(nid)))
    sh.expect_exact("automatic_deletion_retention")
    sh.sendline("show_pgsql_node_stats")
    answer(("# NodeID / FQDN []: ", f"127.0.0.1:{node1.port}"))
    sh.expect_exact(f"[{nid}] 127.0.0.1")
    sh.sendline("show_backup_server_config")
    answer(("# SrvID / FQDN [backup01.pgbackman.test]: ", ""))
    sh.expect_exact("pgsql_bin_18")

    sh.sendline("update_pgsql_node_config")
    answer(
        ("# NodeID / FQDN []: ", str(nid)),
        ("# Minutes cron interval [01-59]: ", "00-09"),
        ("# Hours cron interval [01-06]: ", ""),
        ("# Day-month cron [*]: ", ""),
        ("# Month cron [*]: ", ""),
        ("# Weekday cron [*]: ", "1-5"),
        ("# Backup code [FULL]: ", "cluster"),
        ("# Retention period [7 days]: ", ""),
        ("# Retention redundancy [1]: ", "3"),
        ("# Automatic deletion retention [14 days]: ", ""),
        ("# Extra backup parameters []: ", "--no-comments"),
        ("# Extra restore parameters []: ", ""),
        ("# Backup Job status [ACTIVE]: ", ""),
        ("# Domain [example.org]: ", ""),
        ("# Logs e-mail [example@example.org]: ", ""),
        ("# PostgreSQL admin user [postgres]: ", ""),
        ("# Port [5432]: ", ""),
        ("# Backup directory [", ""),
        ("# Crontab file [", ""),
        ("# PgSQL node status [STOPPED]: ", ""),
        ("# Stale backup grace [4 hours]: ", "2 hours"),
        ("# Backup timeout [1 day]: ", "12 hours"),
        ("# Backup compression [gzip:6]: ", ""),
        ("# Max parallel backups [4]: ", "2"),
        ("# Are all values to update correct (yes/no): ", "yes"),
    )
    sh.expect_exact(f"[Done] Configuration parameters for NodeID: {nid} updated.")
    cfg = node_cfg(pgb_env, nid)
    assert (
        cfg["backup_minutes_interval"],
        cfg["backup_weekday_cron"],
        cfg["backup_code"],
        cfg["retention_redundancy"],
        cfg["extra_backup_parameters"],
        cfg["stale_backup_grace"],
        cfg["backup_timeout"],
        cfg["max_parallel_backups"],
    ) == ("00-09", "1-5", "CLUSTER", "3", "--no-comments", "2 hours", "12 hours", "2")

    sh.sendline("set")
    answer(("# Parameter=value []: ", "output_format=json"))
    sh.expect_exact("[Done] Output format changed to [json]")
    sh.sendline("show_pgsql_nodes")
    sh.expect_exact('"pgsql_nodes": [')
    sh.sendline("\\! echo hello from a program")
    sh.expect_exact("hello from a program")
    sh.sendline("quit")
    sh.expect_exact("Done, thank you for using PgBackMan")
