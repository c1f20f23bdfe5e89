"""The CLUSTER dump of a run: pg_dumpall's stdout compressed in Python with the chosen
method (archive/compress.py) and, for an encrypted definition, encrypted on the way
(archive/crypt.py), so no plaintext byte of it reaches the disk; then its read-back check.

The read-back check reads the whole file back (decrypting it with the run's ephemeral
identity when encrypted, see archive/crypt.Sealer), decompresses it (the compressed
stream's own checks: gzip CRC, zstd and lz4 content checksums) and requires pg_dumpall's
completion trailer at its end.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pgbackman.archive import compress
from pgbackman.archive.crypt import EncryptingWriter, Sealer
from pgbackman.core import argv as argvmod
from pgbackman.core.compression import Compression
from pgbackman.errors import DumpError
from pgbackman.infra import proc

if TYPE_CHECKING:
    from pgbackman.backup.runner import DumpRun

log = logging.getLogger(__name__)
CLUSTER_TRAILER, TAIL = compress.CLUSTER_TRAILER, compress.TAIL


def dump_cluster(
    run: DumpRun,
    bindir: str,
    extra: list[str],
    env: dict[str, str],
    path: Path,
    comp: Compression,
    sealer: Sealer | None,
) -> None:
    """pg_dumpall -> compressor -> (age) -> ``path``; DumpError when pg_dumpall fails."""
    argv = argvmod.pg_dumpall_argv(bindir, extra)
    offset = run.runlog.header(argv, env)
    z = compress.compressor(comp)
    out: EncryptingWriter | IO[bytes]
    if sealer is not None:
        out = sealer.writer(path)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        out = os.fdopen(fd, "wb")
    try:
        res = proc.run_streaming(
            argv,
            lambda chunk: out.write(z.compress(chunk)),
            env=proc.child_env(env),
            stderr=run.runlog.fh,
            pass_fds=run.keep_fds,
        )
        out.write(z.flush())
    except BaseException:
        if isinstance(out, EncryptingWriter):
            out.abort()
        else:
            out.close()
        raise
    if isinstance(out, EncryptingWriter) and sealer is not None:
        sealer.finish(out)
    else:
        out.close()
    run.checkpoint()
    if not res.ok:
        detail = run.runlog.tail_errors(offset)
        raise DumpError(f"{res.describe()}: {detail}" if detail else res.describe())
    log.info(
        "pg_dumpall output compressed with %s%s",
        comp,
        " and encrypted" if sealer else "",
    )


def check_cluster_file(run: DumpRun, path: Path, sealer: Sealer | None) -> None:
    """Read the whole stream back and require pg_dumpall's completion trailer."""
    raw: Any = sealer.reader(path) if sealer is not None else open(path, "rb")
    tail = b""
    try:
        try:
            method, stream = compress.open_reader(raw)
            while chunk := stream.read(1 << 20):
                tail = (tail + chunk)[-TAIL:]
                run.checkpoint()
        finally:
            raw.close()
    except compress.read_errors as exc:
        raise DumpError(f"Read-back check of {path.name} failed: {exc}") from None
    if CLUSTER_TRAILER not in tail:
        raise DumpError(
            f"Read-back check of {path.name} failed: pg_dumpall output is incomplete"
        )
    log.info(
        "Read-back check passed (%s%s stream complete, pg_dumpall trailer present)",
        "age + " if sealer is not None else "",
        method,
    )
