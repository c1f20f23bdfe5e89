"""Encryption at rest of backup files with age (the pyrage library: the reference format,
X25519 recipients, streamed with flat memory).

Writing (pgbackman_dump). A :class:`Sealer` encrypts every file of one run to the backup
server's ``encryption_recipients`` **plus one ephemeral X25519 recipient** generated for the
run. The ephemeral identity lives only in the run's memory (never on disk, never logged) and
is dropped with the Sealer: it lets the run prove, before the backup is recorded SUCCEEDED,
that every encrypted file decrypts in a stream to exactly the bytes that went in
(:meth:`Sealer.check`), while the backup server still holds no key that can decrypt a stored
backup. Files get the suffix ``.age``; a plaintext file is removed as soon as its encrypted
copy is complete.

Reading (pgbackman_restore): :func:`load_identities` reads the age identity file named in
the restoring server's own configuration; :func:`decrypt_file` decrypts a file into a
private directory; :class:`DecryptingReader` streams one (CLUSTER dumps go into psql without
a plaintext copy on disk); :func:`probe` proves an identity opens a file before anything is
changed. age authenticates every 64 KiB chunk and the end of the stream: a tampered or
truncated file fails, never decrypts to something else.

Streaming between a push side and a pull side uses a helper thread and an OS pipe (the
library reads from a reader and writes to a writer): memory stays bounded by the pipe.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import pyrage
from pyrage import x25519

from pgbackman.errors import CryptError
from pgbackman.infra.fsutil import start_writeback

# What the library raises for a file it cannot encrypt or decrypt (a damaged file, a wrong
# identity, an I/O error of the reader or writer).
AGE_ERRORS: tuple[type[Exception], ...] = (
    pyrage.EncryptError,
    pyrage.DecryptError,
    OSError,
    ValueError,
)
SUFFIX = ".age"
FILE_MODE = 0o600
CHUNK = 1 << 16
IDENTITY_PREFIX = "AGE-SECRET-KEY-1"


def _create(path: Path) -> IO[bytes]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    return os.fdopen(fd, "wb")


class _HashingReader:
    """A reader that hashes what the library pulls through it; ``stop()`` true makes the
    next read fail (a run that is stopping does not wait for a whole file)."""

    def __init__(self, raw: IO[bytes], stop: Callable[[], bool] | None = None) -> None:
        self._raw = raw
        self._stop = stop
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        if self._stop is not None and self._stop():
            raise CryptError("stopped")
        data = self._raw.read(n if n and n > 0 else CHUNK)
        self.sha.update(data)
        self.size += len(data)
        return data


class _HashingSink:
    """A writer that only hashes (the read-back check keeps no plaintext)."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


class _Worker(threading.Thread):
    """Runs one library call; its error is kept for the caller (re-raised on join)."""

    def __init__(self, target: Any, *args: Any) -> None:
        super().__init__(daemon=True)
        self._call = (target, args)
        self.error: BaseException | None = None

    def run(self) -> None:
        target, args = self._call
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self.error = exc


class EncryptingWriter:
    """A file written through age: ``write(bytes)`` chunks, then :meth:`close` (complete,
    fsynced) or :meth:`abort` (removed). Memory is bounded by the pipe to the worker."""

    def __init__(self, path: Path, recipients: Sequence[Any]) -> None:
        self.path = path
        self.sha = hashlib.sha256()
        self.size = 0
        self._out = _create(path)
        r, w = os.pipe()
        self._pipe_r = os.fdopen(r, "rb")
        self._pipe_w = os.fdopen(w, "wb", buffering=0)
        self._worker = _Worker(
            pyrage.encrypt_io, self._pipe_r, self._out, list(recipients)
        )
        self._worker.start()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            try:
                n = self._pipe_w.write(view)
            except BrokenPipeError:
                self._worker.join()
                raise CryptError(
                    f"Encrypting {self.path.name} failed: {self._worker.error}"
                ) from None
            view = view[n or 0 :]
        return len(data)

    def close(self) -> str:
        """Finish the file; returns the SHA-256 of the plaintext written."""
        self._pipe_w.close()
        self._worker.join()
        self._pipe_r.close()
        if self._worker.error is not None:
            self._out.close()
            raise CryptError(
                f"Encrypting {self.path.name} failed: {self._worker.error}"
            )
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        return self.sha.hexdigest()

    def abort(self) -> None:
        for fh in (self._pipe_w, self._pipe_r):
            try:
                fh.close()
            except OSError:
                pass
        self._worker.join()
        self._out.close()
        self.path.unlink(missing_ok=True)


class Sealer:
    """Encrypts the files of one dump run and checks them (see module docstring)."""

    def __init__(self, recipients: Sequence[str]) -> None:
        if not recipients:
            raise CryptError("no encryption recipients")
        self.recipients = list(recipients)
        self._ephemeral: Any = x25519.Identity.generate()
        self._to = [x25519.Recipient.from_str(k) for k in self.recipients]
        self._to.append(self._ephemeral.to_public())
        self.digests: dict[Path, str] = {}  # encrypted file -> SHA-256 of its plaintext
        self.checked: dict[Path, str] = {}  # read back: encrypted file -> its SHA-256

    def writer(self, path: Path) -> EncryptingWriter:
        """A new encrypted file ``path`` written chunk by chunk (record it with
        :meth:`finish`)."""
        return EncryptingWriter(path, self._to)

    def finish(self, writer: EncryptingWriter) -> None:
        self.digests[writer.path] = writer.close()

    def seal_bytes(self, data: bytes, path: Path) -> Path:
        """Encrypt ``data`` (rendered in memory) into ``path``: no plaintext on disk."""
        w = self.writer(path)
        try:
            for i in range(0, len(data), CHUNK):
                w.write(data[i : i + CHUNK])
        except BaseException:
            w.abort()
            raise
        self.finish(w)
        return path

    def seal_file(
        self,
        src: Path,
        *,
        durable: bool = True,
        stop: Callable[[], bool] | None = None,
    ) -> Path:
        """Encrypt ``src`` into ``src.age``, then remove ``src``; returns the new path.

        ``durable=False``: the new file's writeback is only started (the caller fsyncs
        many files at once, infra/fsutil.fsync_many)."""
        dst = src.with_name(src.name + SUFFIX)
        with open(src, "rb") as fh, _create(dst) as out:
            reader = _HashingReader(fh, stop)
            try:
                pyrage.encrypt_io(reader, out, self._to)
                out.flush()
                if durable:
                    os.fsync(out.fileno())
                else:
                    start_writeback(out.fileno())
            except (pyrage.EncryptError, OSError, ValueError, CryptError) as exc:
                dst.unlink(missing_ok=True)
                raise CryptError(f"Encrypting {src.name} failed: {exc}") from None
        self.digests[dst] = reader.sha.hexdigest()
        src.unlink()
        return dst

    def seal_tree(self, path: Path) -> list[Path]:
        """Encrypt every regular file under ``path`` (a file or a pg_dump -Fd directory)."""
        if not path.is_dir():
            return [self.seal_file(path)]
        out = []
        for dirpath, _dirs, files in os.walk(path):
            for name in sorted(files):
                out.append(self.seal_file(Path(dirpath) / name))
        return out

    def check(self, path: Path) -> str:
        """The read-back check of one encrypted file: decrypt it in a stream with the run's
        ephemeral identity; the plaintext must hash to what was encrypted. Returns the
        SHA-256 of the encrypted file as read (the manifest's value)."""
        expected = self.digests.get(path)
        if expected is None:
            raise CryptError(f"{path.name} was not encrypted by this run")
        if self._ephemeral is None:
            raise CryptError("the run's read-back identity was already dropped")
        sink = _HashingSink()
        try:
            with open(path, "rb") as fh:
                raw = _HashingReader(fh)
                pyrage.decrypt_io(raw, sink, [self._ephemeral])
                while raw.read(CHUNK):
                    pass  # bytes after the age stream would make the hash differ
        except AGE_ERRORS as exc:
            raise CryptError(f"Decrypting {path.name} back failed: {exc}") from None
        if sink.sha.hexdigest() != expected:
            raise CryptError(
                f"{path.name} does not decrypt to the data that was encrypted"
            )
        self.checked[path] = raw.sha.hexdigest()
        return self.checked[path]

    def reader(self, path: Path) -> DecryptingReader:
        """A stream of the plaintext of ``path`` (for checks that must read the content)."""
        if self._ephemeral is None:
            raise CryptError("the run's read-back identity was already dropped")
        return DecryptingReader(path, [self._ephemeral], self.digests.get(path))

    def forget(self) -> None:
        """Drop the ephemeral identity: from now on nothing here can decrypt the files."""
        self._ephemeral = None


class DecryptingReader:
    """The plaintext of an encrypted file as a stream (``read(n)``), decrypted by a worker
    thread; :meth:`close` reports a failure of age (wrong identity, tampering, truncation)
    and, when given, a plaintext that does not hash to ``expect``."""

    def __init__(
        self, path: Path, identities: Sequence[Any], expect: str | None = None
    ) -> None:
        self.path = path
        self._expect = expect
        self._sha = hashlib.sha256()
        self._eof = False
        self._reported = False
        self._src = open(path, "rb")
        r, w = os.pipe()
        self._pipe_r = os.fdopen(r, "rb", buffering=0)
        self._pipe_w = os.fdopen(w, "wb", buffering=0)
        self._worker = _Worker(self._decrypt, list(identities))
        self._worker.start()

    def _decrypt(self, identities: list[Any]) -> None:
        try:
            pyrage.decrypt_io(self._src, self._pipe_w, identities)
        finally:
            self._pipe_w.close()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while chunk := self.read(CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        data = self._pipe_r.read(n) or b""
        if not data:
            self._eof = True
            self._worker.join()
            if self._worker.error is not None:
                self._reported = True
                raise describe_failure(self.path, self._worker.error)
        self._sha.update(data)
        return data

    def close(self) -> None:
        """Stop reading; raises CryptError when decryption failed or the content differs."""
        complete = self._eof
        self._pipe_r.close()  # a worker still writing gets EPIPE and ends
        self._worker.join()
        self._src.close()
        if complete and self._worker.error is not None and not self._reported:
            raise describe_failure(self.path, self._worker.error)
        if complete and self._expect and self._sha.hexdigest() != self._expect:
            raise CryptError(
                f"{self.path.name} does not decrypt to the data that was encrypted"
            )

    def __enter__(self) -> DecryptingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            try:
                self.close()
            except CryptError:
                pass  # the error already on its way says more


def describe_failure(path: Path, exc: BaseException) -> CryptError:
    """One line for a failed decryption: no matching identity, or a damaged file."""
    text = str(exc) or type(exc).__name__
    if "No matching keys" in text:
        return CryptError(
            f"{path.name} cannot be decrypted with this identity file: it is not one of "
            "the recipients the backup was encrypted to"
        )
    if isinstance(exc, CryptError):
        return exc
    return CryptError(
        f"{path.name} failed age's authentication ({text}): the file is damaged or was "
        "tampered with"
    )


def load_identities(path: str) -> list[Any]:
    """The age identities (``AGE-SECRET-KEY-1...`` lines) of an identity file; the file must
    be readable by its owner only, like an ssh private key."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise CryptError(f"identity file {path} is not a regular file")
        if st.st_mode & 0o077:
            raise CryptError(
                f"identity file {path} is accessible by group or others (mode "
                f"{stat.S_IMODE(st.st_mode):04o}): make it 0600"
            )
        with open(path, encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise CryptError(
            f"identity file {path} cannot be read: {exc.strerror or exc}"
        ) from None
    identities = []
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            identities.append(x25519.Identity.from_str(text))
        except pyrage.IdentityError:
            raise CryptError(
                f"identity file {path} line {n} is not an age X25519 identity "
                f"({IDENTITY_PREFIX}...)"
            ) from None
    if not identities:
        raise CryptError(f"identity file {path} holds no age identity")
    return identities


class _Enough(Exception):
    pass


class _ProbeSink:
    def write(self, data: bytes) -> int:
        raise _Enough()

    def flush(self) -> None:
        pass


def probe(path: Path, identities: Sequence[Any]) -> None:
    """Prove the identities open ``path`` (its header and first chunk authenticate)."""
    try:
        with open(path, "rb") as fh:
            pyrage.decrypt_io(fh, _ProbeSink(), list(identities))
    except _Enough:
        return
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise CryptError(f"{path} is missing") from None
        raise describe_failure(path, exc) from None
    except AGE_ERRORS as exc:
        raise describe_failure(path, exc) from None


def decrypt_file(src: Path, dst: Path, identities: Sequence[Any]) -> None:
    """Decrypt ``src`` into a new file ``dst`` (0600); removed again on failure."""
    try:
        with open(src, "rb") as fh, _create(dst) as out:
            pyrage.decrypt_io(fh, out, list(identities))
    except AGE_ERRORS as exc:
        dst.unlink(missing_ok=True)
        raise describe_failure(src, exc) from None


def is_encrypted_name(name: str) -> bool:
    return name.endswith(SUFFIX)
