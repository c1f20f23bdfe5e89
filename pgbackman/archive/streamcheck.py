"""The read-back check of one file of a dump, fed with its bytes as they are read.

A :class:`StreamCheck` takes the raw bytes of a file in order (:meth:`StreamCheck.feed`),
hashes them (SHA-256, the value the manifest records) and decodes them with the file's
compression method, throwing the output away; :meth:`StreamCheck.finish` then says whether
the file was complete. It is push-based so that a file can be checked while pg_dump is still
writing it (archive/readback.py follows a growing file), and it keeps no more than one
decoded chunk in memory however well the data compresses.

What "reads back" means per method (the name's suffix, as pg_dump -Fd writes them):

* ``.gz``: one or more complete gzip members (deflate stream, CRC-32 and length of each
  member checked by zlib), nothing after the last one; an empty file is not a gzip file;
* ``.lz4``: complete LZ4 frames (their content checksums when present);
* ``.zst``: complete zstd frames (their content checksums when present);
* anything else: plain data, every byte readable.

This is what ``pg_restore -f /dev/null`` does with a data file (open, decompress to the end);
the table of contents is read back by ``pg_restore --list`` (backup/dirdump.py).
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any, Protocol

from pgbackman.errors import ReadBackError

SUFFIX_METHOD = {".gz": "gzip", ".lz4": "lz4", ".zst": "zstd"}
GZIP_MAGIC = b"\x1f\x8b"
OUT_CHUNK = 1 << 20  # decoded bytes produced per call (the memory bound)
ZSTD_SLICE = 1 << 14  # zstd has no output bound per call: feed it small slices


def method_for(name: str) -> str:
    """The compression method of a pg_dump -Fd file from its name (``none`` if plain)."""
    for suffix, method in SUFFIX_METHOD.items():
        if name.endswith(suffix):
            return method
    return "none"


class _Decoder(Protocol):
    errors: tuple[type[Exception], ...]  # what the library raises for a corrupt stream

    def feed(self, data: bytes) -> None: ...

    def finish(self) -> str | None:
        """None when the stream is complete, else what is wrong with it."""


class _Plain:
    errors: tuple[type[Exception], ...] = ()

    def feed(self, data: bytes) -> None:
        pass

    def finish(self) -> str | None:
        return None


class _Members:
    """Shared by the three compressed formats: a sequence of complete members/frames.

    ``new()`` returns a fresh decompressor of one member; ``magic`` starts every member."""

    magic = b""
    errors: tuple[type[Exception], ...] = (ValueError, EOFError)

    def __init__(self) -> None:
        self._d: Any = None
        self._pending = b""  # bytes after a member, fewer than the magic's length
        self.members = 0

    def new(self) -> Any:
        raise NotImplementedError

    def step(self, data: bytes) -> bytes:
        """Decode ``data`` completely (output discarded); return what follows the member
        when it ended within ``data``."""
        raise NotImplementedError

    def feed(self, data: bytes) -> None:
        while data:
            if self._d is None:
                data = self._pending + data
                if len(data) < len(self.magic):
                    self._pending = data
                    return
                self._pending = b""
                if not data.startswith(self.magic):
                    raise ReadBackError("unexpected data after the end of the stream")
                self._d = self.new()
            rest = self.step(data)
            if self._d.eof:
                self.members += 1
                self._d = None
            data = rest

    def finish(self) -> str | None:
        if self._pending:
            return "unexpected data after the end of the stream"
        if self._d is not None:
            return "the compressed stream is truncated (it ends before its end marker)"
        if self.members == 0:
            return "empty file: no compressed stream at all"
        return None


class _Gzip(_Members):
    magic = GZIP_MAGIC
    errors = (zlib.error, ValueError, EOFError)

    def new(self) -> Any:
        return zlib.decompressobj(31)

    def step(self, data: bytes) -> bytes:
        d = self._d
        while data and not d.eof:
            d.decompress(data, OUT_CHUNK)
            data = d.unconsumed_tail
        while not d.eof and d.decompress(b"", OUT_CHUNK):
            pass  # output still buffered inside zlib for this input
        return bytes(d.unused_data) if d.eof else b""


class _Lz4(_Members):
    magic = b"\x04\x22\x4d\x18"
    # lz4.frame reports a corrupt frame as RuntimeError
    errors = (RuntimeError, ValueError, EOFError)

    def new(self) -> Any:
        import lz4.frame  # imported by the runs that meet the method only

        return lz4.frame.LZ4FrameDecompressor()

    def step(self, data: bytes) -> bytes:
        d = self._d
        d.decompress(data, max_length=OUT_CHUNK)
        while not d.eof and not d.needs_input:
            d.decompress(b"", max_length=OUT_CHUNK)
        return bytes(d.unused_data or b"") if d.eof else b""


class _Zstd(_Members):
    magic = b"\x28\xb5\x2f\xfd"

    def new(self) -> Any:
        import zstandard  # imported by the runs that meet the method only

        self.errors = (zstandard.ZstdError, ValueError, EOFError)
        return zstandard.ZstdDecompressor().decompressobj()

    def step(self, data: bytes) -> bytes:
        d = self._d
        view = memoryview(data)
        for i in range(0, len(view), ZSTD_SLICE):
            d.decompress(view[i : i + ZSTD_SLICE].tobytes())
            if d.eof:
                return bytes(d.unused_data) + view[i + ZSTD_SLICE :].tobytes()
        return b""


_DECODERS: dict[str, type[_Members]] = {"gzip": _Gzip, "lz4": _Lz4, "zstd": _Zstd}


class StreamCheck:
    """SHA-256 and read-back check of one file fed in order (see module docstring).

    ``decode=False`` only hashes (``[pgbackman_dump] read_back_check = false``)."""

    def __init__(self, name: str, *, decode: bool = True) -> None:
        self.name = name
        self.method = method_for(name)
        self._sha = hashlib.sha256()
        self.size = 0
        self._dec: _Decoder = (
            _DECODERS[self.method]()
            if decode and self.method in _DECODERS
            else _Plain()
        )
        self.failed: str | None = None

    def feed(self, data: bytes) -> None:
        self._sha.update(data)
        self.size += len(data)
        if self.failed is not None:
            return
        try:
            self._dec.feed(data)
        except ReadBackError as exc:
            self.failed = str(exc)
        except self._dec.errors as exc:
            self.failed = f"{self.method} stream is corrupt ({exc})"

    def finish(self) -> str:
        """The SHA-256 of every byte fed; ReadBackError when the file does not read back."""
        problem = self.failed or self._dec.finish()
        if problem:
            raise ReadBackError(f"{self.name}: {problem}")
        return self._sha.hexdigest()

    @property
    def hexdigest(self) -> str:
        return self._sha.hexdigest()
