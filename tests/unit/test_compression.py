"""Compression values (core/compression.py) and the CLUSTER streams (archive/compress.py),
without PostgreSQL."""

from __future__ import annotations

import io

import pytest

from pgbackman.archive import compress
from pgbackman.core import argv as argvmod
from pgbackman.core import compression as c
from pgbackman.core.compression import Compression, CompressionError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gzip:6", "gzip:6"),
        ("GZIP:9", "gzip:9"),
        ("zstd", "zstd:3"),
        ("zstd:22", "zstd:22"),
        ("lz4", "lz4:1"),
        ("lz4:level=12", "lz4:12"),
        (" none ", "none"),
        ("none:0", "none"),
    ],
)
def test_values_are_normalised(text: str, expected: str) -> None:
    assert c.normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("gzip:0", "out of range"),
        ("gzip:10", "out of range"),
        ("zstd:23", "out of range"),
        ("lz4:13", "out of range"),
        ("brotli:3", "not supported"),
        ("none:3", "takes no level"),
        ("gzip:", "not valid"),
        ("", "not valid"),
        ("gzip:6; rm -rf /", "not valid"),
    ],
)
def test_bad_values_are_refused(text: str, reason: str) -> None:
    with pytest.raises(CompressionError, match=reason):
        c.parse(text)


def test_effective_value_definition_then_node_then_default() -> None:
    assert str(c.effective("zstd:5", "gzip:1")) == "zstd:5"
    assert str(c.effective(None, "gzip:1")) == "gzip:1"
    assert str(c.effective("", "")) == c.DEFAULT == "gzip:6"


def test_methods_by_pg_dump_release() -> None:
    for method in ("gzip:6", "none"):
        c.check_release(c.parse(method), "FULL", (15,))
    with pytest.raises(CompressionError, match="needs pg_dump 16 or newer"):
        c.check_release(c.parse("zstd:3"), "FULL", (15,))
    with pytest.raises(CompressionError, match="pg_dump 9.6"):
        c.check_release(c.parse("lz4:1"), "SCHEMA", (9, 6))
    c.check_release(c.parse("zstd:3"), "FULL", (16,))
    c.check_release(c.parse("zstd:3"), "CLUSTER", (12,))  # compressed in Python


def test_pg_dump_option_by_release() -> None:
    assert c.pg_dump_option(c.parse("gzip:9"), (15,)) == "--compress=9"
    assert c.pg_dump_option(c.parse("none"), (15,)) == "--compress=0"
    assert c.pg_dump_option(c.parse("zstd:3"), (16,)) == "--compress=zstd:3"
    assert c.pg_dump_option(c.parse("none"), (17,)) == "--compress=none"


def test_compress_options_are_folded_out_of_extra_parameters() -> None:
    tokens = argvmod.tokenize_extra("-Z 9 --no-comments -T 'Big Table' -Z9", "pg_dump")
    comp, rest = c.fold_extra(tokens, None)
    assert comp == Compression("gzip", 9)
    assert rest == ["--no-comments", "-T", "Big Table"]
    assert c.join_extra(rest) == "--no-comments -T 'Big Table'"
    assert c.fold_extra(["--compress=0"], None)[0] == Compression("none")
    assert c.fold_extra(["--compress=zstd:level=4"], None)[0] == Compression("zstd", 4)
    assert c.fold_extra(["-Z", "5"], "gzip:5") == (Compression("gzip", 5), [])
    assert c.fold_extra(["--no-comments"], "zstd:3") == (None, ["--no-comments"])
    with pytest.raises(CompressionError, match="contradicts"):
        c.fold_extra(["-Z", "5"], "gzip:6")
    with pytest.raises(CompressionError, match="two compressions"):
        c.fold_extra(["-Z", "5", "--compress=6"], None)


@pytest.mark.parametrize("value", ["gzip:1", "zstd:3", "lz4:1", "none"])
def test_cluster_streams_round_trip_and_are_recognised(value: str) -> None:
    data = b"".join(b"INSERT INTO t VALUES (%d);\n" % i for i in range(50000))
    data += compress.CLUSTER_TRAILER + b"\n"
    z = compress.compressor(c.parse(value))
    out = b"".join(z.compress(data[i : i + 65536]) for i in range(0, len(data), 65536))
    out += z.flush()
    method, stream = compress.open_reader(io.BytesIO(out))
    assert method == c.parse(value).method
    back = b"".join(iter(lambda: stream.read(1 << 16), b""))
    assert back == data
    assert c.parse(value).cluster_suffix.startswith(".sql")


@pytest.mark.parametrize("value", ["gzip:6", "zstd:3", "lz4:1"])
def test_corrupt_cluster_streams_raise_a_read_error(value: str) -> None:
    data = b"".join(b"row %d\n" % i for i in range(100000))
    z = compress.compressor(c.parse(value))
    out = bytearray(z.compress(data) + z.flush())
    out[len(out) // 2] ^= 0xFF
    _method, stream = compress.open_reader(io.BytesIO(bytes(out)))
    with pytest.raises(compress.read_errors):
        while stream.read(1 << 16):
            pass
