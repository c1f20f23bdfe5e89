"""The shell refuses, as they are typed, catalog values that a backup server's own
configuration file would make pgbackman_control refuse (core/authority.py): a clear one-line
error and nothing changed."""

from __future__ import annotations

from typing import Any


def _node_cfg(pgb_env: Any, node_id: int) -> dict[str, str]:
    return dict(
        pgb_env.su_query(
            "SELECT parameter, value FROM pgsql_node_config WHERE node_id = %s",
            (node_id,),
        )
    )


def _update_node(node_id: int, partition: str = "", crontab: str = "") -> str:
    args = [str(node_id)] + ["''"] * 16 + [partition or "''", crontab or "''", "''"]
    return "update_pgsql_node_config " + " ".join(args)


def test_node_paths_outside_the_local_limits_are_refused(
    pgb_env: Any, node1: Any, shell_run: Any
) -> None:
    node = pgb_env.register_node(node1)
    before = _node_cfg(pgb_env, node)
    for command, message in (
        (
            _update_node(node, crontab="/etc/passwd"),
            "crontab files are written only directly inside crontab_dir",
        ),
        (
            _update_node(node, crontab=f"{pgb_env.cron_dir}/bad.name"),
            "cron ignores file names",
        ),
        (
            _update_node(node, partition="/var/lib/elsewhere"),
            "backup partitions lie only inside root_backup_partition",
        ),
        (
            _update_node(node, partition=str(pgb_env.root)),
            "backup partitions lie only inside root_backup_partition",
        ),
    ):
        res = shell_run(command)
        assert res.returncode == 1, res.stdout
        lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("[ERROR]: "), res.stdout
        assert message in lines[0]
    assert _node_cfg(pgb_env, node) == before

    inside = f"{pgb_env.root}/node_{node}"
    res = shell_run(
        _update_node(node, partition=inside, crontab=f"{pgb_env.cron_dir}/node_{node}")
    )
    assert res.returncode == 0, res.stdout
    after = _node_cfg(pgb_env, node)
    assert after["pgnode_backup_partition"] == inside
    assert after["pgnode_crontab_file"] == f"{pgb_env.cron_dir}/node_{node}"


def test_this_servers_root_must_be_the_local_one_or_inside(
    pgb_env: Any, shell_run: Any
) -> None:
    args = " ".join(["''"] * 7)
    res = shell_run(
        f"update_backup_server_config {pgb_env.server_id} {args} /srv/other"
    )
    assert (
        res.returncode == 1
        and "root_backup_partition value '/srv/other' refused" in (res.stdout)
    )
    res = shell_run(
        f"update_backup_server_config {pgb_env.server_id} {args} {pgb_env.root}/sub"
    )
    assert res.returncode == 0, res.stdout


def test_the_backup_servers_role_cannot_change_definitions(
    pgb_env: Any, node1: Any
) -> None:
    """A shell started with a backup server's credentials (pgbackman_role_server) reads,
    but cannot register or delete anything: one clear error."""
    import subprocess

    node = pgb_env.register_node(node1)
    res = subprocess.run(
        [
            "pgbackman",
            "-C",
            f"register_backup_definition {pgb_env.server_id} {node} app1 '' 10 01 '*' '*'"
            " '*' FULL false '7 days' 1 '' ACTIVE ''",
        ],
        env=pgb_env.env,  # the programs' configuration file
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 1
    assert "permission denied for function register_backup_definition" in res.stdout
    assert pgb_env.su_query("SELECT count(*) FROM backup_definition") == [(0,)]
