"""Encryption and compression through the real shell: every value is refused when it is
typed if it cannot work (a compression the node's pg_dump cannot write, encryption on a
backup server without recipients, keys that are not age public keys), never at 02:00."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shell_helpers import reg
from support.agekeys import new_key
from support.pgbenv import PgbEnv


def _defs(pgb_env: PgbEnv) -> list[tuple[Any, ...]]:
    return pgb_env.su_query(
        "SELECT dbname, backup_code, backup_compression, encryption, extra_backup_parameters"
        " FROM backup_definition ORDER BY def_id"
    )


def _server_cfg(pgb_env: PgbEnv, parameter: str) -> str:
    return str(
        pgb_env.su_query(
            "SELECT value FROM backup_server_config WHERE server_id = %s AND parameter = %s",
            (pgb_env.server_id, parameter),
        )[0][0]
    )


def test_zstd_full_backup_on_a_postgresql_15_node_is_refused_at_registration(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    r = shell.cmd(reg(nid, "app1") + " 'zstd:3'")
    assert r.rc == 1
    assert "[ERROR]" in r.out
    assert "zstd:3 needs pg_dump 16 or newer" in r.out
    assert "runs pg_dump 15, which compresses with gzip only" in r.out
    assert _defs(pgb_env) == []
    # lz4 too; a bad level or method is refused for its syntax.
    assert "needs pg_dump 16" in shell.cmd(reg(nid, "app1") + " lz4").out
    assert "out of range for gzip (1-9)" in shell.cmd(reg(nid, "app1") + " gzip:11").out
    assert "not supported" in shell.cmd(reg(nid, "app1") + " brotli:3").out
    assert _defs(pgb_env) == []
    # gzip and none work with every pg_dump; CLUSTER dumps are compressed in Python.
    assert shell.cmd(reg(nid, "app1") + " gzip:9").rc == 0
    assert shell.cmd(reg(nid, "app2") + " NONE").rc == 0
    assert shell.cmd(reg(nid, "", code="CLUSTER") + " zstd:3").rc == 0
    assert shell.cmd(reg(nid, "app2", mins="42") + " default").rc == 0
    assert [(d[0], d[1], d[2]) for d in _defs(pgb_env)] == [
        ("app1", "FULL", "gzip:9"),
        ("app2", "FULL", "none"),
        ("", "CLUSTER", "zstd:3"),
        ("app2", "FULL", None),
    ]
    listing = shell.cmd("show_backup_definitions all all all", fmt="json").json()
    shown = {(d["dbname"], d["compression"]) for d in listing["backup_definitions"]}
    assert shown == {
        ("app1", "gzip:9"),
        ("app2", "none"),
        ("", "zstd:3"),
        ("app2", "gzip:6 (node)"),
    }


def test_compress_option_in_extra_parameters_is_folded_or_refused(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    r = shell.cmd(reg(nid, "app1", extra="-Z 9 --no-comments"))
    assert r.rc == 0, r.out + r.err
    assert (
        "-Z 9 moved from the extra parameters to the backup compression: gzip:9"
        in r.out
    )
    assert _defs(pgb_env) == [("app1", "FULL", "gzip:9", False, "--no-comments")]
    r = shell.cmd(reg(nid, "app2", extra="--compress=5") + " gzip:7")
    assert r.rc == 1 and "contradicts the backup compression gzip:7" in r.out
    r = shell.cmd(reg(nid, "app2", extra="-Z zstd:5"))
    assert r.rc == 1 and "needs pg_dump 16" in r.out
    assert len(_defs(pgb_env)) == 1
    # The catalog refuses a -Z it is handed directly.
    r = shell.cmd(reg(nid, "app2", extra="-Z 5") + " gzip:5")
    assert r.rc == 0  # folded (same value): stored without -Z
    assert _defs(pgb_env)[1][4] == ""


def test_encryption_needs_recipients_on_the_backup_server(
    pgb_env: PgbEnv, node1: Any, shell: Any, tmp_path: Path
) -> None:
    nid = pgb_env.register_node(node1)
    r = shell.cmd(reg(nid, "app1", enc="true"))
    assert r.rc == 1
    assert "backup server [1] has no encryption_recipients" in r.out
    assert _defs(pgb_env) == []
    # The catalog refuses it too, whoever asks.
    rows = pgb_env.su_query(
        "SELECT count(*) FROM pg_proc WHERE proname = 'trg_check_backup_protection'"
    )
    assert rows[0][0] == 1
    key, other = new_key(tmp_path), new_key(tmp_path, "other.txt")
    nine = "'' " * 8
    bad = shell.cmd(f"update_backup_server_config 1 {nine}age1notakey")
    assert bad.rc == 1 and "not an age public key" in bad.out
    secret = key.identity_file.read_text().split("AGE-SECRET-KEY-")[1].split()[0]
    bad = shell.cmd(f"update_backup_server_config 1 {nine}AGE-SECRET-KEY-{secret}")
    assert bad.rc == 1 and "must never be stored" in bad.out
    assert _server_cfg(pgb_env, "encryption_recipients") == ""
    ok = shell.cmd(
        f"update_backup_server_config 1 {nine}'{key.recipient.upper()},{other.recipient}'"
    )
    assert ok.rc == 0, ok.out + ok.err
    assert (
        _server_cfg(pgb_env, "encryption_recipients")
        == f"{key.recipient} {other.recipient}"
    )
    r = shell.cmd(reg(nid, "app1", enc="true"))
    assert r.rc == 0, r.out + r.err
    assert _defs(pgb_env)[0][3] is True
    shown = shell.cmd("show_backup_definitions all all all", fmt="json").json()
    assert shown["backup_definitions"][0]["encryption"] is True
    # Removing the recipients is allowed, with a warning: those runs will fail loudly.
    r = shell.cmd(f"update_backup_server_config 1 {nine}none")
    assert r.rc == 0 and "1 encrypted backup definition(s) will fail" in r.out
    assert _server_cfg(pgb_env, "encryption_recipients") == ""


def test_updates_are_checked_like_registrations(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    assert shell.cmd(reg(nid, "app1")).rc == 0
    (def_id,) = pgb_env.su_query("SELECT def_id FROM backup_definition")[0]
    ten = "'' " * 10
    r = shell.cmd(f"update_backup_definition {def_id} {ten}zstd:3")
    assert r.rc == 1 and "needs pg_dump 16" in r.out
    r = shell.cmd(f"update_backup_definition {def_id} {ten}'' true")
    assert r.rc == 1 and "no encryption_recipients" in r.out
    assert shell.cmd(f"update_backup_definition {def_id} {ten}gzip:1").rc == 0
    assert _defs(pgb_env)[0][2] == "gzip:1"
    assert shell.cmd(f"update_backup_definition {def_id} {ten}default").rc == 0
    assert _defs(pgb_env)[0][2] is None
    # The node default: checked against the node's release too.
    twenty = "'' " * 21  # the node, then 19 upstream and 2 newer values before it
    r = shell.cmd(f"update_pgsql_node_config {nid} {twenty}zstd:3")
    assert r.rc == 1 and "needs pg_dump 16" in r.out
    r = shell.cmd(f"update_pgsql_node_config {nid} {twenty}gzip:2")
    assert r.rc == 0, r.out + r.err
    cfg = pgb_env.su_query(
        "SELECT value FROM pgsql_node_config WHERE node_id = %s"
        " AND parameter = 'backup_compression'",
        (nid,),
    )
    assert cfg == [("gzip:2",)]


def test_snapshot_compression_follows_its_pg_dump_release(
    pgb_env: PgbEnv, node1: Any, shell: Any
) -> None:
    nid = pgb_env.register_node(node1)
    base = f"register_snapshot_definition '' {nid} app1 '' '2031-01-01 03:00' FULL '' '' tag"
    r = shell.cmd(f"{base} '' zstd:3 ''")
    assert r.rc == 1 and "needs pg_dump 16" in r.out
    # A snapshot that asks for pg_dump 16 may use zstd.
    r = shell.cmd(f"{base} 16 zstd:3 ''")
    assert r.rc == 0, r.out + r.err
    rows = pgb_env.su_query(
        "SELECT backup_compression, encryption, pg_dump_release FROM snapshot_definition"
    )
    assert rows == [("zstd:3", False, "16")]
