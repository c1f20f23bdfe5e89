"""Resolve what one pgbackman_restore run must do, from the catalog only.

A restore needs the catalog at its start (the definition, the backup row, the target node):
unlike a scheduled dump, a restore that cannot read its definition has nothing to do. Only
the result may be spooled when the catalog goes away meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgbackman.archive import integrity
from pgbackman.catalog import nodes, restorejobs, servers
from pgbackman.catalog.connection import Catalog
from pgbackman.pgnode.connection import NodeTarget
from pgbackman.config import Config
from pgbackman.errors import RestoreError, UserInputError

log = logging.getLogger(__name__)
# What the id of a restore run is: a restore definition, or a restore drill (the drill's
# scratch restore runs with its drill id in place of a restore definition).
JOB_LABELS = {"restoredef": "restore definition", "drill": "restore drill"}


@dataclass
class RestoreSpec:
    """Everything a restore run needs."""

    restore_def: int
    bck_id: int
    server_id: int
    server_config: dict[str, str]
    target_node_id: int
    target_fqdn: str
    target_port: int
    admin_user: str
    target_node_config: dict[str, str]
    target_dbname: str
    renamed_dbname: str | None
    extra_restore_parameters: str
    roles_to_restore: list[str]
    backup_code: str
    source_dbname: str
    pg_dump_file: str | None
    roles_file: str | None
    dbconfig_file: str | None
    manifest_file: str | None
    checksum: str | None
    backup_role_list: list[str]
    backup_node_release: str | None
    backup_pg_release: str | None
    backup_status: str
    backup_server_id: int
    encrypted: bool = (
        False  # every file of the backup is age-encrypted (archive/crypt.py)
    )
    compression: str | None = (
        None  # what the dump used (CLUSTER streams are also sniffed)
    )
    encryption_recipients: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Written by PgBackMan 1.x (imported by the catalog upgrade): no manifest, no checksum;
    # restored unverified, with its 1.x roles and database files read by archive/legacy.py.
    legacy: bool = False
    # The backup's offsite copy (catalog/offsite row) when it is UPLOADED: a restore whose
    # local files are gone, or were taken by another server, fetches it (restore/offsite.py).
    offsite_row: dict[str, Any] | None = None
    job: str = "restoredef"  # names the job: its log file (<job><N>) and its label
    # The backup's catalog row as pgbackman.archive.integrity.check reads it.
    backup_row: dict[str, Any] = field(default_factory=dict)
    # pgbackman_restore --force: restore even a backup that cannot be verified.
    force: bool = False

    @property
    def root(self) -> str:
        return self.server_config.get("root_backup_partition", "")

    @property
    def target(self) -> NodeTarget:
        return NodeTarget(
            self.target_fqdn, self.target_port, self.admin_user, self.target_node_id
        )

    @property
    def partition(self) -> Path:
        """The TARGET node's backup partition: its log/ holds the restore logs."""
        value = self.target_node_config.get("pgnode_backup_partition") or ""
        if not value:
            value = f"{self.root.rstrip('/')}/pgsql_node_{self.target_node_id}"
        return Path(value.replace("%%pgnode%%", str(self.target_node_id)))

    @property
    def label(self) -> str:
        return f"{JOB_LABELS.get(self.job, self.job)} {self.restore_def}"


def resolve(cfg: Config, cat: Catalog, restore_def: int) -> RestoreSpec:
    """The spec of ``restore_def``; UserInputError when it cannot be run from here."""
    d = restorejobs.get_restore_definition(cat, restore_def)
    if d is None:
        raise UserInputError(
            f"Restore definition {restore_def} does not exist in the catalog"
        )
    return build(
        cfg,
        cat,
        d,
        restore_def=int(d["restore_def"]),
        server_id=int(d["backup_server_id"]),
        target_node_id=int(d["target_pgsql_node_id"]),
        target_dbname=str(d["target_dbname"]),
        renamed_dbname=_opt(d["renamed_dbname"]),
        extra_restore_parameters=str(d["extra_restore_parameters"] or ""),
        roles_to_restore=[str(r) for r in d["roles_to_restore"] or []],
    )


def build(
    cfg: Config,
    cat: Catalog,
    backup: Mapping[str, Any],
    *,
    restore_def: int,
    server_id: int,
    target_node_id: int,
    target_dbname: str,
    renamed_dbname: str | None,
    extra_restore_parameters: str,
    roles_to_restore: list[str],
    job: str = "restoredef",
) -> RestoreSpec:
    """A spec from the ``bck_*`` columns of a backup (:mod:`pgbackman.catalog.restorejobs`)
    and a target; UserInputError when it cannot be run from this backup server."""
    what = f"{JOB_LABELS.get(job, job)} {restore_def}"
    notes: list[str] = []
    mine = servers.server_id_by_fqdn(cat, cfg.backup_server.fqdn)
    if mine is not None and mine != server_id:
        raise UserInputError(
            f"{what.capitalize()} belongs to backup server {server_id}, not to this "
            f"one ({cfg.backup_server.fqdn}, {mine}): not run"
        )
    if mine is None:
        notes.append(
            f"This host ({cfg.backup_server.fqdn}) is not a registered backup server; "
            f"running as server {server_id}"
        )
    offsite_row = None
    if backup.get("bck_offsite_status") == "UPLOADED":
        from pgbackman.catalog.offsite import backup_row

        offsite_row = backup_row(cat, int(backup["bck_id"]))
    node = nodes.get_node(cat, target_node_id)
    if node is None:
        raise UserInputError(f"Target PgSQL node {target_node_id} does not exist")
    d = backup
    return RestoreSpec(
        restore_def=restore_def,
        bck_id=int(d["bck_id"]),
        server_id=server_id,
        server_config=servers.server_config_dict(cat, server_id),
        target_node_id=int(node["node_id"]),
        target_fqdn=str(node["fqdn"]),
        target_port=int(node["pgport"]),
        admin_user=str(node["admin_user"]),
        target_node_config=nodes.node_config_dict(cat, int(node["node_id"])),
        target_dbname=target_dbname,
        renamed_dbname=renamed_dbname,
        extra_restore_parameters=extra_restore_parameters,
        roles_to_restore=roles_to_restore,
        backup_code=str(d["bck_code"] or "").upper(),
        source_dbname=str(d["bck_dbname"] or ""),
        pg_dump_file=_opt(d["bck_pg_dump_file"]),
        roles_file=_opt(d["bck_roles_file"]),
        dbconfig_file=_opt(d["bck_dbconfig_file"]),
        manifest_file=_opt(d["bck_manifest_file"]),
        checksum=_opt(d["bck_checksum"]),
        backup_role_list=[str(r) for r in d["bck_role_list"] or []],
        backup_node_release=_opt(d["bck_node_release"]),
        backup_pg_release=_opt(d["bck_pg_dump_release"]) or _opt(d["bck_node_release"]),
        backup_status=str(d["bck_status"] or ""),
        backup_server_id=int(d["bck_server_id"]),
        encrypted=bool(d.get("bck_encrypted")),
        compression=_opt(d.get("bck_compression")),
        encryption_recipients=[
            str(k) for k in d.get("bck_encryption_recipients") or []
        ],
        notes=notes,
        legacy=is_legacy_backup(d),
        offsite_row=offsite_row,
        job=job,
        backup_row={
            "bck_id": d["bck_id"],
            "run_uuid": d["bck_run_uuid"],
            "checksum": d["bck_checksum"],
            "pg_dump_manifest_file": d["bck_manifest_file"],
            "pg_dump_file": d["bck_pg_dump_file"],
            "pg_dump_file_size": d["bck_pg_dump_file_size"],
            "pg_dump_roles_file": d["bck_roles_file"],
            "pg_dump_roles_file_size": d["bck_roles_file_size"],
            "pg_dump_dbconfig_file": d["bck_dbconfig_file"],
            "pg_dump_dbconfig_file_size": d["bck_dbconfig_file_size"],
        },
    )


def is_legacy_backup(row: Mapping[str, Any]) -> bool:
    """Imported from PgBackMan 1.x (pgbackman.archive.integrity owns the rule)."""
    return integrity.written_by_upstream(
        row.get("bck_run_uuid"),
        _opt(row.get("bck_manifest_file")),
        _opt(row.get("bck_checksum")),
    )


def _opt(v: Any) -> str | None:
    """Catalog text that may be NULL, '' or upstream's literal 'None'."""
    if v is None:
        return None
    s = str(v)
    return None if s in ("", "None") else s


def check_backup(spec: RestoreSpec) -> None:
    """Refuse backups that cannot be restored from this server (before anything is done)."""
    if spec.backup_status != "SUCCEEDED":
        raise RestoreError(
            f"Backup {spec.bck_id} cannot be restored: its status is "
            f"{spec.backup_status or 'unknown'}"
        )
    if spec.backup_server_id != spec.server_id and spec.offsite_row is None:
        raise RestoreError(
            f"Backup {spec.bck_id} is stored on backup server "
            f"{spec.backup_server_id}, not on server {spec.server_id}, and has no "
            "uploaded offsite copy"
        )
    if not spec.pg_dump_file:
        raise RestoreError(f"Backup {spec.bck_id} has no dump file in the catalog")
