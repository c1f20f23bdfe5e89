"""What the job programs (pgbackman_dump, pgbackman_restore) need from the catalog: the job
specification, result registration, the local cache builders and pending-result ingestion.

Result records are plain dicts keyed by the SQL function's parameter names without ``p_``
(see :data:`BACKUP_FIELDS` / :data:`RESTORE_FIELDS` / :data:`DRILL_FIELDS`), so the same dict is registered directly,
or spooled as JSON (infra/spool.py) while the catalog is down and ingested later. Ingestion is
exactly-once: ``register_*_catalog`` are idempotent on ``run_uuid`` (they return the existing
row), and a file is unlinked only after its row exists. A record that can never be ingested
(malformed, or refused by the catalog, e.g. its definition was deleted meanwhile) is moved to
``pending_updates/rejected/`` with a log line instead of being retried forever.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from psycopg2 import sql

from pgbackman.catalog import alerts, servers
from pgbackman.catalog.connection import Catalog
from pgbackman.errors import CatalogUnavailableError, PendingRecordError, PgBackManError
from pgbackman.infra import spool
from pgbackman.infra.fsutil import ensure_dir, fsync_dir

log = logging.getLogger(__name__)

BACKUP_FIELDS = (
    "def_id", "procpid", "server_id", "node_id", "dbname", "started", "finished", "duration",
    "pg_dump_file", "pg_dump_file_size", "pg_dump_log_file",
    "pg_dump_roles_file", "pg_dump_roles_file_size", "pg_dump_roles_log_file",
    "pg_dump_dbconfig_file", "pg_dump_dbconfig_file_size", "pg_dump_dbconfig_log_file",
    "global_log_file", "execution_status", "execution_method", "error_message",
    "snapshot_id", "role_list", "pgsql_node_release", "pg_dump_release",
    "run_uuid", "backup_code", "checksum", "pg_dump_manifest_file", "dbname_size",
    "excluded_tables", "compression", "encrypted", "encryption_recipients",
    "wait_duration",
)  # fmt: skip
RESTORE_FIELDS = (
    "restore_def", "procpid", "server_id", "target_node_id", "source_dbname", "target_dbname",
    "renamed_dbname", "started", "finished", "duration", "restore_log_file", "global_log_file",
    "execution_status", "error_message", "role_list", "target_pgsql_node_release",
    "backup_pg_release", "run_uuid",
)  # fmt: skip
DRILL_FIELDS = (
    "drill_id", "def_id", "bck_id", "server_id", "drill_node_id", "procpid", "dbname",
    "scratch_dbname", "started", "finished", "duration", "execution_status", "checks",
    "roles_created", "error_message", "drill_log_file", "global_log_file", "run_uuid",
)  # fmt: skip
_TIME_FIELDS = ("started", "finished")
_LIST_FIELDS = (
    "role_list",
    "excluded_tables",
    "encryption_recipients",
    "checks",
    "roles_created",
)
REJECTED_DIR = spool.REJECTED_DIR


# -- job specification -----------------------------------------------------------------------


def get_backup_definition(cat: Catalog, def_id: int) -> dict[str, Any] | None:
    return cat.query_one(
        "SELECT def_id, backup_server_id, pgsql_node_id, dbname, backup_code,"
        " extra_backup_parameters, retention_period::text AS retention_period,"
        " retention_redundancy, job_status, encryption, backup_compression"
        " FROM backup_definition WHERE def_id = %s",
        (int(def_id),),
    )


def get_snapshot_definition(cat: Catalog, snapshot_id: int) -> dict[str, Any] | None:
    return cat.query_one(
        "SELECT snapshot_id, backup_server_id, pgsql_node_id, dbname, backup_code,"
        " extra_backup_parameters, retention_period::text AS retention_period,"
        " pg_dump_release, status, at_time::text AS at_time, encryption,"
        " backup_compression FROM snapshot_definition WHERE snapshot_id = %s",
        (int(snapshot_id),),
    )


# -- local cache (written by pgbackman_control with infra/cache.py) ------------------------------


def build_server_cache(cat: Catalog, server_id: int) -> dict[str, Any]:
    """``backup_server.json`` contents (docs/DESIGN.md "Local cache")."""
    srv = servers.get_server(cat, server_id)
    return {
        "backup_server_id": int(server_id),
        "backup_server_fqdn": srv["fqdn"] if srv else None,
        "config": servers.server_config_dict(cat, server_id),
    }


def build_node_cache(
    cat: Catalog, server_id: int, node_id: int
) -> dict[str, Any] | None:
    """``pgsql_node_<N>.json`` contents for this server; None when the node does not exist.

    Definitions: every definition of (server, node) whatever its status (a STOPPED job started
    by hand still runs). Snapshots: those of (server, node) not yet in the backup catalog.
    """
    return build_node_caches(cat, server_id, [node_id]).get(int(node_id))


def build_node_caches(
    cat: Catalog, server_id: int, node_ids: list[int]
) -> dict[int, dict[str, Any]]:
    """:func:`build_node_cache` of many nodes in four queries (pgbackman_control --once
    writes every node's cache; one round trip per node and table was most of its time)."""
    ids = [int(n) for n in node_ids]
    node_rows = cat.query(
        "SELECT node_id, hostname, domain_name, hostname || '.' || domain_name AS fqdn,"
        " pgport, admin_user, status FROM pgsql_node WHERE node_id = ANY(%s)",
        (ids,),
    )
    out: dict[int, dict[str, Any]] = {}
    for node in node_rows:
        out[int(node["node_id"])] = {
            "node": {
                "node_id": int(node["node_id"]),
                "hostname": node["hostname"],
                "domain_name": node["domain_name"],
                "fqdn": node["fqdn"],
                "pgport": int(node["pgport"]),
                "admin_user": node["admin_user"],
                "status": node["status"],
            },
            "config": {},
            "definitions": {},
            "snapshots": {},
        }
    if not out:
        return out
    ids = sorted(out)
    for r in cat.query(
        "SELECT node_id, parameter, value FROM pgsql_node_config"
        " WHERE node_id = ANY(%s) ORDER BY node_id, parameter",
        (ids,),
    ):
        out[int(r["node_id"])]["config"][r["parameter"]] = r["value"]
    for d in cat.query(
        "SELECT pgsql_node_id, def_id, dbname, backup_code, extra_backup_parameters,"
        " retention_period::text AS retention_period, retention_redundancy, job_status,"
        " backup_server_id, encryption, backup_compression FROM backup_definition"
        " WHERE backup_server_id = %s AND pgsql_node_id = ANY(%s) ORDER BY def_id",
        (int(server_id), ids),
    ):
        node_id = int(d.pop("pgsql_node_id"))
        out[node_id]["definitions"][str(d["def_id"])] = {
            **d,
            "def_id": int(d["def_id"]),
        }
    for sn in cat.query(
        "SELECT s.pgsql_node_id, s.snapshot_id, s.dbname, s.backup_code,"
        " s.extra_backup_parameters, s.retention_period::text AS retention_period,"
        " s.pg_dump_release, s.at_time::text AS at_time, s.status, s.backup_server_id,"
        " s.encryption, s.backup_compression FROM snapshot_definition s"
        " WHERE s.backup_server_id = %s AND s.pgsql_node_id = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM backup_catalog b WHERE b.snapshot_id = s.snapshot_id)"
        " ORDER BY s.snapshot_id",
        (int(server_id), ids),
    ):
        node_id = int(sn.pop("pgsql_node_id"))
        out[node_id]["snapshots"][str(sn["snapshot_id"])] = {
            **sn,
            "snapshot_id": int(sn["snapshot_id"]),
        }
    return out


# -- result registration ----------------------------------------------------------------------


def _to_time(v: Any) -> Any:
    if isinstance(v, str) and v:
        return _dt.datetime.fromisoformat(v)
    return v


def _to_interval(v: Any) -> Any:
    if isinstance(v, (int, float)):
        return _dt.timedelta(seconds=float(v))
    return v


def _args(record: Mapping[str, Any], fields: tuple[str, ...]) -> list[Any]:
    unknown = set(record) - set(fields)
    if unknown:
        raise PendingRecordError(
            f"unknown fields in result record: {', '.join(sorted(unknown))}"
        )
    if not record.get("run_uuid"):
        raise PendingRecordError("result record without run_uuid")
    out: list[Any] = []
    for f in fields:
        v = record.get(f)
        if f in _TIME_FIELDS:
            v = _to_time(v)
        elif f in ("duration", "wait_duration"):
            v = _to_interval(v)
        elif f == "run_uuid":
            try:
                v = str(uuid.UUID(str(v)))
            except ValueError:
                raise PendingRecordError(f"invalid run_uuid {v!r}") from None
        elif f in _LIST_FIELDS and v is not None:
            v = [str(x) for x in v]
        out.append(v)
    return out


def _register(cat: Catalog, function: str, args: list[Any], uuid_pos: int) -> int:
    placeholders: list[sql.Composable] = [sql.Placeholder()] * len(args)
    placeholders[uuid_pos] = sql.SQL("{}::uuid").format(sql.Placeholder())
    q = sql.SQL("SELECT {}({}) AS id").format(
        sql.Identifier(function), sql.SQL(", ").join(placeholders)
    )
    return int(cat.scalar(q, args))


def register_backup_catalog(cat: Catalog, record: Mapping[str, Any]) -> int:
    """Insert one backup result (idempotent on run_uuid); returns its bck_id."""
    return _register(
        cat,
        "register_backup_catalog",
        _args(record, BACKUP_FIELDS),
        BACKUP_FIELDS.index("run_uuid"),
    )


def register_restore_catalog(cat: Catalog, record: Mapping[str, Any]) -> int:
    """Insert one restore result (idempotent on run_uuid); returns its restore_id."""
    return _register(
        cat,
        "register_restore_catalog",
        _args(record, RESTORE_FIELDS),
        RESTORE_FIELDS.index("run_uuid"),
    )


def register_restore_drill_run(cat: Catalog, record: Mapping[str, Any]) -> int:
    """Insert one restore drill result (idempotent on run_uuid); returns its drill_run_id."""
    return _register(
        cat,
        "register_restore_drill_run",
        _args(record, DRILL_FIELDS),
        DRILL_FIELDS.index("run_uuid"),
    )


# -- pending results --------------------------------------------------------------------------


def ingest_one(cat: Catalog, kind: str, record: Mapping[str, Any]) -> int:
    """Register one spooled record (the INSERT half of ingestion; safe to repeat)."""
    if kind == "backup":
        return register_backup_catalog(cat, record)
    if kind == "restore":
        return register_restore_catalog(cat, record)
    if kind == "drill":
        return register_restore_drill_run(cat, record)
    if kind == "alert":
        try:
            alert = alerts.Alert.from_record(record)
        except (TypeError, PgBackManError) as exc:
            raise PendingRecordError(f"malformed alert record: {exc}") from None
        return alerts.raise_alert(cat, alert) or 0
    raise PendingRecordError(f"unknown pending kind {kind!r}")


def _reject(path: Path, reason: str) -> None:
    d = ensure_dir(path.parent / REJECTED_DIR, 0o700)
    target = d / path.name
    os.replace(path, target)
    fsync_dir(path.parent)
    log.error(
        "Pending result %s can never be ingested (%s): moved to %s",
        path.name,
        reason,
        target,
    )


def ingest_pending(cat: Catalog, root: str | Path) -> tuple[int, int]:
    """Ingest every pending backup and restore result under ``root``; return
    (ingested, failed). Stops at the first connection problem (files stay for the next pass).
    """
    ingested = failed = 0
    for kind in spool.KINDS:
        for path, record in spool.iter_pending(root, kind):
            if record is None:
                _reject(path, "unreadable or malformed JSON")
                failed += 1
                continue
            try:
                ident = ingest_one(cat, kind, record)
            except CatalogUnavailableError as exc:
                log.warning(
                    "Catalog unavailable while ingesting %s: %s", path.name, exc
                )
                return ingested, failed + 1
            except PgBackManError as exc:
                _reject(path, str(exc))
                failed += 1
                continue
            path.unlink(missing_ok=True)
            fsync_dir(path.parent)
            ingested += 1
            log.info("Pending %s result %s ingested (id %s)", kind, path.name, ident)
    return ingested, failed
