"""A pg_dump -Fd run with its read-back check done while it dumps (FULL, SCHEMA, DATA, RDS).

pg_dump writes its directory file by file: ``toc.dat`` first (the table of contents of a
directory archive holds no data offsets, so it is complete before any data), then one file
per table (and large object). While it runs, this module (the run's main thread):

1. starts it with ``--no-sync`` (pg_dump >= 10): the run makes the files durable itself,
   from several threads at once at the end (infra/fsutil.fsync_many), instead of pg_dump's
   fsync of one file after the other;
2. does the work that does not need the archive (``meanwhile``: the database size, the
   roles and database configuration files);
3. learns from infra/dirwatch.py which files appear and which ones pg_dump has closed, and
   hands them to archive/readback.py: every data file is decompressed to its end and hashed
   as it is written, each closed one is finished (and, for an encrypted definition,
   encrypted and decrypted back) while pg_dump writes the next;
4. runs ``pg_restore --list`` as soon as toc.dat is closed: that reads the whole table of
   contents back, and the listing serves the data check (backup/datacheck.py).

Once pg_dump has exited (status 0), what remains is checked: the last files, then every data
file the table of contents names must be among the files read back (core/toc.py). The
tables of contents are hashed as they are closed, like the data files; in an encrypted run
they must stay in clear until pg_restore --list and the large-object check have read them,
so they are hashed and encrypted only then. The result
is what ``pg_restore -f /dev/null`` proved before (every file it would open reads back
whole), without a second pass over the archive after the dump.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pgbackman.archive.readback import Readback, Verified
from pgbackman.core import argv as argvmod
from pgbackman.core import toc
from pgbackman.errors import DumpError, ReadBackError
from pgbackman.infra import dirwatch, proc
from pgbackman.infra.fsutil import ensure_dir

if TYPE_CHECKING:
    from pgbackman.archive.crypt import Sealer
    from pgbackman.backup.runner import DumpRun

log = logging.getLogger(__name__)
TICK = 0.05  # seconds between reads of growing files
TICK_NO_PIDFD = (
    0.01  # without a pidfd, the exit of pg_dump is noticed this late at most
)


@dataclass
class DirDump:
    listing: str  # pg_restore --list of the archive
    verified: dict[str, Verified]  # final file name in the directory -> as read back


class _TocNames:
    """The names archive/readback.py leaves for later (see core/toc.is_toc_name)."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and toc.is_toc_name(name)


class _Listing:
    """``pg_restore --list`` of the archive, started without waiting for it."""

    def __init__(
        self, run: DumpRun, bindir: str, archive: Path, stack: ExitStack
    ) -> None:
        self.run = run
        self.argv = argvmod.pg_restore_list_argv(bindir, str(archive))
        self.out: IO[bytes] = stack.enter_context(tempfile.TemporaryFile())
        self.offset = run.runlog.header(self.argv)
        self.child = stack.enter_context(
            proc.started(
                self.argv,
                stdout=self.out,
                stderr=run.runlog.fh,
                pass_fds=run.keep_fds,
            )
        )

    def result(self) -> str:
        res = self.child.wait()
        self.run.checkpoint()
        if not res.ok:
            raise DumpError(
                "Reading the archive's table of contents back failed: "
                + self.run.failure(res, self.offset)
            )
        self.out.seek(0)
        return self.out.read().decode("utf-8", errors="replace")


def dump_directory(
    run: DumpRun,
    bindir: str,
    argv: list[str],
    env: dict[str, str],
    out: Path,
    *,
    decode: bool,
    sealer: Sealer | None,
    meanwhile: Callable[[], None] | None = None,
) -> DirDump:
    """Run pg_dump ``argv`` into the new directory ``out`` and read every file back (see
    module docstring); DumpError / ReadBackError when the archive is not complete."""
    ensure_dir(
        out, 0o700
    )  # pg_dump -Fd accepts an empty directory: watched from the start
    watch = dirwatch.watch_directory(out)
    # An encrypted run keeps the tables of contents in clear until they are read (the
    # listing, the large-object lists): they are finished after pg_dump exits. Otherwise
    # they are read back as they are closed, like the data files.
    rb = Readback(
        out, decode=decode, sealer=sealer, deferred=_TocNames() if sealer else ()
    )
    started = time.monotonic()
    try:
        with ExitStack() as stack:
            listing = _follow(run, bindir, argv, env, out, rb, watch, stack, meanwhile)
            rb.writer_exited()
            if listing is None:
                listing = _Listing(run, bindir, out, stack)
            text = listing.result()
        tail = time.monotonic()
        verified = rb.wait()
        _require_data_files(out, text, verified)
        for name in sorted(n for n in _names(out) if toc.is_toc_name(n)):
            if name not in rb.verified:
                rb.finish_now(name)
    except ReadBackError as exc:
        rb.abort()
        raise ReadBackError(f"Read-back check failed: {exc}") from None
    except BaseException:
        rb.abort()
        raise
    finally:
        watch.close()
    log.info(
        "Read-back check passed: %d files decompressed and hashed while pg_dump ran "
        "(%.2f s after it exited), table of contents read back (pg_restore --list)",
        len(rb.verified),
        time.monotonic() - tail,
    )
    log.debug("pg_dump and read-back took %.2f s", time.monotonic() - started)
    return DirDump(text, {v.name: v for v in rb.verified.values()})


def _follow(
    run: DumpRun,
    bindir: str,
    argv: list[str],
    env: dict[str, str],
    out: Path,
    rb: Readback,
    watch: dirwatch.Watch,
    stack: ExitStack,
    meanwhile: Callable[[], None] | None,
) -> _Listing | None:
    """Run pg_dump and follow its files until it exits; returns the listing if started."""
    log.info("Running %s", argv[0])
    offset = run.runlog.header(argv, env)
    listing: _Listing | None = None
    with proc.started(
        argv,
        env=proc.child_env(env),
        stdout=run.runlog.fh,
        stderr=run.runlog.fh,
        pass_fds=run.keep_fds,
    ) as child:
        if meanwhile is not None:
            meanwhile()
        tick = TICK if child.pidfd is not None else TICK_NO_PIDFD
        next_tick = 0.0
        while True:
            dirwatch.wait_readable([watch.fileno(), child.pidfd], tick)
            for kind, name in watch.read():
                if kind == dirwatch.CLOSED:
                    rb.closed(name)
                    if name == toc.TOC_FILE and listing is None:
                        listing = _Listing(run, bindir, out, stack)
                elif kind == dirwatch.CREATED:
                    rb.seen(name)
                else:
                    rb.rescan()
            if child.poll() is not None:
                break
            now = time.monotonic()
            if now >= next_tick:
                rb.tick()
                next_tick = now + tick
            run.checkpoint()
            failure = rb.failed()
            if failure is not None:
                raise failure  # pg_dump is stopped on the way out
        res = child.wait()
    run.checkpoint()
    if not res.ok:
        raise DumpError(run.failure(res, offset))
    return listing


def _names(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_file())


def _require_data_files(out: Path, listing: str, verified: dict[str, Verified]) -> None:
    """Every data file the table of contents names was read back (pg_restore opens each)
    and is still there as it was read, and nothing else is there."""
    on_disk = {e.name: e.stat() for e in os.scandir(out) if e.is_file()}
    # A name written again after it was read back is not followed a second time; in an
    # encrypted run its first file is gone (sealed), so only this finds the new one, which
    # would otherwise enter the manifest unread and in clear.
    final = {v.name for v in verified.values()}
    for name in sorted(on_disk):
        if name not in final and not toc.is_toc_name(name):
            raise ReadBackError(f"{name} appeared after it was read back")
    for v in verified.values():
        st = on_disk.get(v.name)
        if st is None:
            raise ReadBackError(f"{v.plain_name} was read back but is no longer there")
        if (st.st_size, st.st_mtime_ns) != (v.size, v.mtime_ns):
            raise ReadBackError(f"{v.plain_name} changed after it was read back")
    # The large-object lists are read here in clear: in an encrypted run they were left
    # out of the read-back until now (deferred), so they are not in ``verified``.
    names = set(verified) | {n for n in on_disk if toc.is_toc_name(n)}
    missing = toc.missing_files(
        listing,
        names,
        lambda n: (out / n).read_text(encoding="utf-8", errors="replace"),
    )
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""
        )
        raise ReadBackError(
            f"the archive lacks {len(missing)} data file(s) its "
            f"table of contents names: {shown}"
        )
