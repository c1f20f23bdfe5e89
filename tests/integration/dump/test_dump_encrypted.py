"""Encrypted backups on disk (age): no readable plaintext anywhere in what a FULL backup
leaves behind, every file a standard age file that the age tool opens with the right
identity, the catalog saying so; and a definition whose backup server lost its recipients
fails loudly (ERROR row, alert) without writing anything."""

from __future__ import annotations

import gzip
import subprocess
import uuid
from pathlib import Path

from support.agekeys import AgeKey, age_decrypt, new_key
from support.pgcluster import PgCluster
from support.richdb import RichDb

PLAINTEXT_PROBE = b"PGDMP"  # the first bytes of a pg_dump archive's toc.dat


def _marker(node: PgCluster, rich: RichDb) -> bytes:
    """A string that the data, the roles file and the dbconfig file all hold in clear."""
    marker = f"pgbackman-secret-{uuid.uuid4().hex}"
    node.psql(
        f"CREATE TABLE public.secret_notes (note text);"
        f"INSERT INTO public.secret_notes VALUES ('{marker}');"
        f"COMMENT ON TABLE public.secret_notes IS '{marker}';",
        dbname=rich.dbname,
    )
    node.psql(
        f"COMMENT ON ROLE \"{rich.owner}\" IS '{marker}';"
        f"COMMENT ON DATABASE \"{rich.dbname}\" IS '{marker}';"
    )
    return marker.encode()


def _files(top: Path) -> list[Path]:
    return sorted(p for p in top.rglob("*") if p.is_file())


def _set_recipients(dump_env, value: str) -> None:  # type: ignore[no-untyped-def]
    dump_env.pgb.su_query(
        "SELECT update_backup_server_config(%s, 'encryption_recipients', %s)",
        (dump_env.pgb.server_id, value),
    )


def _define(dump_env, dbname: str, encryption: bool, compression: str) -> int:  # type: ignore[no-untyped-def]
    minute = str(1 + len(dump_env.pgb.su_query("SELECT 1 FROM backup_definition")))
    rows = dump_env.pgb.su_query(
        "SELECT register_backup_definition(%s, %s, %s, %s, '3', '*', '*', '*', 'FULL', %s,"
        " '7 days', 1, '', 'ACTIVE', 'encryption test', %s)",
        (
            dump_env.pgb.server_id,
            dump_env.node_id,
            dbname,
            minute,
            encryption,
            compression,
        ),
    )
    return int(rows[0][0])


def test_encrypted_full_backup_has_no_readable_plaintext_on_disk(
    dump_env, rich: RichDb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    marker = _marker(dump_env.node, rich)
    key = new_key(tmp_path)
    other = new_key(tmp_path, "other.txt")
    _set_recipients(dump_env, f"{key.recipient}, {other.recipient}")
    # Without compression a plain backup shows the marker in its raw files: the check
    # below can fail.
    plain_id = _define(dump_env, rich.dbname, False, "none")
    res = dump_env.run("--def-id", str(plain_id))
    assert res.returncode == 0, res.stderr
    (plain,) = dump_env.rows(plain_id)
    plain_files = [
        p
        for item in ("pg_dump_file", "pg_dump_roles_file", "pg_dump_dbconfig_file")
        for p in (
            _files(Path(plain[item]))
            if Path(plain[item]).is_dir()
            else [Path(plain[item])]
        )
    ]
    assert (
        sum(marker in p.read_bytes() for p in plain_files) >= 4
    )  # data, toc, roles, db
    assert plain["encrypted"] is False and plain["compression"] == "none"

    def_id = _define(dump_env, rich.dbname, True, "none")
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    (row,) = dump_env.rows(def_id)
    assert row["execution_status"] == "SUCCEEDED", row["error_message"]
    assert row["encrypted"] is True and row["compression"] == "none"
    assert row["encryption_recipients"] == [key.recipient, other.recipient]
    dump_dir = Path(row["pg_dump_file"])
    roles, dbconfig = (
        Path(row["pg_dump_roles_file"]),
        Path(row["pg_dump_dbconfig_file"]),
    )
    assert roles.name.endswith("-USERS.sql.age")
    assert dbconfig.name.endswith("-DBCONFIG.sql.age")
    files = [*_files(dump_dir), roles, dbconfig]
    assert len(files) >= 4 and all(p.name.endswith(".age") for p in files)
    # No plaintext in any raw file of the backup, and nothing else left behind.
    for p in files:
        raw = p.read_bytes()
        assert raw.startswith(b"age-encryption.org/v1\n"), p
        assert marker not in raw and PLAINTEXT_PROBE not in raw, p
        assert rich.owner.encode() not in raw, p
    plain_all = set(plain_files) | {Path(plain["pg_dump_manifest_file"])}
    mine = set(files) | {Path(row["pg_dump_manifest_file"])}
    assert set(_files(dump_env.partition / "dump")) == plain_all | mine
    assert marker not in Path(row["pg_dump_log_file"]).read_bytes()
    # pg_restore cannot read the archive.
    res2 = subprocess.run(
        [f"{dump_env.node.bindir}/pg_restore", "--list", str(dump_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res2.returncode != 0
    # The manifest holds the checksums of the encrypted files (what is on disk).
    manifest = Path(row["pg_dump_manifest_file"]).read_text().splitlines()
    assert manifest and all(
        line.split("  ", 1)[1].endswith(".age") for line in manifest
    )
    # Standard age files: the age tool opens them with either recipient's identity.
    for k in (key, other):
        assert age_decrypt(dump_dir / "toc.dat.age", k).startswith(PLAINTEXT_PROBE)
        assert marker in age_decrypt(roles, k) and marker in age_decrypt(dbconfig, k)
    data = [
        age_decrypt(p, key)
        for p in _files(dump_dir)
        if p.name.endswith(".dat.age") and p.name != "toc.dat.age"
    ]
    assert any(marker in d for d in data)


def test_encrypted_compressed_full_backup_decrypts_to_a_gzip_archive(
    dump_env, rich: RichDb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    marker = _marker(dump_env.node, rich)
    key: AgeKey = new_key(tmp_path)
    _set_recipients(dump_env, key.recipient)
    def_id = _define(dump_env, rich.dbname, True, "gzip:9")
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    (row,) = dump_env.rows(def_id)
    assert row["compression"] == "gzip:9" and row["encrypted"] is True
    gz = [
        p for p in _files(Path(row["pg_dump_file"])) if p.name.endswith(".dat.gz.age")
    ]
    assert gz
    assert any(marker in gzip.decompress(age_decrypt(p, key)) for p in gz)


def test_encrypted_definition_without_recipients_fails_loudly_and_writes_nothing(
    dump_env, rich: RichDb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key = new_key(tmp_path)
    _set_recipients(dump_env, key.recipient)
    def_id = _define(dump_env, rich.dbname, True, "gzip:6")
    _set_recipients(dump_env, "")  # removed later: allowed, the runs must fail
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    assert "no encryption_recipients" in res.stderr
    (row,) = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "no encryption_recipients" in row["error_message"]
    assert "nothing was written" in row["error_message"]
    assert row["pg_dump_file"] is None and dump_env.final_entries() == []
    alerts = dump_env.pgb.su_query(
        "SELECT alert_type, error_message FROM alerts WHERE bck_id = %s",
        (row["bck_id"],),
    )
    assert alerts and alerts[0][0] == "Backup-def"
    assert "encryption_recipients" in alerts[0][1]
