"""Any backup server of the fleet with the credentials restores a backup another one took,
from its offsite copy (the server that took it may be gone with its disks)."""

from __future__ import annotations

import os
import shutil

from offsite_helpers import VENV_BIN, OffsiteEnv, run
from psycopg2 import sql
from support.pgcluster import PgCluster
from support.s3server import ACCESS_KEY, SECRET_KEY


def test_second_backup_server_restores_a_backup_of_the_first(
    off: OffsiteEnv, node2: PgCluster
) -> None:
    off.create_database("offsite_fleet", rows=300)
    before = off.fingerprint(off.node, "offsite_fleet")
    row = off.dump(off.define("offsite_fleet"))
    assert off.maintenance().returncode == 0
    uploaded = off.row(row["bck_id"])
    assert uploaded is not None and uploaded["offsite_status"] == "UPLOADED"

    # backup02: its own root and configuration file; its credentials come from an AWS
    # shared credentials file of its user (boto3's standard chain), not the environment.
    pgb = off.pgb
    root2 = pgb.tmp / "srv2"
    root2.mkdir(mode=0o700)
    srv2 = int(
        pgb.su_query(
            "SELECT register_backup_server('backup02', 'pgbackman.test', 'RUNNING', 'second')"
        )[0][0]
    )
    pgb.su(
        f"UPDATE backup_server_config SET value = '{root2}'"
        f" WHERE server_id = {srv2} AND parameter = 'root_backup_partition'"
    )
    # Its programs log in as pgbackman_role_server, an operator's shell there as rw.
    cfg2, shell_cfg2 = pgb.tmp / "pgbackman2.conf", pgb.tmp / "pgbackman2-shell.conf"
    for dst, src in ((cfg2, pgb.config_path), (shell_cfg2, pgb.shell_config_path)):
        dst.write_text(
            src.read_text(encoding="utf-8")
            .replace("backup01.pgbackman.test", "backup02.pgbackman.test")
            .replace(
                f"root_backup_partition = {pgb.root}",
                f"root_backup_partition = {root2}",
            ),
            encoding="utf-8",
        )
    creds = pgb.tmp / "aws-credentials"
    creds.write_text(
        f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n",
        encoding="utf-8",
    )
    os.chmod(creds, 0o600)
    env2 = {
        k: v
        for k, v in pgb.env.items()
        if not k.startswith("AWS_ACCESS") and not k.startswith("AWS_SECRET")
    }
    env2.update(PGBACKMAN_CONFIG=str(cfg2), AWS_SHARED_CREDENTIALS_FILE=str(creds))

    # The first server is gone with its disk.
    shutil.rmtree(pgb.root / f"pgsql_node_{off.node_id}" / "dump")

    node2_id = pgb.register_node(node2)
    # Node partitions must lie inside the local root_backup_partition of the server that
    # writes there (the restore log goes to the target node's log/): backup02's.
    pgb.su_query(
        "UPDATE pgsql_node_config SET value = %s"
        " WHERE node_id = %s AND parameter = 'pgnode_backup_partition'",
        (str(root2 / f"pgsql_node_{node2_id}"), node2_id),
    )
    res = run(
        [
            str(VENV_BIN / "pgbackman"),
            "-C",
            f'register_restore_definition "" {row["bck_id"]} {node2_id} offsite_fleet "" "" ""'
            " backup02.pgbackman.test",
        ],
        {**env2, "PGBACKMAN_CONFIG": str(shell_cfg2)},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    restore_def, server = pgb.su_query(
        "SELECT restore_def, backup_server_id FROM restore_definition WHERE bck_id = %s",
        (row["bck_id"],),
    )[0]
    assert server == srv2
    try:
        res = run(
            [str(VENV_BIN / "pgbackman_restore"), "--restore-def", str(restore_def)],
            env2,
        )
        assert res.returncode == 0, res.stderr
        assert off.fingerprint(node2, "offsite_fleet") == before
        status = pgb.su_query(
            "SELECT execution_status, backup_server_id FROM restore_catalog WHERE restore_def = %s",
            (restore_def,),
        )
        assert status == [("SUCCEEDED", srv2)]
        assert list((root2 / "offsite_staging").iterdir()) == []
    finally:
        conn = node2.connect("postgres")
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier("offsite_fleet")
                )
            )
        conn.close()


def test_another_server_cannot_restore_a_backup_without_offsite_copy(
    off: OffsiteEnv,
) -> None:
    off.pgb.su(
        "UPDATE backup_server_config SET value = ''"
        f" WHERE server_id = {off.pgb.server_id} AND parameter = 'offsite_url'"
    )
    off.create_database("offsite_none")
    row = off.dump(off.define("offsite_none"))
    assert row["offsite_status"] is None  # offsite off: no copy wanted
    off.pgb.su_query(
        "SELECT register_backup_server('backup03', 'pgbackman.test', 'RUNNING', 'third')"
    )
    res = off.shell(
        f'register_restore_definition "" {row["bck_id"]} {off.node_id} offsite_copy "" "" ""'
        " backup03.pgbackman.test"
    )
    assert res.returncode == 1
    assert "has no uploaded offsite copy" in res.stdout + res.stderr
    assert off.pgb.su_query("SELECT count(*) FROM restore_definition") == [(0,)]
