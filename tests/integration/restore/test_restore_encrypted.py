"""Restoring encrypted backups (age): with the identity file named in the restoring
server's own configuration the data comes back; without it, with an identity that is not a
recipient, or with a tampered file, the restore is refused and the target is not touched."""

from __future__ import annotations

import hashlib
from pathlib import Path

from restore_helpers import databases, roles
from support.agekeys import AgeKey, new_key, set_identity_file
from support.richdb import RichDb, database_fingerprint, table_checksums


def _encrypted_backup(rst, rich: RichDb, key: AgeKey) -> dict:  # type: ignore[no-untyped-def]
    rst.pgb.su_query(
        "SELECT update_backup_server_config(%s, 'encryption_recipients', %s)",
        (rst.pgb.server_id, key.recipient),
    )
    bck = rst.backup(rich.dbname, "FULL", encryption=True)
    assert bck["encrypted"] is True
    return bck  # type: ignore[no-any-return]


def _untouched(rst, rich: RichDb, before_dbs: set[str], before_roles: set[str]) -> None:  # type: ignore[no-untyped-def]
    assert databases(rst.node2) == before_dbs
    assert roles(rst.node2) == before_roles
    partition = rst.pgb.root / f"pgsql_node_{rst.node2_id}"
    assert not list(partition.glob(".decrypted-*"))


def test_encrypted_full_restores_with_the_identity_file(
    rst, rich: RichDb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key = new_key(tmp_path)
    bck = _encrypted_backup(rst, rich, key)
    set_identity_file(rst.pgb.config_path, key.identity_file)
    rdef = rst.define(bck["bck_id"], rich.dbname, roles=rich.roles, extra="-j 2")
    res = rst.restore(rdef)
    assert res.returncode == 0, res.stderr
    row = rst.one_row(rdef)
    assert row["execution_status"] == "SUCCEEDED", row["error_message"]
    assert table_checksums(rst.node2, rich.dbname) == table_checksums(
        rst.node1, rich.dbname
    )
    assert database_fingerprint(rst.node2, rich.dbname) == database_fingerprint(
        rst.node1, rich.dbname
    )
    assert set(rich.roles) <= roles(rst.node2)
    # The decrypted copy is gone; the log says where it was and that it was removed.
    partition = rst.pgb.root / f"pgsql_node_{rst.node2_id}"
    assert not list(partition.glob(".decrypted-*"))
    text = Path(row["restore_log_file"]).read_text()
    assert "decrypted into the private directory" in text and "removed" in text


def test_encrypted_restore_without_identity_is_refused_and_touches_nothing(
    rst, rich: RichDb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key = new_key(tmp_path)
    bck = _encrypted_backup(rst, rich, key)
    before_dbs, before_roles = databases(rst.node2), roles(rst.node2)
    # No identity file in the configuration.
    rdef = rst.define(bck["bck_id"], rich.dbname, roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 1
    row = rst.one_row(rdef)
    assert row["execution_status"] == "ERROR"
    assert "identity_file" in row["error_message"]
    assert "nothing was changed" in row["error_message"]
    _untouched(rst, rich, before_dbs, before_roles)
    # An identity that is not one of the backup's recipients.
    wrong = new_key(tmp_path, "wrong.txt")
    set_identity_file(rst.pgb.config_path, wrong.identity_file)
    rdef = rst.define(bck["bck_id"], f"{rich.dbname}_copy", roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 1
    message = rst.one_row(rdef)["error_message"]
    assert "not one of the recipients" in message and key.recipient in message
    _untouched(rst, rich, before_dbs, before_roles)
    # An identity file others can read is refused like an ssh key.
    key.identity_file.chmod(0o644)
    set_identity_file(rst.pgb.config_path, key.identity_file)
    rdef = rst.define(bck["bck_id"], f"{rich.dbname}_old", roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 1
    assert "0644" in rst.one_row(rdef)["error_message"]
    _untouched(rst, rich, before_dbs, before_roles)


def test_tampered_encrypted_file_is_refused(rst, rich: RichDb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = new_key(tmp_path)
    bck = _encrypted_backup(rst, rich, key)
    set_identity_file(rst.pgb.config_path, key.identity_file)
    before_dbs, before_roles = databases(rst.node2), roles(rst.node2)
    dump_dir = Path(bck["pg_dump_file"])
    victim = max(
        (p for p in dump_dir.iterdir() if p.name != "toc.dat.age"),
        key=lambda p: p.stat().st_size,
    )
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit inside the encrypted payload
    victim.write_bytes(bytes(data))
    # 1. The manifest's checksum of the file on disk catches it.
    rdef = rst.define(bck["bck_id"], rich.dbname, roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 1
    message = rst.one_row(rdef)["error_message"]
    assert "Checksum mismatch" in message and victim.name in message
    _untouched(rst, rich, before_dbs, before_roles)
    # 2. Even with the manifest and the catalog forged to match, age's own authentication
    # refuses the file before the target is touched.
    manifest = Path(bck["pg_dump_manifest_file"])
    digest = hashlib.sha256(bytes(data)).hexdigest()
    lines = [
        f"{digest}  {line.split('  ', 1)[1]}"
        if line.endswith("/" + victim.name)
        else line
        for line in manifest.read_text().splitlines()
    ]
    text = "\n".join(lines) + "\n"
    manifest.write_text(text)
    rst.pgb.su_query(
        "UPDATE backup_catalog SET checksum = %s WHERE bck_id = %s",
        (hashlib.sha256(text.encode()).hexdigest(), bck["bck_id"]),
    )
    rdef = rst.define(bck["bck_id"], f"{rich.dbname}_copy", roles=rich.roles)
    res = rst.restore(rdef)
    assert res.returncode == 1
    message = rst.one_row(rdef)["error_message"]
    assert "failed age's authentication" in message and victim.name in message
    assert "nothing was changed" in message
    _untouched(rst, rich, before_dbs, before_roles)
