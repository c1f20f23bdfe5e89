"""The read-back check of a directory dump while it is written, without PostgreSQL: one
file's stream check by compression method (archive/streamcheck.py), the files a table of
contents requires (core/toc.py), the directory watch (infra/dirwatch.py) and the thread
pool that follows growing files (archive/readback.py) with a real writer thread, with and
without close events, encrypted or not."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import time
import zlib
from pathlib import Path

import lz4.frame
import pytest
import zstandard
from pyrage import x25519

from pgbackman.archive import crypt, files
from pgbackman.archive.readback import Readback, Verified
from pgbackman.archive.streamcheck import StreamCheck, method_for
from pgbackman.core import toc
from pgbackman.errors import ReadBackError
from pgbackman.infra import dirwatch, fsutil

ROWS = b"".join(b"%d\t%d\t0\t" % (i, i % 7) + b" " * 84 + b"\n" for i in range(40000))


def _feed(check: StreamCheck, data: bytes, step: int = 7001) -> None:
    for i in range(0, len(data), step):
        check.feed(data[i : i + step])


COMPRESSORS = {
    "3001.dat.gz": lambda d: gzip.compress(d, 6),
    "3001.dat.lz4": lambda d: lz4.frame.compress(d, content_checksum=True),
    "3001.dat.zst": lambda d: zstandard.ZstdCompressor(write_checksum=True).compress(d),
    "3001.dat": lambda d: d,
}


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_complete_stream_reads_back_and_hashes_the_raw_bytes(name: str) -> None:
    raw = COMPRESSORS[name](ROWS)
    check = StreamCheck(name)
    _feed(check, raw)
    assert check.finish() == hashlib.sha256(raw).hexdigest()
    assert check.size == len(raw)


@pytest.mark.parametrize("name", [n for n in sorted(COMPRESSORS) if n != "3001.dat"])
@pytest.mark.parametrize("cut", [1, 3, 0.5])
def test_truncated_stream_is_refused(name: str, cut: float) -> None:
    raw = COMPRESSORS[name](ROWS)
    end = int(len(raw) * cut) if cut < 1 else len(raw) - int(cut)
    check = StreamCheck(name)
    _feed(check, raw[:end])
    with pytest.raises(ReadBackError, match=name):
        check.finish()


@pytest.mark.parametrize("name", [n for n in sorted(COMPRESSORS) if n != "3001.dat"])
def test_corrupt_stream_is_refused(name: str) -> None:
    raw = bytearray(COMPRESSORS[name](ROWS))
    raw[len(raw) // 2] ^= 0x55  # one flipped byte in the middle
    check = StreamCheck(name)
    _feed(check, bytes(raw))
    with pytest.raises(ReadBackError):
        check.finish()


def test_gzip_rules_empty_file_trailing_garbage_several_members() -> None:
    empty = StreamCheck("1.dat.gz")
    with pytest.raises(ReadBackError, match="empty file"):
        empty.finish()
    two = gzip.compress(b"a" * 1000) + gzip.compress(b"b" * 1000)
    check = StreamCheck("1.dat.gz")
    _feed(check, two, 5)
    check.finish()
    tail = StreamCheck("1.dat.gz")
    _feed(tail, gzip.compress(b"a" * 1000) + b"junk")
    with pytest.raises(ReadBackError, match="after the end of the stream"):
        tail.finish()
    # An empty table's file from pg_dump: a complete gzip stream of nothing.
    nothing = StreamCheck("2.dat.gz")
    nothing.feed(gzip.compress(b""))
    nothing.finish()


def test_highly_compressible_data_is_decoded_chunk_by_chunk() -> None:
    """500 MiB of zeros in one gzip file: decoded with bounded output per call (the check
    would need 500 MiB of memory otherwise)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    raw = b"".join(z.compress(bytes(1 << 20)) for _ in range(500)) + z.flush()
    assert len(raw) < 1 << 20
    check = StreamCheck("9.dat.gz")
    check.feed(raw)
    check.finish()


def test_without_decoding_only_the_hash_is_taken() -> None:
    check = StreamCheck("3.dat.gz", decode=False)
    check.feed(b"not gzip at all")
    assert check.finish() == hashlib.sha256(b"not gzip at all").hexdigest()
    assert method_for("x.dat.zst") == "zstd" and method_for("toc.dat") == "none"


LISTING = """;
; Archive created at 2026-12-01 10:00:00 UTC
3348; 0 19922 TABLE DATA public e postgres
3349; 0 19925 TABLE DATA public f postgres
3361; 0 0 SEQUENCE SET public s postgres
3354; 0 0 BLOBS - BLOBS
3351; 0 19931 MATERIALIZED VIEW DATA public mv postgres
214; 1259 19922 TABLE public e postgres
"""


def test_toc_names_every_data_file_pg_restore_opens() -> None:
    assert toc.data_entries(LISTING) == ([3348, 3349], [3354])
    blobs = {"blobs.toc": "19928 blob_19928.dat\n19929 blob_19929.dat\n"}
    names = {"3348.dat.gz", "3349.dat.gz", "blobs.toc", "blob_19928.dat.gz"}
    assert toc.missing_files(LISTING, names, blobs.__getitem__) == ["blob_19929.dat"]
    names |= {"blob_19929.dat.gz"}
    assert toc.missing_files(LISTING, names, blobs.__getitem__) == []
    assert toc.missing_files(LISTING, {"3348.dat"}, blobs.__getitem__) == [
        "3349.dat",
        "blobs.toc",
    ]
    # PostgreSQL 17 writes one list per BLOBS entry.
    per = {"blobs_3354.toc": "19928 blob_19928.dat\n"}
    assert (
        toc.missing_files(
            LISTING,
            {"3348.dat.zst", "3349.dat.zst", "blobs_3354.toc", "blob_19928.dat.zst"},
            per.__getitem__,
        )
        == []
    )
    assert toc.is_toc_name("toc.dat") and toc.is_toc_name("blobs_12.toc")
    assert not toc.is_toc_name("3348.dat.gz")


def test_inotify_watch_reports_creation_and_close(tmp_path: Path) -> None:
    watch = dirwatch.watch_directory(tmp_path)
    assert isinstance(watch, dirwatch.InotifyWatch)  # Linux: the tests need inotify
    try:
        with open(tmp_path / "a.dat.gz", "wb") as fh:
            fh.write(b"x")
            assert dirwatch.wait_readable([watch.fileno()], 5)
            assert watch.read() == [(dirwatch.CREATED, "a.dat.gz")]
        (tmp_path / "sub").mkdir()  # directories are not files of the dump
        events = watch.read()
        assert events == [(dirwatch.CLOSED, "a.dat.gz")]
    finally:
        watch.close()
    poll = dirwatch.PollWatch(tmp_path)
    assert poll.read() == [(dirwatch.CREATED, "a.dat.gz"), (dirwatch.CREATED, "sub")]
    (tmp_path / "b").write_bytes(b"")
    assert poll.read() == [(dirwatch.CREATED, "b")]


class _Writer(threading.Thread):
    """Writes gzip files slowly, like pg_dump: toc.dat first, then the data files."""

    def __init__(self, d: Path, n: int, big: bytes) -> None:
        super().__init__(daemon=True)
        self.d, self.n, self.big = d, n, big
        self.expected: dict[str, bytes] = {}

    def run(self) -> None:
        (self.d / "toc.dat").write_bytes(b"PGDMP" + os.urandom(100))
        for i in range(self.n):
            raw = gzip.compress(ROWS if i == 0 else b"%d\n" % i)
            name = f"{3000 + i}.dat.gz"
            with open(self.d / name, "wb") as fh:
                for j in range(0, len(raw), 4096):
                    fh.write(raw[j : j + 4096])
                    fh.flush()
                    if i == 0:
                        time.sleep(0.001)  # a big table written over some time
            self.expected[name] = raw
            time.sleep(0.005)  # the next table's query


@pytest.mark.parametrize("events", [True, False], ids=["inotify", "polling"])
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "age"])
def test_readback_follows_a_directory_being_written(
    tmp_path: Path, events: bool, encrypted: bool
) -> None:
    sealer = (
        crypt.Sealer([str(x25519.Identity.generate().to_public())])
        if encrypted
        else None
    )
    d = tmp_path / "dump"
    d.mkdir()
    watch = dirwatch.InotifyWatch(d) if events else dirwatch.PollWatch(d)
    rb = Readback(d, sealer=sealer, deferred={"toc.dat"}, workers=2)
    writer = _Writer(d, 40, ROWS)
    writer.start()
    early = 0
    while writer.is_alive():
        dirwatch.wait_readable([watch.fileno()], 0.01)
        for kind, name in watch.read():
            if kind == dirwatch.CLOSED:
                rb.closed(name)
            else:
                rb.seen(name)
        rb.tick()
        early = max(early, len(rb.verified))
    writer.join()
    rb.writer_exited()
    verified = rb.wait()
    watch.close()
    assert sorted(verified) == sorted(writer.expected)
    if events:
        assert early > 0  # files were finished before the writer was done
    for name, raw in writer.expected.items():
        v = verified[name]
        if sealer is None:
            assert v.name == name and v.digest == hashlib.sha256(raw).hexdigest()
        else:
            assert v.name == name + ".age" and not (d / name).exists()
            assert sealer.digests[d / v.name] == hashlib.sha256(raw).hexdigest()
            assert v.digest == hashlib.sha256((d / v.name).read_bytes()).hexdigest()
    toc_v = rb.finish_now("toc.dat")
    assert toc_v.name == ("toc.dat.age" if sealer else "toc.dat")
    # The manifest takes these digests and refuses a file changed afterwards.
    known = {f"dump/{v.name}": v for v in [*verified.values(), toc_v]}
    lines = files.manifest_lines(tmp_path, ["dump"], known)
    assert len(lines) == 41
    victim = d / next(iter(verified.values())).name
    victim.write_bytes(victim.read_bytes()[:-1])
    with pytest.raises(ReadBackError, match="changed after it was read back"):
        files.manifest_lines(tmp_path, ["dump"], known)
    victim.unlink()
    with pytest.raises(ReadBackError, match="no longer there"):
        files.manifest_lines(tmp_path, ["dump"], known)


def test_readback_stops_at_the_first_bad_file(tmp_path: Path) -> None:
    d = tmp_path / "dump"
    d.mkdir()
    (d / "1.dat.gz").write_bytes(gzip.compress(ROWS)[:-10])
    (d / "2.dat.gz").write_bytes(gzip.compress(ROWS))
    rb = Readback(d, workers=2)
    rb.writer_exited()
    with pytest.raises(ReadBackError, match=r"1\.dat\.gz: .*truncated"):
        rb.wait()
    rb.abort()


def test_fsync_many_syncs_files_and_directories(tmp_path: Path) -> None:
    paths = []
    for i in range(40):
        p = tmp_path / f"f{i}"
        p.write_bytes(b"x" * i)
        paths.append(p)
    assert fsutil.fsync_many([*paths, tmp_path]) == 41
    with pytest.raises(FileNotFoundError):
        fsutil.fsync_many([*paths, tmp_path / "missing"])


def test_verified_is_what_the_manifest_needs() -> None:
    v = Verified("1.dat.gz.age", "ab" * 32, 10, 20, "1.dat.gz")
    assert v.plain_name == "1.dat.gz" and v.name.endswith(".age")
