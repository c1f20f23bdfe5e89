"""Reading back the files of a directory while their writer (pg_dump -Fd) is still at work.

A :class:`Readback` follows every file of one directory from a small pool of threads: a file
that grows is read as far as it has been written (:class:`~pgbackman.archive.streamcheck.
StreamCheck` hashes and decodes each chunk); a file its writer has closed (the caller learns
it from infra/dirwatch.py) is read to its end and finished at once, while the writer works
on the next one. So the read-back check and the SHA-256 of the manifest cost almost nothing
in wall time: by the time pg_dump exits, only its last files are left. zlib, hashlib and
age release the GIL, so the pool spreads over the cores.

Finishing a file (:meth:`Readback._finish`): the stream must be complete, the file's size
must equal the bytes read; for an encrypted run the plaintext is then encrypted
(:meth:`archive.crypt.Sealer.seal_file`, plaintext removed), its hash must equal the one
read back, and the encrypted file is decrypted back with the run's ephemeral identity
(:meth:`Sealer.check`); its writeback is started (infra/fsutil.start_writeback). What a
file was when it was finished (size, mtime, digest) is kept in :class:`Verified`: the
manifest is written from it, and a file that changed afterwards is refused there
(archive/files.py).

Names in ``deferred`` (pg_dump's tables of contents) are left alone: the caller reads them
with ``pg_restore --list`` and finishes them with :meth:`Readback.finish_now`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Container
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pgbackman.archive.crypt import is_encrypted_name
from pgbackman.archive.streamcheck import StreamCheck
from pgbackman.errors import CryptError, ReadBackError
from pgbackman.infra.fsutil import start_writeback

if TYPE_CHECKING:
    from pgbackman.archive.crypt import Sealer

log = logging.getLogger(__name__)
CHUNK = 1 << 20
QUIET_MAX = 5  # an open file that does not grow is read every 2**5 ticks at least


@dataclass(frozen=True)
class Verified:
    """A file as it was read back: the manifest records ``digest`` for ``name``."""

    name: str  # final name (``.age`` added for an encrypted run)
    digest: str  # SHA-256 of the final file
    size: int
    mtime_ns: int
    plain_name: str  # the name pg_dump gave it


@dataclass
class _File:
    name: str
    check: StreamCheck
    fd: int | None = None
    closed: bool = False  # its writer closed it (or exited)
    busy: bool = False  # a task of the pool owns it
    done: bool = False
    quiet: int = 0  # reads in a row that found nothing new
    skip: int = 0  # ticks to let pass before the next read
    future: Future[None] | None = field(default=None, repr=False)


def default_workers() -> int:
    """One per core, at least two (one may follow a big file while others finish)."""
    return max(2, os.cpu_count() or 2)


class Readback:
    """See module docstring. The caller's thread calls :meth:`seen`, :meth:`closed`,
    :meth:`tick`, then :meth:`writer_exited` and :meth:`wait`; :meth:`abort` on failure."""

    def __init__(
        self,
        directory: Path,
        *,
        decode: bool = True,
        sealer: Sealer | None = None,
        deferred: Container[str] = (),
        workers: int | None = None,
    ) -> None:
        self.directory = directory
        self.decode = decode
        self.sealer = sealer
        self.deferred = deferred
        self._pool = ThreadPoolExecutor(
            workers or default_workers(), thread_name_prefix="readback"
        )
        self._lock = threading.Lock()
        self._files: dict[str, _File] = {}
        self._stop = False
        self.errors: list[BaseException] = []
        self.verified: dict[str, Verified] = {}  # plain name -> what was read back

    # -- the caller's side -------------------------------------------------------------------
    def seen(self, name: str) -> None:
        """A file appeared (or may have): follow it."""
        if name in self.deferred or name in self._files:
            return
        if self.sealer is not None and is_encrypted_name(name):
            return  # written here, by _seal
        self._files[name] = _File(name, StreamCheck(name, decode=self.decode))

    def closed(self, name: str) -> None:
        """The writer closed ``name``: finish it as soon as a worker is free."""
        self.seen(name)
        f = self._files.get(name)
        if f is None:
            return
        with self._lock:
            f.closed = True
            self._submit(f)

    def tick(self) -> None:
        """Read what the open files gained since the last tick."""
        with self._lock:
            for f in self._files.values():
                if f.skip:
                    f.skip -= 1
                else:
                    self._submit(f)

    def rescan(self) -> None:
        """List the directory (events were lost, or there are none)."""
        try:
            names = sorted(os.listdir(self.directory))
        except FileNotFoundError:
            return
        for name in names:
            if os.path.isfile(self.directory / name):
                self.seen(name)

    def writer_exited(self) -> None:
        """Every file is complete now: finish those still open."""
        self.rescan()
        with self._lock:
            for f in self._files.values():
                f.closed = True
                self._submit(f)

    def failed(self) -> BaseException | None:
        return self.errors[0] if self.errors else None

    def wait(self) -> dict[str, Verified]:
        """Wait for every file; raise the first failure. Returns :attr:`verified`."""
        while True:
            with self._lock:
                pending = [
                    f.future for f in self._files.values() if f.busy and f.future
                ]
            if not pending:
                break
            for fut in pending:
                fut.result()
        self._pool.shutdown(wait=True)
        if self.errors:
            raise self.errors[0]
        missing = [f.name for f in self._files.values() if not f.done]
        if missing:
            raise ReadBackError(f"{missing[0]} was never read back")
        return self.verified

    def abort(self) -> None:
        """Stop following (a failed run); returns once no worker touches the directory."""
        self._stop = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        for f in self._files.values():
            self._close_fd(f)

    def finish_now(self, name: str) -> Verified:
        """Read back and finish one file in the caller's thread (a deferred table of
        contents, after the caller read it)."""
        f = _File(name, StreamCheck(name, decode=self.decode), closed=True, busy=True)
        self._files[name] = f
        self._drain(f)
        self._finish(f)
        return self.verified[name]

    # -- the pool's side -------------------------------------------------------------------
    def _submit(self, f: _File) -> None:
        """(lock held) Give ``f`` to the pool unless a task already owns it."""
        if f.busy or f.done or self._stop:
            return
        f.busy = True
        f.future = self._pool.submit(self._work, f)

    def _work(self, f: _File) -> None:
        try:
            if self._stop:
                return
            got = self._drain(f)
            with self._lock:
                if not f.closed:
                    # More may come: the next tick or the close resumes. A file that did
                    # not grow is looked at less often (many open files without events).
                    f.quiet = 0 if got else min(f.quiet + 1, QUIET_MAX)
                    f.skip = (1 << f.quiet) - 1
                    f.busy = False
                    return
            self._drain(f)  # everything written before the close
            self._finish(f)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self._close_fd(f)
            if not self._stop:
                self.errors.append(
                    ReadBackError(f"{f.name}: {exc.strerror or exc}")
                    if isinstance(exc, OSError)
                    else exc
                )
                self._stop = True
        finally:
            with self._lock:
                if f.done or self._stop:
                    f.busy = False

    def _drain(self, f: _File) -> int:
        """Read what is there; returns how many bytes."""
        if f.fd is None:
            f.fd = os.open(self.directory / f.name, os.O_RDONLY | os.O_CLOEXEC)
        got = 0
        while not self._stop:
            data = os.read(f.fd, CHUNK)
            if not data:
                break
            got += len(data)
            f.check.feed(data)
        return got

    def _finish(self, f: _File) -> None:
        assert f.fd is not None  # noqa: S101 - _drain opened it
        st = os.fstat(f.fd)
        if st.st_size != f.check.size:
            raise ReadBackError(
                f"{f.name}: {st.st_size} bytes on disk, {f.check.size} read back"
            )
        digest = f.check.finish()
        if self.sealer is None:
            start_writeback(f.fd)
            result = Verified(f.name, digest, st.st_size, st.st_mtime_ns, f.name)
        else:
            result = self._seal(f, digest)
        self._close_fd(f)
        with self._lock:
            self.verified[f.name] = result
            f.done = True

    def _seal(self, f: _File, plain_digest: str) -> Verified:
        """Encrypt the file that was just read back and check the encrypted one."""
        assert self.sealer is not None  # noqa: S101 - only called for encrypted runs
        stop: Callable[[], bool] = lambda: self._stop
        try:
            sealed = self.sealer.seal_file(
                self.directory / f.name, durable=False, stop=stop
            )
            if self.sealer.digests.get(sealed) != plain_digest:
                raise ReadBackError(f"{f.name} changed while it was being encrypted")
            digest = self.sealer.check(sealed)
        except CryptError as exc:
            raise ReadBackError(str(exc)) from None
        st = os.stat(sealed)
        return Verified(sealed.name, digest, st.st_size, st.st_mtime_ns, f.name)

    def _close_fd(self, f: _File) -> None:
        fd, f.fd = f.fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
