"""Compressed streams of CLUSTER dumps: pg_dumpall output compressed in Python with the
chosen method (gzip, zstd through the zstandard package, lz4 frames through the lz4
package, or none), and read back whatever the method.

Writing is push-based (:func:`compressor`: ``compress(bytes) -> bytes`` then ``flush()``) so
the run can feed pg_dumpall's stdout chunk by chunk into a file or into the encrypting
writer. Reading is pull-based (:func:`open_reader`) with each library's stream reader, so
memory stays flat however well the data compresses (a push decompressor returns everything
a chunk expands to, which for zstd can be thousands of times the chunk). The method of a
stream is recognised by its magic bytes (:func:`sniff`), so a restore needs no catalog
value to read a file.
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import Any, Protocol

import lz4.frame
import zstandard

from pgbackman.core.compression import Compression
from pgbackman.errors import CryptError

# The last line pg_dumpall writes: a CLUSTER stream without it is incomplete.
CLUSTER_TRAILER = b"-- PostgreSQL database cluster dump complete"
TAIL = 4096  # bytes of the end of a stream kept to look for the trailer

MAGIC = {
    "gzip": b"\x1f\x8b",
    "zstd": b"\x28\xb5\x2f\xfd",
    "lz4": b"\x04\x22\x4d\x18",
}


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Gzip:
    """One gzip member (what ``gzip -d`` and the former CLUSTER files hold)."""

    def __init__(self, level: int) -> None:
        self._z = zlib.compressobj(level, zlib.DEFLATED, 31)

    def compress(self, data: bytes) -> bytes:
        return self._z.compress(data)

    def flush(self) -> bytes:
        return self._z.flush(zlib.Z_FINISH)


class _Zstd:
    def __init__(self, level: int) -> None:
        # Content checksum: the frame carries its own check, read back before SUCCEEDED.
        self._z = zstandard.ZstdCompressor(
            level=level, write_checksum=True
        ).compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._z.compress(data)

    def flush(self) -> bytes:
        return self._z.flush()


class _Lz4:
    def __init__(self, level: int) -> None:
        self._z = lz4.frame.LZ4FrameCompressor(
            compression_level=level, content_checksum=True
        )
        self._started = False

    def _begin(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return bytes(self._z.begin())

    def compress(self, data: bytes) -> bytes:
        return self._begin() + bytes(self._z.compress(data))

    def flush(self) -> bytes:
        return self._begin() + bytes(self._z.flush())


class _Plain:
    def compress(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


def compressor(comp: Compression) -> Compressor:
    if comp.method == "gzip":
        return _Gzip(comp.level)
    if comp.method == "zstd":
        return _Zstd(comp.level)
    if comp.method == "lz4":
        return _Lz4(comp.level)
    return _Plain()


def sniff(head: bytes) -> str:
    """The method of a stream from its first bytes (``none`` for plain SQL)."""
    for method, magic in MAGIC.items():
        if head.startswith(magic):
            return method
    return "none"


class _Peeked(io.RawIOBase):
    """A raw stream with its first bytes put back (they were read to sniff the method)."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(b))
        n = len(data)
        b[:n] = data
        return n


def open_reader(raw: Readable) -> tuple[str, Readable]:
    """(method, decompressed stream) of a compressed stream ``raw`` (method by magic bytes).

    Errors of the stream (truncated, corrupt, bad checksum) surface as OSError, EOFError or
    the library's own error from ``read``; :func:`read_errors` lists them."""
    head = b""
    while len(head) < 4:
        more = raw.read(4 - len(head))
        if not more:
            break
        head += more
    method = sniff(head)
    src = io.BufferedReader(_Peeked(head, raw), 1 << 16)
    if method == "gzip":
        return method, gzip.GzipFile(fileobj=src, mode="rb")
    if method == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(
            src, read_across_frames=True
        )
        return method, reader
    if method == "lz4":
        return method, lz4.frame.LZ4FrameFile(src, mode="rb")
    return method, src


# What a corrupt or truncated compressed or encrypted stream raises while it is read.
read_errors: tuple[type[Exception], ...] = (
    CryptError,
    OSError,
    EOFError,
    zlib.error,
    zstandard.ZstdError,
    RuntimeError,  # lz4.frame reports a corrupt frame as RuntimeError
)
