"""archive/integrity.py: INTACT, MISSING, CORRUPT, UNVERIFIED, LEGACY from the files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pgbackman.archive import integrity
from pgbackman.archive.files import write_manifest
from pgbackman.infra.fsutil import tree_size


def _backup(dump: Path) -> dict[str, Any]:
    """Files as pgbackman_dump leaves them in dump/, and the catalog row describing them."""
    dump.mkdir()
    db = dump / "b-DATABASE"
    db.mkdir()
    (db / "toc.dat").write_bytes(b"PGDMP" + b"\0" * 100)
    (db / "3001.dat.gz").write_bytes(b"x" * 500)
    (dump / "b-USERS.sql").write_text("-- roles\n")
    (dump / "b-DBCONFIG.sql").write_text("-- db\n")
    checksum = write_manifest(
        dump, "b-MANIFEST.sha256", ["b-DATABASE", "b-USERS.sql", "b-DBCONFIG.sql"]
    ).checksum
    return {
        "bck_id": 1,
        "run_uuid": "00000000-0000-0000-0000-000000000001",
        "checksum": checksum,
        "pg_dump_manifest_file": str(dump / "b-MANIFEST.sha256"),
        "pg_dump_file": str(db),
        "pg_dump_file_size": tree_size(db),
        "pg_dump_roles_file": str(dump / "b-USERS.sql"),
        "pg_dump_roles_file_size": tree_size(dump / "b-USERS.sql"),
        "pg_dump_dbconfig_file": str(dump / "b-DBCONFIG.sql"),
        "pg_dump_dbconfig_file_size": tree_size(dump / "b-DBCONFIG.sql"),
    }


def test_intact(tmp_path: Path) -> None:
    v = integrity.check(_backup(tmp_path / "dump"))
    assert v.intact and v.problems == []


def test_a_flipped_byte_is_corrupt(tmp_path: Path) -> None:
    row = _backup(tmp_path / "dump")
    f = Path(row["pg_dump_file"]) / "3001.dat.gz"
    data = bytearray(f.read_bytes())
    data[10] ^= 1
    f.write_bytes(bytes(data))
    v = integrity.check(row)
    assert v.state == integrity.CORRUPT and v.problems == [
        "MISMATCH b-DATABASE/3001.dat.gz"
    ]


def test_a_gone_file_is_missing(tmp_path: Path) -> None:
    row = _backup(tmp_path / "dump")
    Path(row["pg_dump_roles_file"]).unlink()
    v = integrity.check(row)
    assert v.state == integrity.MISSING and v.problems == ["MISSING b-USERS.sql"]
    Path(row["pg_dump_manifest_file"]).unlink()
    assert integrity.check(row).state == integrity.MISSING


def test_a_size_other_than_recorded_is_corrupt(tmp_path: Path) -> None:
    row = _backup(tmp_path / "dump")
    row["pg_dump_file_size"] += 1
    v = integrity.check(row)
    assert v.state == integrity.CORRUPT and "size" in v.detail


def test_a_manifest_edited_to_match_is_corrupt(tmp_path: Path) -> None:
    row = _backup(tmp_path / "dump")
    manifest = Path(row["pg_dump_manifest_file"])
    manifest.write_text(manifest.read_text() + "0" * 64 + "  extra\n")
    v = integrity.check(row)
    assert v.state == integrity.CORRUPT
    assert v.problems[0] == "MISMATCH b-MANIFEST.sha256"


def test_no_checksum_is_unverified_unless_legacy(tmp_path: Path) -> None:
    row = _backup(tmp_path / "dump")
    assert integrity.check({**row, "checksum": None}).state == integrity.UNVERIFIED
    assert (
        integrity.check({**row, "pg_dump_manifest_file": None}).state
        == integrity.UNVERIFIED
    )
    legacy = {**row, "run_uuid": None, "checksum": None, "pg_dump_manifest_file": None}
    assert integrity.check(legacy).state == integrity.LEGACY
    assert integrity.check({**legacy, "pg_dump_file": "/no/such"}).state == (
        integrity.MISSING
    )


def test_files_not_covered_by_the_manifest_are_corrupt(tmp_path: Path) -> None:
    row = _backup(tmp_path / "dump")
    other = tmp_path / "elsewhere.sql"
    other.write_text("x")
    v = integrity.check({**row, "pg_dump_roles_file": str(other)})
    assert v.state == integrity.CORRUPT and "not covered by the manifest" in v.detail
