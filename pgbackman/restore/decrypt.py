"""Restoring an encrypted backup: the identity, its proof, and the decrypted copy.

Before the target node is even contacted (after the checksums of the files on disk were
verified against the manifest), an encrypted backup needs this server's own
``[pgbackman_restore] identity_file`` (an age identity, mode 0600, named in the local,
root-owned configuration file, never in the catalog): without it, when it is unreadable,
or when it is not one of the backup's recipients, the restore is refused and nothing is
changed.

A CLUSTER dump is then decrypted in a stream straight into psql (restore/cluster.py): no
plaintext copy. A database dump (pg_dump -Fd directory, read at random by pg_restore, also
in parallel) is decrypted first into a private directory ``.decrypted-restoredef<N>-<pid>``
(0700) of the target node's partition, together with its roles and database-configuration
files; every file is authenticated by age while it is decrypted, so a damaged or tampered
file stops the restore before the target is touched. The copy is removed when the run ends,
whatever its result; one left by a killed run is removed by the next restore on that node
or by pgbackman_maintenance (task stale-partials).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgbackman.archive import crypt
from pgbackman.core import naming
from pgbackman.errors import CryptError, RestoreError
from pgbackman.infra import proc
from pgbackman.infra.fsutil import ensure_dir, safe_remove

if TYPE_CHECKING:
    from pgbackman.restore.runner import RestoreRun

log = logging.getLogger(__name__)


def identities(run: RestoreRun) -> list[Any]:
    """The identities of this server's identity file; RestoreError when there is none."""
    s = run.spec
    path = run.cfg.restore.identity_file
    where = run.cfg.path or "the configuration file"
    if not path:
        raise RestoreError(
            f"Backup {s.bck_id} is encrypted (age) and {where} names no "
            "[pgbackman_restore] identity_file: restore refused, nothing was changed"
        )
    try:
        return crypt.load_identities(path)
    except CryptError as exc:
        raise RestoreError(
            f"Backup {s.bck_id} is encrypted and its identity is unusable: {exc}; "
            "restore refused, nothing was changed"
        ) from None


def prepare(run: RestoreRun) -> None:
    """Prove the identity and, for a database dump, decrypt the backup into a private
    directory whose files replace the encrypted ones in ``run.spec``."""
    s = run.spec
    ids = identities(run)
    main = Path(str(s.pg_dump_file))
    first = _first_file(main)
    try:
        crypt.probe(first, ids)
    except CryptError as exc:
        keys = ", ".join(s.encryption_recipients) or "unknown"
        raise RestoreError(
            f"Backup {s.bck_id}: {exc} (recipients: {keys}); restore refused, nothing "
            "was changed"
        ) from None
    log.info(
        "Identity file %s opens backup %s", run.cfg.restore.identity_file, s.bck_id
    )
    run.identities = ids
    if s.backup_code == "CLUSTER":
        return  # decrypted in a stream into psql
    sweep(s.partition)
    plain = ensure_dir(
        s.partition / naming.decrypted_dir_name(s.restore_def, os.getpid()), 0o700
    )
    run.plain_dir = plain
    try:
        s.pg_dump_file = str(_decrypt_tree(main, plain, ids))
        if s.roles_file:
            s.roles_file = str(_decrypt_one(Path(s.roles_file), plain, ids))
        if s.dbconfig_file:
            s.dbconfig_file = str(_decrypt_one(Path(s.dbconfig_file), plain, ids))
    except CryptError as exc:
        raise RestoreError(f"{exc}; restore refused, nothing was changed") from None
    log.info("Backup %s decrypted into the private directory %s", s.bck_id, plain)


def _first_file(path: Path) -> Path:
    if not path.is_dir():
        return path
    for dirpath, _dirs, files in os.walk(path):
        for name in sorted(files):
            return Path(dirpath) / name
    raise RestoreError(f"The dump directory {path} is empty")


def _plain_name(name: str) -> str:
    if not crypt.is_encrypted_name(name):
        raise CryptError(
            f"{name} is not an encrypted file (.age) of an encrypted backup"
        )
    return name[: -len(crypt.SUFFIX)]


def _decrypt_one(src: Path, into: Path, ids: list[Any]) -> Path:
    dst = into / _plain_name(src.name)
    crypt.decrypt_file(src, dst, ids)
    return dst


def _decrypt_tree(src: Path, into: Path, ids: list[Any]) -> Path:
    if not src.is_dir():
        return _decrypt_one(src, into, ids)
    top = ensure_dir(into / src.name, 0o700)
    for dirpath, _dirs, files in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        target = ensure_dir(top / rel, 0o700)
        for name in sorted(files):
            _decrypt_one(Path(dirpath) / name, target, ids)
    return top


def remove(run: RestoreRun) -> None:
    """Remove the decrypted copy (at the end of every run)."""
    plain = run.plain_dir
    if plain is None:
        return
    try:
        safe_remove(run.spec.partition, plain)
        log.info("Decrypted copy %s removed", plain)
    except OSError as exc:
        log.error("Cannot remove the decrypted copy %s: %s", plain, exc)
    run.plain_dir = None


def sweep(partition: Path) -> None:
    """Remove decrypted copies left by killed restores on this node partition (maintenance's
    stale-partials task removes them too, when no restore comes to this node again)."""
    try:
        found = [(p, naming.parse_decrypted_name(p.name)) for p in partition.iterdir()]
    except OSError:
        return
    for path, name in found:
        if name is None:
            continue
        if proc.pid_alive(name.pid) or proc.processes_using(path):
            continue
        try:
            safe_remove(partition, path)
            log.warning(
                "Removed the decrypted copy %s left by a restore that was killed", path
            )
        except OSError as exc:
            log.error("Cannot remove the stale decrypted copy %s: %s", path, exc)
