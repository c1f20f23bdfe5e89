"""Atomic writes, confined deletion, the local cache and the pending spool (no PostgreSQL)."""

from __future__ import annotations

import json
import os
import stat
import uuid
from pathlib import Path

import pytest

from pgbackman.errors import CacheError, UnsafePathError
from pgbackman.infra import cache, spool
from pgbackman.infra.fsutil import (
    PendingWrite,
    atomic_write,
    atomic_write_many,
    ensure_dir,
    safe_remove,
    tree_size,
)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_atomic_write_mode_is_independent_of_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        target = tmp_path / "f"
        atomic_write(target, "one", 0o644)
        assert target.read_text() == "one" and mode(target) == 0o644
        atomic_write(target, b"two", 0o600)
        assert target.read_text() == "two" and mode(target) == 0o600
        d = ensure_dir(tmp_path / "a" / "b", 0o700)
        assert mode(d) == 0o700
    finally:
        os.umask(old)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_atomic_write_failure_keeps_old_content(tmp_path: Path) -> None:
    target = tmp_path / "f"
    atomic_write(target, "old")

    class Boom:
        def encode(self, _: str) -> bytes:
            raise RuntimeError("boom")

    # Not text: the write fails half-way (TypeError from the file object).
    with pytest.raises((TypeError, RuntimeError)):
        atomic_write(target, Boom())  # type: ignore[arg-type]
    assert target.read_text() == "old"


def test_atomic_write_many_writes_each_file_whole_and_isolates_failures(
    tmp_path: Path,
) -> None:
    a, b = tmp_path / "a", tmp_path / "sub" / "b"
    (tmp_path / "sub").mkdir()
    a.write_text("old a")
    writes = [
        PendingWrite(a, b"new a", 0o644, tag=1),
        PendingWrite(tmp_path / "missing" / "c", b"c", tag=2),
        PendingWrite(b, b"b" * 100_000, 0o600, tag=3),
    ]
    failed = atomic_write_many(writes)
    assert [w.tag for w in failed] == [2] and isinstance(failed[0].error, OSError)
    assert a.read_text() == "new a" and mode(a) == 0o644
    assert b.read_bytes() == b"b" * 100_000 and mode(b) == 0o600
    # No temp file is left behind, next to a written file or a failed one.
    assert sorted(p.name for p in tmp_path.rglob(".*")) == []
    assert atomic_write_many([]) == []


def test_safe_remove_confined_to_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "node" / "dump" / "d1").mkdir(parents=True)
    (root / "node" / "dump" / "d1" / "toc.dat").write_text("x")
    outside.mkdir()
    (outside / "precious").write_text("keep")
    # a symlink inside the root pointing out is removed as a link, never followed
    (root / "node" / "dump" / "link").symlink_to(outside)
    assert safe_remove(root, root / "node" / "dump" / "link") is True
    assert (outside / "precious").read_text() == "keep"
    assert safe_remove(root, root / "node" / "dump" / "d1") is True
    assert not (root / "node" / "dump" / "d1").exists()
    assert safe_remove(root, root / "node" / "dump" / "gone") is False
    for bad in (outside / "precious", root / ".." / "outside" / "precious", root):
        with pytest.raises(UnsafePathError):
            safe_remove(root, bad)
    # a directory symlinked out of the root: paths below it are outside
    (root / "escape").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        safe_remove(root, root / "escape" / "precious")
    assert (outside / "precious").exists()
    with pytest.raises(UnsafePathError):
        safe_remove(root, "relative/path")


def test_tree_size(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_bytes(b"x" * 10)
    (tmp_path / "d" / "b").write_bytes(b"x" * 5)
    assert tree_size(tmp_path / "d") == 15
    assert tree_size(tmp_path / "d" / "a") == 10


def test_cache_round_trip(tmp_path: Path) -> None:
    cache.write_server_cache(tmp_path, {"backup_server_id": 1, "config": {"a": "b"}})
    cache.write_node_cache(
        tmp_path, 7, {"node": {"node_id": 7}, "definitions": {"12": {"dbname": "x"}}}
    )
    assert cache.read_server_cache(tmp_path)["backup_server_id"] == 1
    node, item = cache.find_definition(tmp_path, 12)
    assert node["node"]["node_id"] == 7 and item["dbname"] == "x"
    assert mode(cache.node_cache_path(tmp_path, 7)) == 0o600
    assert mode(cache.cache_dir(tmp_path)) == 0o700
    with pytest.raises(CacheError):
        cache.find_definition(tmp_path, 13)
    cache.node_cache_path(tmp_path, 8).write_text("{broken")
    with pytest.raises(CacheError, match="unreadable"):
        cache.read_node_cache(tmp_path, 8)


def test_spool_write_and_iterate(tmp_path: Path) -> None:
    rid = str(uuid.uuid4())
    path = spool.write_pending(
        tmp_path, "backup", {"run_uuid": rid, "error_message": "a::b\nc"}
    )
    assert mode(path) == 0o600 and mode(spool.pending_dir(tmp_path)) == 0o700
    (spool.pending_dir(tmp_path) / "backup_broken.json").write_text("{")
    got = list(spool.iter_pending(tmp_path, "backup"))
    records = {p.name: r for p, r in got}
    assert records[path.name] == {"run_uuid": rid, "error_message": "a::b\nc"}
    assert records["backup_broken.json"] is None
    assert list(spool.iter_pending(tmp_path, "restore")) == []
    with pytest.raises(ValueError):
        spool.write_pending(tmp_path, "backup", {"run_uuid": "../../etc/passwd"})
    assert json.loads(path.read_text())["kind"] == "backup"
