"""One backup's offsite copy: upload it, fetch it back, verify it, name its objects.

Every operation starts from the catalog row (:mod:`pgbackman.catalog.offsite`) and derives
the object keys from it (:mod:`pgbackman.core.offsite`); listings are used only to enumerate
a directory dump under the row's own derived prefix. The manifest is the authority:

* upload: the local manifest must match the catalog's checksum; every file it lists is
  streamed up and the SHA-256 of the bytes sent must equal the manifest's; the manifest goes
  LAST, so an offsite copy with a manifest is complete;
* fetch (restore): the manifest object must match the catalog's checksum, every file must
  match the manifest as it arrives;
* verify: the same checks, reading every object back, writing nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgbackman.core import offsite as core
from pgbackman.errors import OffsiteError
from pgbackman.infra.objectstore import Interrupt, ObjectStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Copy:
    """Where one backup's objects are: bucket, key prefix (ends with '/'), manifest name."""

    bucket: str
    key_prefix: str
    manifest_name: str

    @property
    def location(self) -> str:
        return f"{core.SCHEME}{self.bucket}/{self.key_prefix}"

    @property
    def manifest_key(self) -> str:
        return core.object_key(self.key_prefix, self.manifest_name)


def segments_of(row: dict[str, Any]) -> list[str]:
    return core.backup_segments(
        server_fqdn=str(row["server_fqdn"]),
        node_fqdn=str(row["node_fqdn"]),
        node_port=int(row["node_port"]),
        dbname=str(row["dbname"] or ""),
        def_id=row["def_id"],
        snapshot_id=row["snapshot_id"],
        finished=row["finished"],
        bck_id=int(row["bck_id"]),
    )


def _manifest_name(row: dict[str, Any]) -> str:
    value = row.get("pg_dump_manifest_file")
    if not value:
        raise OffsiteError(f"Backup {row['bck_id']} has no checksum manifest")
    return Path(str(value)).name


def planned_copy(row: dict[str, Any], url: core.OffsiteUrl) -> Copy:
    """Where the row's copy goes under ``url`` (upload)."""
    bucket, prefix = core.split_location(core.location(url, segments_of(row)))
    return Copy(bucket, prefix, _manifest_name(row))


def recorded_copy(row: dict[str, Any]) -> Copy:
    """Where the row's copy is, as recorded, refused unless its key prefix ends with the
    segments derived from the row itself (a forged or mixed-up location never leads to
    another backup's objects)."""
    value = row.get("offsite_location")
    if not value:
        raise OffsiteError(f"Backup {row['bck_id']} has no offsite location recorded")
    try:
        bucket, prefix = core.split_location(str(value))
    except ValueError as exc:
        raise OffsiteError(f"Backup {row['bck_id']}: {exc}") from None
    tail = "/".join(segments_of(row)) + "/"
    if prefix != tail and not prefix.endswith("/" + tail):
        raise OffsiteError(
            f"Backup {row['bck_id']}: recorded offsite location {value} is not derived "
            "from this backup; refused"
        )
    return Copy(bucket, prefix, _manifest_name(row))


def _check_manifest(
    row: dict[str, Any], text: bytes, where: str
) -> list[tuple[str, str]]:
    checksum = row.get("checksum")
    if not checksum:
        raise OffsiteError(f"Backup {row['bck_id']} has no manifest checksum recorded")
    if hashlib.sha256(text).hexdigest() != checksum:
        raise OffsiteError(
            f"Backup {row['bck_id']}: the {where} manifest does not match the catalog checksum"
        )
    try:
        return core.manifest_entries(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise OffsiteError(f"Backup {row['bck_id']}: {exc}") from None


# -- upload ---------------------------------------------------------------------------------
def _never() -> None:
    return None


def upload(
    store: ObjectStore,
    row: dict[str, Any],
    url: core.OffsiteUrl,
    interrupt: Interrupt = _never,
) -> Copy:
    """Upload every file of the row's backup, the manifest last. Returns where it went.
    ``interrupt`` is polled during the transfers (it raises to stop them)."""
    copy = planned_copy(row, url)
    manifest = Path(str(row["pg_dump_manifest_file"]))
    try:
        text = manifest.read_bytes()
    except OSError as exc:
        raise OffsiteError(
            f"Cannot read the local manifest {manifest}: {exc.strerror}"
        ) from None
    entries = _check_manifest(row, text, "local")
    total = 0
    for digest, rel in entries:
        total += store.upload(
            manifest.parent / rel,
            copy.bucket,
            core.object_key(copy.key_prefix, rel),
            digest,
            interrupt,
        )
    store.upload(
        manifest,
        copy.bucket,
        copy.manifest_key,
        hashlib.sha256(text).hexdigest(),
        interrupt,
    )
    log.info(
        "Backup %s uploaded to %s: %d files, %d bytes, every SHA-256 as in the manifest",
        row["bck_id"],
        copy.location,
        len(entries) + 1,
        total + len(text),
    )
    return copy


# -- fetch (restore) ------------------------------------------------------------------------
def fetch(
    store: ObjectStore, row: dict[str, Any], into: Path, interrupt: Interrupt = _never
) -> Path:
    """Download the row's copy into the empty private directory ``into`` (mirroring dump/),
    verifying the manifest against the catalog and every file against the manifest.
    Returns the local manifest path."""
    copy = recorded_copy(row)
    text = store.read_small(copy.bucket, copy.manifest_key)
    entries = _check_manifest(row, text, "offsite")
    for digest, rel in entries:
        got = store.download(
            copy.bucket, core.object_key(copy.key_prefix, rel), into / rel, interrupt
        )
        if got != digest:
            raise OffsiteError(
                f"Backup {row['bck_id']}: offsite object {rel} does not match its manifest"
            )
    path = into / copy.manifest_name
    path.write_bytes(text)
    path.chmod(0o600)
    log.info(
        "Backup %s fetched from %s: %d files verified against the manifest",
        row["bck_id"],
        copy.location,
        len(entries),
    )
    return path


# -- verify ---------------------------------------------------------------------------------
def verify(store: ObjectStore, row: dict[str, Any]) -> list[str]:
    """Problems of the row's copy (empty = every object matches), reading every object."""
    copy = recorded_copy(row)
    try:
        text = store.read_small(copy.bucket, copy.manifest_key)
    except OffsiteError as exc:
        return [f"MISSING {copy.manifest_name} ({exc})"]
    try:
        entries = _check_manifest(row, text, "offsite")
    except OffsiteError:
        return [f"MISMATCH {copy.manifest_name}"]
    problems = []
    for digest, rel in entries:
        key = core.object_key(copy.key_prefix, rel)
        try:
            if store.digest(copy.bucket, key) != digest:
                problems.append(f"MISMATCH {rel}")
        except OffsiteError:
            problems.append(f"MISSING {rel}")
    return problems


# -- retention ------------------------------------------------------------------------------
def keys_of(store: ObjectStore, row: dict[str, Any], copy: Copy) -> list[str]:
    """Every key this project wrote for the row, derived from the row: its recorded files
    by name (manifest first), and the members of its dump directory, listed under that
    directory's derived prefix. Works without the manifest object (a partial upload)."""
    names = []
    for col in ("pg_dump_manifest_file", "pg_dump_roles_file", "pg_dump_dbconfig_file"):
        if row.get(col):
            names.append(Path(str(row[col])).name)
    keys = [core.object_key(copy.key_prefix, n) for n in names]
    if row.get("pg_dump_file"):
        main = Path(str(row["pg_dump_file"])).name
        keys.append(core.object_key(copy.key_prefix, main))
        keys += store.list_keys(
            copy.bucket, core.object_key(copy.key_prefix, main) + "/"
        )
    return keys


def delete(store: ObjectStore, row: dict[str, Any]) -> int:
    """Delete the row's objects, the manifest first (a half-deleted copy never looks
    complete). Returns how many keys were asked to go."""
    copy = recorded_copy(row)
    keys = keys_of(store, row, copy)
    store.delete(copy.bucket, keys[:1])
    store.delete(copy.bucket, keys[1:])
    return len(keys)
