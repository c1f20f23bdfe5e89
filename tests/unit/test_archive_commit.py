"""A staging directory becomes a backup: the manifest and every file it names are durable
before anything gets its final name, and the manifest is renamed last (archive/files.py).

The fsyncs and renames are observed by wrapping ``os.fsync`` / ``os.rename`` (they still do
their work): no other way shows the order in which a crash could cut them."""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from pgbackman.archive import files

MANIFEST = "db_manifest.sha256"


def _staging(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    dump_dir = tmp_path / "dump"
    staging = dump_dir / ".partial-def1-42-20240101T000000"
    (staging / "db.dir").mkdir(parents=True)
    (staging / "db.dir" / "toc.dat").write_bytes(b"PGDMP table of contents")
    (staging / "db.dir" / "3001.dat.gz").write_bytes(gzip.compress(b"1\tone\n"))
    (staging / "db_roles.sql").write_text("CREATE ROLE app;\n")
    return staging, dump_dir, ["db.dir", "db_roles.sql"]


def _record(
    monkeypatch: pytest.MonkeyPatch,
    events: list[tuple[str, str]],
    fail: Callable[[str], bool] = lambda path: False,
) -> None:
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if fail(path):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)
        events.append(("fsync", path))  # list.append: safe from the fsync threads

    def rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        real_rename(src, dst)
        events.append(("rename", os.path.realpath(dst)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)


def test_manifest_is_durable_with_the_files_before_it_gets_its_final_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staging, dump_dir, items = _staging(tmp_path)
    wanted = {
        os.path.realpath(p)
        for p in (
            staging / "db.dir" / "toc.dat",
            staging / "db.dir" / "3001.dat.gz",
            staging / "db.dir",
            staging / "db_roles.sql",
            staging / MANIFEST,
            staging,
        )
    }
    events: list[tuple[str, str]] = []
    _record(monkeypatch, events)
    old = os.umask(0o377)  # the manifest's mode must not follow the umask
    try:
        staged = files.write_manifest(staging, MANIFEST, items)
    finally:
        os.umask(old)
    synced = {path for kind, path in events if kind == "fsync"}
    assert wanted <= synced
    assert not any(kind == "rename" for kind, _ in events)  # nothing final yet

    events.clear()
    files.commit(staging, dump_dir, staged)
    renames = [path for kind, path in events if kind == "rename"]
    final = os.path.realpath(dump_dir / MANIFEST)
    assert renames[-1] == final and len(renames) == 3  # the manifest last
    assert events[-1] == ("fsync", os.path.realpath(dump_dir))  # the renames durable
    assert not staging.exists()

    manifest = dump_dir / MANIFEST
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() == staged.checksum
    assert [ln.split("  ")[1] for ln in manifest.read_text().splitlines()] == [
        "db.dir/3001.dat.gz",
        "db.dir/toc.dat",
        "db_roles.sql",
    ]
    assert files.verify_manifest(dump_dir, MANIFEST) == []


def test_a_manifest_that_cannot_be_made_durable_is_never_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staging, dump_dir, items = _staging(tmp_path)
    events: list[tuple[str, str]] = []
    _record(monkeypatch, events, fail=lambda path: path.endswith(MANIFEST))
    with pytest.raises(OSError, match="Input/output error"):
        files.write_manifest(staging, MANIFEST, items)
    # The run fails here (backup/runner.py): commit() only takes what write_manifest
    # returned, and nothing in dump/ has a final name.
    assert sorted(p.name for p in dump_dir.iterdir()) == [staging.name]
    assert not any(kind == "rename" for kind, _ in events)
