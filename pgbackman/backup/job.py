"""Resolve what one pgbackman_dump run must do: from the catalog when it answers, else from
the local cache that pgbackman_control keeps under ``<root>/cache_dir`` (docs/DESIGN.md).

Only ids travel through cron/at; every other value (database name, code, extra parameters,
node address, directories, binaries) is read here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgbackman.catalog import jobs, nodes, servers
from pgbackman.catalog.connection import Catalog
from pgbackman.pgnode.connection import NodeTarget
from pgbackman.config import Config
from pgbackman.errors import (
    CacheError,
    CatalogUnavailableError,
    PgBackManError,
    UserInputError,
)
from pgbackman.infra import cache
from pgbackman.core.text import printable

log = logging.getLogger(__name__)


@dataclass
class JobSpec:
    """Everything a dump run needs, whatever its source."""

    def_id: int | None
    snapshot_id: int | None
    server_id: int
    server_fqdn: str
    server_config: dict[str, str]
    node_id: int
    node_fqdn: str
    node_port: int
    admin_user: str
    node_status: str
    node_config: dict[str, str]
    dbname: str
    backup_code: str
    extra_backup_parameters: str
    pg_dump_release: str | None
    job_status: str
    encryption: bool = (
        False  # the definition's flag: encrypt every file (archive/crypt.py)
    )
    backup_compression: str | None = (
        None  # the definition's own value; None: node default
    )
    from_cache: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def execution_method(self) -> str:
        return "CRON" if self.def_id is not None else "AT"

    @property
    def root(self) -> str:
        return self.server_config.get("root_backup_partition", "")

    @property
    def partition(self) -> Path:
        value = self.node_config.get("pgnode_backup_partition") or ""
        if not value:
            value = f"{self.root.rstrip('/')}/pgsql_node_{self.node_id}"
        return Path(value.replace("%%pgnode%%", str(self.node_id)))

    @property
    def target(self) -> NodeTarget:
        return NodeTarget(self.node_fqdn, self.node_port, self.admin_user, self.node_id)

    @property
    def label(self) -> str:
        return job_label(self.def_id, self.snapshot_id)

    @property
    def description(self) -> str:
        """The job, its database and its node, for the one-line failure message."""
        what = (
            "CLUSTER"
            if self.backup_code == "CLUSTER"
            else f"database {printable(repr(self.dbname))}"
        )
        return f"{self.label} ({what} on {self.node_fqdn}:{self.node_port})"


def job_label(def_id: int | None, snapshot_id: int | None) -> str:
    """``backup definition N`` or ``snapshot N``."""
    return (
        f"backup definition {def_id}"
        if def_id is not None
        else f"snapshot {snapshot_id}"
    )


def resolve(
    cfg: Config, cat: Catalog, def_id: int | None, snapshot_id: int | None
) -> JobSpec:
    """The job spec from the catalog; from the local cache if the catalog is unreachable."""
    try:
        return _from_catalog(cfg, cat, def_id, snapshot_id)
    except CatalogUnavailableError as exc:
        log.warning(
            "%s; using the local cache under %s",
            exc,
            cfg.backup_server.root_backup_partition,
        )
        cat.close()
        return _from_cache(cfg, def_id, snapshot_id)


def _from_catalog(
    cfg: Config, cat: Catalog, def_id: int | None, snapshot_id: int | None
) -> JobSpec:
    if def_id is not None:
        d = jobs.get_backup_definition(cat, def_id)
        if d is None:
            raise UserInputError(
                f"Backup definition {def_id} does not exist in the catalog"
            )
        job_status = str(d["job_status"])
        release = None
    else:
        assert snapshot_id is not None  # noqa: S101 - internal invariant, for the type checker
        d = jobs.get_snapshot_definition(cat, snapshot_id)
        if d is None:
            raise UserInputError(
                f"Snapshot definition {snapshot_id} does not exist in the catalog"
            )
        job_status = str(d["status"])
        release = d.get("pg_dump_release")
    server_id = int(d["backup_server_id"])
    notes: list[str] = []
    mine = servers.server_id_by_fqdn(cat, cfg.backup_server.fqdn)
    if mine is not None and mine != server_id:
        raise UserInputError(
            f"This job belongs to backup server {server_id}, not to this one "
            f"({cfg.backup_server.fqdn}, {mine}): not run"
        )
    if mine is None:
        notes.append(
            f"This host ({cfg.backup_server.fqdn}) is not a registered backup server; "
            f"running as server {server_id}"
        )
    node = nodes.get_node(cat, int(d["pgsql_node_id"]))
    srv = servers.get_server(cat, server_id)
    if node is None or srv is None:
        raise UserInputError(
            "The job's node or backup server does not exist in the catalog"
        )
    return JobSpec(
        def_id=def_id,
        snapshot_id=snapshot_id,
        server_id=server_id,
        server_fqdn=str(srv["fqdn"]),
        server_config=servers.server_config_dict(cat, server_id),
        node_id=int(node["node_id"]),
        node_fqdn=str(node["fqdn"]),
        node_port=int(node["pgport"]),
        admin_user=str(node["admin_user"]),
        node_status=str(node["status"]),
        node_config=nodes.node_config_dict(cat, int(node["node_id"])),
        dbname=str(d["dbname"] or ""),
        backup_code=str(d["backup_code"]).upper(),
        extra_backup_parameters=str(d.get("extra_backup_parameters") or ""),
        pg_dump_release=str(release) if release else None,
        job_status=job_status,
        encryption=bool(d.get("encryption")),
        backup_compression=d.get("backup_compression") or None,
        notes=notes,
    )


def _from_cache(cfg: Config, def_id: int | None, snapshot_id: int | None) -> JobSpec:
    root = cfg.backup_server.root_backup_partition
    try:
        server = cache.read_server_cache(root)
        if def_id is not None:
            node_data, d = cache.find_definition(root, def_id)
        else:
            assert snapshot_id is not None  # noqa: S101 - internal invariant, for the type checker
            node_data, d = cache.find_snapshot(root, snapshot_id)
    except CacheError as exc:
        raise PgBackManError(
            f"Catalog unavailable and no usable local cache: {exc}"
        ) from None
    node: dict[str, Any] = node_data.get("node", {})
    if "encryption" not in d:
        # Written by a version without encryption: whether this job must be encrypted is
        # unknown, and a backup must never be written in plaintext by mistake.
        raise PgBackManError(
            f"Catalog unavailable and the local cache under {root} predates encryption "
            "support (pgbackman_control rewrites it when the catalog is back): not run"
        )
    server_config = {str(k): str(v) for k, v in (server.get("config") or {}).items()}
    server_config.setdefault("root_backup_partition", root)
    try:
        return JobSpec(
            def_id=def_id,
            snapshot_id=snapshot_id,
            server_id=int(d.get("backup_server_id") or server["backup_server_id"]),
            server_fqdn=str(server.get("backup_server_fqdn") or cfg.backup_server.fqdn),
            server_config=server_config,
            node_id=int(node["node_id"]),
            node_fqdn=str(node["fqdn"]),
            node_port=int(node["pgport"]),
            admin_user=str(node["admin_user"]),
            node_status=str(node.get("status", "")),
            node_config={
                str(k): str(v) for k, v in (node_data.get("config") or {}).items()
            },
            dbname=str(d.get("dbname") or ""),
            backup_code=str(d["backup_code"]).upper(),
            extra_backup_parameters=str(d.get("extra_backup_parameters") or ""),
            pg_dump_release=str(d["pg_dump_release"])
            if d.get("pg_dump_release")
            else None,
            job_status=str(d.get("job_status") or d.get("status") or ""),
            encryption=_cached_flag(d.get("encryption")),
            backup_compression=str(d["backup_compression"])
            if d.get("backup_compression")
            else None,
            from_cache=True,
            notes=[
                f"job read from the local cache written {node_data.get('written', '?')}"
            ],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PgBackManError(f"Local cache under {root} is malformed: {exc}") from None


def _cached_flag(value: Any) -> bool:
    """A boolean of the JSON cache (true, or 'true' from an older writer)."""
    return value is True or str(value).lower() == "true"
