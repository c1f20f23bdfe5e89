"""Local cache of catalog data on a backup server, so that pgbackman_dump and
pgbackman_restore can run while the catalog database is down.

pgbackman_control writes it (after every resync of a node); the job programs read it only
when the catalog cannot be reached. Format: JSON, one file for the server and one per node
(docs/DESIGN.md "Local cache"), written atomically with mode 0600.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from pgbackman.errors import CacheError
from pgbackman.infra.fsutil import PendingWrite, atomic_write, ensure_dir

CACHE_DIR = "cache_dir"


def cache_dir(root: str | Path) -> Path:
    return Path(root) / CACHE_DIR


def _json_default(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return f"{int(value.total_seconds())} seconds"
    return str(value)


def _pending(path: Path, data: dict[str, Any]) -> PendingWrite:
    payload = dict(data)
    payload["written"] = _dt.datetime.now(_dt.timezone.utc).isoformat()
    # Compact: with an indent json uses its pure-Python encoder (10 times slower over the
    # 10 000 definitions pgbackman_control --once writes).
    text = json.dumps(
        payload, default=_json_default, sort_keys=True, separators=(",", ":")
    )
    return PendingWrite(path, text.encode("utf-8"), 0o600)


def _write(path: Path, data: dict[str, Any]) -> None:
    ensure_dir(path.parent, 0o700)
    w = _pending(path, data)
    atomic_write(w.path, w.data, w.mode)


def node_cache_write(
    root: str | Path, node_id: int, data: dict[str, Any]
) -> PendingWrite:
    """The node cache file as a write for infra/fsutil.atomic_write_many (the caller
    made the cache directory)."""
    return _pending(node_cache_path(root, node_id), data)


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise CacheError(f"Local cache file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise CacheError(f"Local cache file {path} is unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise CacheError(f"Local cache file {path} is malformed")
    return data


def server_cache_path(root: str | Path) -> Path:
    return cache_dir(root) / "backup_server.json"


def node_cache_path(root: str | Path, node_id: int) -> Path:
    return cache_dir(root) / f"pgsql_node_{int(node_id)}.json"


def write_server_cache(root: str | Path, data: dict[str, Any]) -> None:
    _write(server_cache_path(root), data)


def write_node_cache(root: str | Path, node_id: int, data: dict[str, Any]) -> None:
    _write(node_cache_path(root, node_id), data)


def read_server_cache(root: str | Path) -> dict[str, Any]:
    return _read(server_cache_path(root))


def read_node_cache(root: str | Path, node_id: int) -> dict[str, Any]:
    return _read(node_cache_path(root, node_id))


def remove_node_cache(root: str | Path, node_id: int) -> None:
    node_cache_path(root, node_id).unlink(missing_ok=True)


def find_definition(
    root: str | Path, def_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (node cache, definition) of ``def_id`` from the node caches under ``root``."""
    return _find(root, "definitions", def_id)


def find_snapshot(
    root: str | Path, snapshot_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    return _find(root, "snapshots", snapshot_id)


def _find(
    root: str | Path, kind: str, ident: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    d = cache_dir(root)
    for path in sorted(d.glob("pgsql_node_*.json")):
        try:
            node = _read(path)
        except CacheError:
            continue
        item = node.get(kind, {}).get(str(int(ident)))
        if item is not None:
            return node, item
    raise CacheError(
        f"{kind[:-1].capitalize()} {ident} is not in the local cache under {d}"
    )
