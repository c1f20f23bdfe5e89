"""Retention on facts (issue 11 item 1), with real dumps: newer rows marked SUCCEEDED counted
as redundancy although their files were gone or corrupt, and maintenance deleted the oldest
backup, the last one that could still be restored. Now only backups whose files verify count;
what the check finds is recorded, shown and alerted once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rel_helpers import RelEnv
from support.agekeys import new_key


def _aged_backups(rel: RelEnv, redundancy: int) -> tuple[int, list[dict[str, Any]]]:
    """Three real FULL dumps of app1, aged 30, 2 and 1 days (period 7 days)."""
    def_id = rel.define("app1")
    rel.pgb.su_query(
        "UPDATE backup_definition SET retention_redundancy = %s WHERE def_id = %s",
        (redundancy, def_id),
    )
    for _ in range(3):
        res = rel.dump(def_id)
        assert res.returncode == 0, res.stderr
    rows = rel.rows(def_id)
    for row, days in zip(rows, (30, 2, 1), strict=True):
        rel.pgb.su_query(
            "UPDATE backup_catalog SET finished = now() - %s * interval '1 day',"
            " started = now() - %s * interval '1 day' - interval '1 minute'"
            " WHERE bck_id = %s",
            (days, days, row["bck_id"]),
        )
    return def_id, rows


def _files(row: dict[str, Any]) -> list[Path]:
    cols = ("pg_dump_file", "pg_dump_roles_file", "pg_dump_dbconfig_file")
    return [Path(row[c]) for c in (*cols, "pg_dump_manifest_file")]


def _remove(row: dict[str, Any]) -> None:
    for p in _files(row):
        shutil.rmtree(p) if p.is_dir() else p.unlink()


def _flip_a_byte(row: dict[str, Any]) -> None:
    victim = max(
        (p for p in Path(row["pg_dump_file"]).iterdir() if p.name != "toc.dat"),
        key=lambda p: p.stat().st_size,
    )
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))


def _integrity(rel: RelEnv, def_id: int) -> dict[int, str | None]:
    return {
        r[0]: r[1]
        for r in rel.pgb.su_query(
            "SELECT bck_id, integrity FROM backup_catalog WHERE def_id = %s", (def_id,)
        )
    }


def _integrity_alerts(rel: RelEnv) -> list[tuple[Any, ...]]:
    return rel.pgb.su_query(
        "SELECT bck_id, error_message FROM alerts WHERE alert_type = 'Backup-integrity'"
        " ORDER BY bck_id"
    )


def test_newest_backups_gone_keep_the_last_restorable_one(rel: RelEnv) -> None:
    def_id, (oldest, middle, newest) = _aged_backups(rel, redundancy=2)
    _remove(middle)
    _remove(newest)

    for _ in range(2):  # a second pass changes nothing and alerts nothing more
        res = rel.run("pgbackman_maintenance", "--once")
        assert res.returncode == 0, res.stderr

    assert [r["bck_id"] for r in rel.rows(def_id)] == [
        oldest["bck_id"],
        middle["bck_id"],
        newest["bck_id"],
    ]
    assert all(p.exists() for p in _files(oldest))
    assert _integrity(rel, def_id) == {
        oldest["bck_id"]: "INTACT",
        middle["bck_id"]: "MISSING",
        newest["bck_id"]: "MISSING",
    }
    alerts = _integrity_alerts(rel)
    assert [a[0] for a in alerts] == [middle["bck_id"], newest["bck_id"]]
    assert all("MISSING" in a[1] for a in alerts)
    ver = rel.run(
        "pgbackman_maintenance", "--verify", "--bck-id", str(oldest["bck_id"])
    )
    assert ver.returncode == 0 and ver.stdout.strip() == f"bck_id {oldest['bck_id']} OK"

    # The shell shows it.
    res = rel.run(
        "pgbackman", "-o", "json", "-C", "show_backup_catalog all all app1 all all"
    )
    assert res.returncode == 0, res.stdout + res.stderr
    shown = {
        r["bckid"]: r["integrity"] for r in json.loads(res.stdout)["backup_catalog"]
    }
    assert shown[newest["bck_id"]] == "MISSING" and shown[oldest["bck_id"]] == "INTACT"
    res = rel.run(
        "pgbackman", "-o", "json", "-C", f"show_backup_details {newest['bck_id']}"
    )
    details = json.loads(res.stdout)["backup_details"][0]
    assert details["integrity"] == "MISSING"
    assert Path(newest["pg_dump_manifest_file"]).name in details["integrity_detail"]


def test_one_flipped_byte_does_not_count_either(rel: RelEnv) -> None:
    def_id, (oldest, middle, newest) = _aged_backups(rel, redundancy=2)
    _flip_a_byte(newest)

    res = rel.run("pgbackman_maintenance", "--once")
    assert res.returncode == 0, res.stderr
    assert len(rel.rows(def_id)) == 3 and all(p.exists() for p in _files(oldest))
    assert _integrity(rel, def_id)[newest["bck_id"]] == "CORRUPT"
    assert [a[0] for a in _integrity_alerts(rel)] == [newest["bck_id"]]

    # With redundancy 1 the intact middle one is enough: the oldest goes, files first.
    rel.pgb.su_query(
        "UPDATE backup_definition SET retention_redundancy = 1 WHERE def_id = %s",
        (def_id,),
    )
    res = rel.run("pgbackman_maintenance", "--once")
    assert res.returncode == 0, res.stderr
    assert [r["bck_id"] for r in rel.rows(def_id)] == [
        middle["bck_id"],
        newest["bck_id"],
    ]
    assert not any(p.exists() for p in _files(oldest))
    # The damaged backup is kept (younger than the period); the intact one is never
    # deleted, whatever its age, while it is the newest intact one.
    rel.pgb.su_query(
        "UPDATE backup_catalog SET finished = now() - interval '20 days'"
        " WHERE def_id = %s",
        (def_id,),
    )
    assert rel.run("pgbackman_maintenance", "--once").returncode == 0
    assert middle["bck_id"] in [r["bck_id"] for r in rel.rows(def_id)]
    assert all(p.exists() for p in _files(middle))


def test_encrypted_and_compressed_backups_expire_by_the_same_rules(
    rel: RelEnv, tmp_path: Path
) -> None:
    """Files named as encryption and compression name them (-USERS.sql.age,
    CLUSTER-...sql.zst.age) are verified, counted and deleted like plain ones."""
    key = new_key(tmp_path)
    rel.pgb.su_query(
        "SELECT update_backup_server_config(%s, 'encryption_recipients', %s)",
        (rel.pgb.server_id, key.recipient),
    )
    full, cluster = rel.define("app1"), rel.define("", code="CLUSTER")
    rel.pgb.su_query(
        "UPDATE backup_definition SET encryption = true,"
        " backup_compression = CASE backup_code WHEN 'CLUSTER' THEN 'zstd:3' END"
        " WHERE def_id IN (%s, %s)",
        (full, cluster),
    )
    for def_id in (full, cluster):
        for _ in range(2):
            res = rel.dump(def_id)
            assert res.returncode == 0, res.stderr
    old = {d: rel.rows(d)[0] for d in (full, cluster)}
    assert old[full]["pg_dump_roles_file"].endswith("-USERS.sql.age")
    assert old[cluster]["pg_dump_file"].endswith(".sql.zst.age")
    rel.pgb.su_query(
        "UPDATE backup_catalog SET finished = now() - interval '30 days'"
        " WHERE bck_id IN (%s, %s)",
        (old[full]["bck_id"], old[cluster]["bck_id"]),
    )

    res = rel.run("pgbackman_maintenance", "--once")
    assert res.returncode == 0, res.stdout + res.stderr
    for def_id, row in old.items():
        (kept,) = rel.rows(def_id)
        assert kept["bck_id"] != row["bck_id"] and kept["integrity"] == "INTACT"
        gone = [
            row[c]
            for c in (
                "pg_dump_file",
                "pg_dump_roles_file",
                "pg_dump_dbconfig_file",
                "pg_dump_manifest_file",
                "pg_dump_log_file",
            )
            if row[c]
        ]
        assert gone and not any(Path(p).exists() for p in gone), gone
        assert Path(kept["pg_dump_file"]).exists()
