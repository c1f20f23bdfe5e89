"""The read-back check of a directory dump, done while pg_dump writes it (backup/dirdump.py):
a good run records digests that match the files and says the check ran during the dump;
an archive damaged behind pg_dump's back (pg_dump still exits 0) never becomes a backup,
plain or encrypted, whether the damage came before or after the file was read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dump_helpers import REAL_BIN, fake_bindir, restore_full
from support.agekeys import new_key
from support.richdb import RichDb

# The real pg_dump, then one data file damaged once it is complete; exit status still 0.
DAMAGING_PG_DUMP = f"""#!/bin/bash
if [ "$1" = "--version" ]; then exec {REAL_BIN}/pg_dump --version; fi
{REAL_BIN}/pg_dump "$@" || exit $?
for a in "$@"; do case "$a" in --file=*) out="${{a#--file=}}";; esac; done
victim="$(ls -S "$out"/[0-9]*.dat* | head -1)"
%s
exit 0
"""
DAMAGE = {
    "truncated": 'truncate -s -7 "$victim"',
    "flipped": 'size=$(stat -c %s "$victim"); printf "\\xff" | '
    'dd of="$victim" bs=1 seek=$((size / 2)) conv=notrunc status=none',
    "missing": 'rm -f "$victim"',
    "blobs list lost": 'rm -f "$out/blobs.toc"',
}


# The real pg_dump into another directory, one data file damaged there, then every file
# copied into the directory the run watches: the damage is in the bytes as they are
# written, so the decoding catches it (not the later size/mtime comparison).
CORRUPT_AS_WRITTEN_PG_DUMP = f"""#!/bin/bash
if [ "$1" = "--version" ]; then exec {REAL_BIN}/pg_dump --version; fi
args=()
for a in "$@"; do
  case "$a" in --file=*) out="${{a#--file=}}"; args+=("--file=$out.real");; *) args+=("$a");; esac
done
{REAL_BIN}/pg_dump "${{args[@]}}" || exit $?
victim="$(ls -S "$out.real"/[0-9]*.dat.gz | head -1)"
size=$(stat -c %s "$victim")
printf "\\xff\\xff\\xff\\xff" | dd of="$victim" bs=1 seek=$((size / 2)) conv=notrunc status=none
cp "$out.real"/* "$out"/ && rm -rf "$out.real"
exit 0
"""


# The real pg_dump, then (once the run has encrypted every data file and removed its clear
# text) a data file written again under its first name: a file the run has already read.
REWRITTEN_AFTER_READ_BACK_PG_DUMP = f"""#!/bin/bash
if [ "$1" = "--version" ]; then exec {REAL_BIN}/pg_dump --version; fi
{REAL_BIN}/pg_dump "$@" || exit $?
for a in "$@"; do case "$a" in --file=*) out="${{a#--file=}}";; esac; done
for _ in $(seq 300); do
  for sealed in "$out"/[0-9]*.dat.gz.age; do
    if [ -e "$sealed" ] && [ ! -e "${{sealed%.age}}" ]; then
      printf "written again" > "${{sealed%.age}}"
      exit 0
    fi
  done
  sleep 0.1
done
exit 3  # nothing was encrypted within 30 s: not the case under test
"""


def _manifest(row: dict[str, object]) -> dict[str, str]:
    text = Path(str(row["pg_dump_manifest_file"])).read_text()
    return {ln[66:]: ln[:64] for ln in text.splitlines()}


def test_read_back_during_the_dump_records_the_real_digests(
    dump_env, rich: RichDb
) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define(rich.dbname)
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 0, res.stderr
    (row,) = dump_env.rows(def_id)
    assert row["execution_status"] == "SUCCEEDED"
    listed = _manifest(row)
    dump_dir = Path(str(row["pg_dump_file"]))
    on_disk = sorted(p for p in dump_dir.rglob("*") if p.is_file())
    assert {f"{dump_dir.name}/{p.name}" for p in on_disk} <= set(listed)
    for rel, digest in listed.items():
        data = (dump_dir.parent / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, rel
    log = Path(str(row["pg_dump_log_file"])).read_text()
    assert "decompressed and hashed while pg_dump ran" in log
    assert "--no-sync" in log  # the run makes the files durable itself
    # And the backup is whole: it restores by hand.
    target = f"{rich.dbname}_copy"
    dump_env.node.psql(f'DROP DATABASE IF EXISTS "{target}"')
    try:
        restore_full(dump_env.node, row, target)
        n = dump_env.node.query("SELECT count(*) FROM pg_class", dbname=target)
        assert int(n[0][0]) > 0
    finally:
        dump_env.node.psql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_archive_damaged_behind_pg_dump_is_never_a_backup(
    dump_env, rich: RichDb, tmp_path: Path, damage: str
) -> None:  # type: ignore[no-untyped-def]
    fake_bindir(dump_env, tmp_path, DAMAGING_PG_DUMP % DAMAGE[damage])
    def_id = dump_env.define(rich.dbname)
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    (row,) = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "Read-back check failed" in row["error_message"], row["error_message"]
    assert row["pg_dump_file"] is None and row["pg_dump_manifest_file"] is None
    assert [n for n in dump_env.final_entries() if not n.startswith(".")] == []
    assert list((dump_env.partition / "dump").glob(".partial-*")) == []


def test_data_file_corrupt_as_written_fails_its_decoding(
    dump_env, rich: RichDb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fake_bindir(dump_env, tmp_path, CORRUPT_AS_WRITTEN_PG_DUMP)
    def_id = dump_env.define(rich.dbname)
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    (row,) = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "Read-back check failed" in row["error_message"]
    assert "gzip stream is corrupt" in row["error_message"], row["error_message"]
    assert [n for n in dump_env.final_entries() if not n.startswith(".")] == []


def test_encrypted_archive_damaged_behind_pg_dump_is_never_a_backup(
    dump_env, rich: RichDb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key = new_key(tmp_path)
    dump_env.pgb.su_query(
        "SELECT update_backup_server_config(%s, 'encryption_recipients', %s)",
        (dump_env.pgb.server_id, key.recipient),
    )
    fake_bindir(dump_env, tmp_path, DAMAGING_PG_DUMP % DAMAGE["flipped"])
    rows = dump_env.pgb.su_query(
        "SELECT register_backup_definition(%s, %s, %s, '5', '3', '*', '*', '*', 'FULL', true,"
        " '7 days', 1, '', 'ACTIVE', 'read-back test', 'gzip:6')",
        (dump_env.pgb.server_id, dump_env.node_id, rich.dbname),
    )
    def_id = int(rows[0][0])
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    (row,) = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "Read-back check failed" in row["error_message"], row["error_message"]
    assert [n for n in dump_env.final_entries() if not n.startswith(".")] == []
    assert list((dump_env.partition / "dump").glob(".partial-*")) == []


def test_encrypted_run_refuses_a_data_file_written_again_after_it_was_read_back(
    dump_env, rich: RichDb, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key = new_key(tmp_path)
    dump_env.pgb.su_query(
        "SELECT update_backup_server_config(%s, 'encryption_recipients', %s)",
        (dump_env.pgb.server_id, key.recipient),
    )
    fake_bindir(dump_env, tmp_path, REWRITTEN_AFTER_READ_BACK_PG_DUMP)
    rows = dump_env.pgb.su_query(
        "SELECT register_backup_definition(%s, %s, %s, '5', '3', '*', '*', '*', 'FULL', true,"
        " '7 days', 1, '', 'ACTIVE', 'read-back test', 'gzip:6')",
        (dump_env.pgb.server_id, dump_env.node_id, rich.dbname),
    )
    def_id = int(rows[0][0])
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    (row,) = dump_env.rows(def_id)
    assert row["execution_status"] == "ERROR"
    assert "appeared after it was read back" in row["error_message"], row[
        "error_message"
    ]
    assert [n for n in dump_env.final_entries() if not n.startswith(".")] == []
