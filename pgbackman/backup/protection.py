"""How one run protects and packs its files: the compression it uses and, for an encrypted
definition, the age recipients every file is encrypted to; then the encryption of a
database dump and the read-back check of every encrypted file.

Decided before the node is even contacted: a definition that asks for encryption on a
backup server without ``encryption_recipients`` fails at once (one ERROR row and its
alert) and nothing is written, never a plaintext backup in its place. The compression is
checked again against the pg_dump release the run found (:func:`check_release`).

What plaintext touches the disk of an encrypted run: pg_dump -Fd writes its directory into
the run's private staging directory (0700, inside the node's dump directory); each data
file is encrypted and its plaintext removed as soon as pg_dump has closed it and it was read
back (archive/readback.py), the table of contents once ``pg_restore --list`` has read it,
all before anything is renamed into place. The roles and database-configuration files are
encrypted from memory, and a CLUSTER dump on its way from pg_dumpall: no plaintext of them
is ever written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pgbackman.archive.crypt import Sealer
from pgbackman.backup.job import JobSpec
from pgbackman.core import compression, recipients
from pgbackman.core.compression import Compression, CompressionError
from pgbackman.core.pgversion import Release
from pgbackman.errors import CryptError, DumpError

log = logging.getLogger(__name__)


@dataclass
class Protection:
    compression: Compression
    extra: list[str]  # the extra parameters without -Z/--compress
    recipients: list[str] = field(default_factory=list)  # [] = not encrypted

    @property
    def encrypted(self) -> bool:
        return bool(self.recipients)


def resolve(spec: JobSpec, extra: list[str]) -> Protection:
    """The run's compression and recipients; DumpError when they cannot work."""
    try:
        comp = compression.effective(
            spec.backup_compression, spec.node_config.get("backup_compression")
        )
        folded, rest = (None, extra)
        if spec.backup_code != "CLUSTER":
            folded, rest = compression.fold_extra(extra, spec.backup_compression)
    except CompressionError as exc:
        raise DumpError(f"Invalid backup compression: {exc}") from None
    if folded is not None:
        # A -Z typed in the extra parameters before compression was a setting of its own.
        log.warning(
            "-Z/--compress in the extra parameters used as the compression (%s)", folded
        )
        comp = folded
    prot = Protection(comp, rest)
    if spec.encryption:
        server = spec.server_fqdn
        try:
            keys = recipients.parse(spec.server_config.get("encryption_recipients"))
        except recipients.RecipientsError as exc:
            raise DumpError(
                f"{spec.label} must be encrypted but backup server {server} has unusable "
                f"encryption_recipients ({exc}): nothing was written"
            ) from None
        if not keys:
            raise DumpError(
                f"{spec.label} must be encrypted but backup server {server} has no "
                "encryption_recipients: nothing was written (never a plaintext backup "
                "instead); set them with update_backup_server_config"
            )
        prot.recipients = keys
    return prot


def check_release(prot: Protection, backup_code: str, release: Release) -> None:
    try:
        compression.check_release(prot.compression, backup_code, release)
    except CompressionError as exc:
        raise DumpError(f"Invalid backup compression: {exc}") from None


def check_sealed(sealer: Sealer) -> dict[Path, str]:
    """The read-back check of the encrypted files not checked yet, one file at a time:
    decrypted in a stream with the run's ephemeral identity, the plaintext must hash to
    what went in. Returns {file: SHA-256 of the encrypted file} of those checked now."""
    done = {}
    for path in sorted(set(sealer.digests) - set(sealer.checked)):
        try:
            done[path] = sealer.check(path)
        except CryptError as exc:
            raise DumpError(f"Read-back check failed: {exc}") from None
    log.info(
        "Read-back check passed: %d encrypted files decrypt to what was written",
        len(sealer.checked),
    )
    return done
