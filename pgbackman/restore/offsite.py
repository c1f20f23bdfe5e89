"""Restore from an offsite copy: the "fetch the files if missing" step of a restore run.

Runs before the usual verification (restore/verification.py). When the backup's
files are not on this server (removed by local retention, lost with a dead backup server, or
taken by another backup server of the fleet) and the catalog says its offsite copy is
UPLOADED, the copy is downloaded into a private staging directory (0700, under
``[pgbackman_offsite] staging_dir`` or ``<root_backup_partition>/offsite_staging``), checked
on arrival (the manifest against the catalog checksum, every file against the manifest),
and the run's file paths point there. The usual verification then checks the staged copy
once more, the restore runs from it, and :func:`discard` removes it whatever the outcome.
The verification fetches the copy the same way when the local files are there but damaged
(:func:`fetch`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path

from pgbackman.config import Config
from pgbackman.errors import OffsiteError, RestoreError
from pgbackman.infra.fsutil import ensure_dir, safe_remove
from pgbackman.offsite import copies, store_for
from pgbackman.restore.spec import RestoreSpec

log = logging.getLogger(__name__)


def files_here(spec: RestoreSpec) -> bool:
    """The backup's files are on this server: it took the backup, and its manifest and
    every file the manifest lists exist (a stat each; the checksums are checked later).
    Another server's backup is always fetched, never read from paths of that server's
    partitions, even when they exist here (the local config decides what this server
    touches)."""
    if spec.backup_server_id != spec.server_id or not spec.manifest_file:
        return False
    manifest = Path(spec.manifest_file)
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return all((manifest.parent / ln.partition("  ")[2]).is_file() for ln in lines)


def staging_root(cfg: Config, spec: RestoreSpec) -> Path:
    root = spec.root or cfg.backup_server.root_backup_partition
    return Path(cfg.offsite.staging_dir or f"{root.rstrip('/')}/offsite_staging")


def fetch_if_missing(
    cfg: Config, spec: RestoreSpec, interrupt: Callable[[], None]
) -> tuple[RestoreSpec, Path | None]:
    """The spec to restore from and the staging directory to discard afterwards (None when
    the local files are used). ``interrupt`` raises when the run must stop."""
    if files_here(spec) or spec.offsite_row is None:
        # (no copy: the usual verification reports the missing files)
        return spec, None
    return fetch(cfg, spec, interrupt)


def fetch(
    cfg: Config, spec: RestoreSpec, interrupt: Callable[[], None]
) -> tuple[RestoreSpec, Path]:
    """Fetch the backup's UPLOADED offsite copy (``spec.offsite_row``) into a private staging
    directory: the spec that points there, and the directory to discard afterwards. Also
    used when the local files are there but damaged (restore/runner.py)."""
    row = spec.offsite_row
    if row is None:  # callers check it
        raise RestoreError(f"Backup {spec.bck_id} has no offsite copy")
    base = ensure_dir(staging_root(cfg, spec), 0o700)
    staging = base / f"restore-def{spec.restore_def}-{os.getpid()}"
    if staging.exists():
        safe_remove(base, staging)
    ensure_dir(staging, 0o700)
    log.info(
        "The files of backup %s are not on this server: fetching its offsite copy %s into %s",
        spec.bck_id,
        row["offsite_location"],
        staging,
    )
    try:
        manifest = copies.fetch(
            store_for(cfg, row["offsite_endpoint"] or ""), row, staging, interrupt
        )
    except OffsiteError as exc:
        discard(cfg, spec, staging)
        raise RestoreError(f"Restore from the offsite copy failed: {exc}") from None
    except BaseException:
        discard(cfg, spec, staging)
        raise

    def here(value: str | None) -> str | None:
        return str(staging / Path(value).name) if value else None

    staged = dataclasses.replace(
        spec,
        pg_dump_file=here(spec.pg_dump_file),
        roles_file=here(spec.roles_file),
        dbconfig_file=here(spec.dbconfig_file),
        manifest_file=str(manifest),
        # What the integrity check reads: the fetched copy, checked like local files.
        backup_row={
            **spec.backup_row,
            "pg_dump_file": here(spec.pg_dump_file),
            "pg_dump_roles_file": here(spec.roles_file),
            "pg_dump_dbconfig_file": here(spec.dbconfig_file),
            "pg_dump_manifest_file": str(manifest),
        },
    )
    return staged, staging


def discard(cfg: Config, spec: RestoreSpec, staging: Path | None) -> None:
    """Remove the staged copy (never anything outside the staging root)."""
    if staging is None:
        return
    try:
        safe_remove(staging_root(cfg, spec), staging)
        log.info("Staged offsite copy %s removed", staging)
    except OSError as exc:
        log.error("Cannot remove the staged offsite copy %s: %s", staging, exc)
