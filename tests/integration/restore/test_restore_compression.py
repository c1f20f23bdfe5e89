"""CLUSTER dumps compressed in Python with the chosen method: a zstd:3 dump is a real zstd
stream that restores, and an encrypted lz4 dump is decrypted and decompressed in a stream
into psql."""

from __future__ import annotations

from pathlib import Path

import zstandard
from restore_helpers import databases
from support.agekeys import age_decrypt, new_key, set_identity_file
from support.pgcluster import PgCluster
from support.richdb import RichDb, database_fingerprint, table_checksums

TRAILER = b"-- PostgreSQL database cluster dump complete"


def _restore_cluster(rst, rich: RichDb, node3: PgCluster, bck: dict) -> None:  # type: ignore[no-untyped-def]
    node3_id = rst.pgb.register_node(node3)
    rdef = rst.define(bck["bck_id"], "postgres", node_id=node3_id)
    try:
        res = rst.restore(rdef)
        assert res.returncode == 0, res.stderr
        row = rst.one_row(rdef)
        assert row["execution_status"] == "SUCCEEDED", row["error_message"]
        for db in ("app1", rich.dbname):
            assert table_checksums(node3, db) == table_checksums(rst.node1, db)
        assert database_fingerprint(node3, rich.dbname) == database_fingerprint(
            rst.node1, rich.dbname
        )
    finally:
        for db in databases(node3) - {"postgres", "template0", "template1"}:
            node3.psql(f'DROP DATABASE "{db}" WITH (FORCE)')
        for role in rich.roles:
            node3.psql(f'DROP ROLE IF EXISTS "{role}"')


def test_cluster_zstd_dump_is_a_zstd_stream_that_restores(
    rst, rich: RichDb, node3: PgCluster
) -> None:  # type: ignore[no-untyped-def]
    bck = rst.backup("", "CLUSTER", compression="zstd:3")
    assert bck["compression"] == "zstd:3" and bck["encrypted"] is False
    path = Path(bck["pg_dump_file"])
    assert path.name.endswith(".sql.zst")
    raw = path.read_bytes()
    assert raw[:4] == b"\x28\xb5\x2f\xfd"  # zstd frame magic
    sql = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    assert TRAILER in sql[-200:] and rich.dbname.encode() in sql
    _restore_cluster(rst, rich, node3, bck)


def test_encrypted_lz4_cluster_dump_restores_in_a_stream(
    rst, rich: RichDb, node3: PgCluster, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key = new_key(tmp_path)
    rst.pgb.su_query(
        "SELECT update_backup_server_config(%s, 'encryption_recipients', %s)",
        (rst.pgb.server_id, key.recipient),
    )
    bck = rst.backup("", "CLUSTER", compression="lz4:1", encryption=True)
    path = Path(bck["pg_dump_file"])
    assert path.name.endswith(".sql.lz4.age") and bck["encrypted"] is True
    assert rich.dbname.encode() not in path.read_bytes()
    assert age_decrypt(path, key)[:4] == b"\x04\x22\x4d\x18"  # lz4 frame magic
    set_identity_file(rst.pgb.config_path, key.identity_file)
    _restore_cluster(rst, rich, node3, bck)
