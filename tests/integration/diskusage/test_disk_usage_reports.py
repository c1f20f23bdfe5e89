"""Disk space reports on real files: pgbackman_maintenance measures this server's node
partitions into the catalog, the shell's JSON adds up to the bytes on disk (as du counts
them), growth and days until full come from the recorded history, and low free space
raises one Disk-space alert per episode."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.site import Site

from pgbackman.errors import CatalogError


def _du(*paths: str | Path) -> int:
    res = subprocess.run(
        ["du", "-s", "-B1", "-c", *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(res.stdout.splitlines()[-1].split()[0])


def _maintenance(site: Site) -> None:
    res = site.run("pgbackman_maintenance", "--once", timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def _files(row: dict[str, Any]) -> list[str]:
    cols = (
        "pg_dump_file",
        "pg_dump_roles_file",
        "pg_dump_dbconfig_file",
        "pg_dump_manifest_file",
        "pg_dump_log_file",
    )
    return sorted({row[c] for c in cols if row[c]})


def test_disk_usage_json_adds_up_to_the_bytes_on_disk(site: Site) -> None:
    d1 = site.definition("app1")
    d2 = site.definition("app2", "SCHEMA")
    b1 = [site.backup(d1), site.backup(d1)]
    b2 = site.backup(d2)
    partition = Path(b2["pg_dump_file"]).parent.parent
    (partition / "dump" / "orphan.bin").write_bytes(b"x" * 100_000)  # no catalog row
    _maintenance(site)
    on_disk = _du(partition)

    rows = site.shell_json(f"show_pgsql_node_disk_usage {site.node1_id}")[
        "pgsql_node_disk_usage"
    ]
    assert {r["kind"] for r in rows} == {"definition", "other"}
    assert sum(r["disk_bytes"] for r in rows) == on_disk
    by_def = {r["defid"]: r for r in rows if r["kind"] == "definition"}
    assert by_def[d1]["backups"] == 2 and by_def[d2]["backups"] == 1
    assert by_def[d1]["disk_bytes"] == _du(*(f for b in b1 for f in _files(b)))
    assert by_def[d2]["disk_bytes"] == _du(*_files(b2))
    assert by_def[d1]["catalog_bytes"] == sum(
        b["pg_dump_file_size"]
        + b["pg_dump_roles_file_size"]
        + b["pg_dump_dbconfig_file_size"]
        for b in b1
    )
    (other,) = [r for r in rows if r["kind"] == "other"]
    assert other["disk_bytes"] >= 100_000  # the orphan is counted, as "other"

    (srv,) = [
        r
        for r in site.shell_json("show_backup_server_disk_usage all")[
            "backup_server_disk_usage"
        ]
        if r["nodeid"] == site.node1_id
    ]
    assert srv["disk_bytes"] == on_disk
    assert srv["partition"] == str(partition)
    assert srv["backups"] == 3
    assert 0 < srv["fs_free"] <= srv["fs_size"]
    assert srv["status"] == "OK" and srv["growth_day"] is None  # no history yet

    # Ten days ago the partition held 100 kB less: growth per day and days until full.
    site.pgb.su(
        "INSERT INTO disk_usage SELECT backup_server_id, pgsql_node_id, day - 10,"
        " measured - interval '10 days', partition_path, fs_id, fs_path, fs_size_bytes,"
        f" fs_free_bytes, disk_bytes - 102400, other_bytes, job_bytes FROM disk_usage"
        f" WHERE pgsql_node_id = {site.node1_id}"
    )
    (srv,) = [
        r
        for r in site.shell_json("show_backup_server_disk_usage all")[
            "backup_server_disk_usage"
        ]
        if r["nodeid"] == site.node1_id
    ]
    assert srv["growth_day"] == 10240
    assert abs(srv["days_until_full"] - srv["fs_free"] / 10240) < 0.1


def test_low_free_space_raises_one_alert_per_episode(site: Site) -> None:
    site.backup(site.definition("app1"))
    srv = site.pgb.server_id
    # the 8 paths, [encryption recipients] and the three offsite parameters
    args = " ".join(['""'] * 12)
    res = site.shell(f"update_backup_server_config {srv} {args} 99%")
    assert res.returncode == 0, res.stdout + res.stderr
    _maintenance(site)
    _maintenance(site)
    (alert,) = site.alerts("Disk-space")
    assert "min_free_disk_space 99%" in alert["error_message"]
    assert site.pgb.su_query(
        "SELECT count(*) FROM alert_episode WHERE episode_key LIKE 'disk:%'"
    ) == [(1,)]
    res = site.shell(f"update_backup_server_config {srv} {args} '1 kB'")
    assert res.returncode == 0, res.stdout + res.stderr
    _maintenance(site)
    assert site.pgb.su_query(
        "SELECT count(*) FROM alert_episode WHERE episode_key LIKE 'disk:%'"
    ) == [(0,)]
    bad = site.shell(f"update_backup_server_config {srv} {args} lots")
    assert (
        bad.returncode == 1 and "Invalid Min free disk space value [lots]" in bad.stdout
    )
    with pytest.raises(CatalogError, match="Invalid min_free_disk_space value"):
        site.pgb.operator.call(
            "update_backup_server_config", srv, "min_free_disk_space", "9 XB"
        )
    assert site.pgb.su_query(
        "SELECT value FROM backup_server_config WHERE server_id = %s"
        " AND parameter = 'min_free_disk_space'",
        (srv,),
    ) == [("1 kB",)]


def test_reports_in_table_and_csv(site: Site) -> None:
    site.backup(site.definition("app1"))
    res = site.shell("show_backup_server_disk_usage all")
    assert res.returncode == 0, res.stdout + res.stderr
    assert (
        "NOT MEASURED" in res.stdout
    )  # maintenance has not measured yet: said, not hidden
    _maintenance(site)
    table = site.shell("show_backup_server_disk_usage ''").stdout
    assert "|   OK   |" in table and " kB " in table  # sizes for humans
    csv_out = site.shell("show_pgsql_node_disk_usage all", "csv").stdout.splitlines()
    assert csv_out[0].startswith("nodeid,pgsql_node,srvid,backup_server,kind,defid,")
    assert any(",definition," in line for line in csv_out[1:])
    assert all(line.split(",")[11].isdigit() for line in csv_out[1:])  # bytes
