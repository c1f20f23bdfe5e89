"""Offsite copies of backups on S3-compatible object storage (issue 18).

``copies.py`` uploads, fetches, verifies and deletes one backup's copy; the maintenance tasks
that drive it are :mod:`pgbackman.maintenance.offsite`; a restore fetches a copy whose local
files are gone (:mod:`pgbackman.restore.offsite`). The pure rules (URLs, keys, manifests) are
in :mod:`pgbackman.core.offsite`, the S3 client in :mod:`pgbackman.infra.objectstore`.
"""

from __future__ import annotations

from pgbackman.config import Config
from pgbackman.core import offsite as core
from pgbackman.errors import OffsiteError
from pgbackman.infra.objectstore import MiB, ObjectStore, TransferSettings


def refusal(cfg: Config, url: core.OffsiteUrl, endpoint_url: str) -> str | None:
    """Why this server's configuration refuses ``url`` at ``endpoint_url`` (None: allowed)."""
    o = cfg.offsite
    return core.refusal(
        url,
        endpoint_url,
        core.allowed_urls(o.allowed_urls),
        core.allowed_endpoints(o.allowed_endpoints),
    )


def store_for(cfg: Config, endpoint_url: str) -> ObjectStore:
    """An S3 client for ``endpoint_url`` ('' = AWS) with this server's transfer settings,
    confined to the endpoints and ``s3://`` prefixes its ``[pgbackman_offsite]`` allows."""
    o = cfg.offsite
    if endpoint_url not in core.allowed_endpoints(o.allowed_endpoints):
        raise OffsiteError(
            f"offsite endpoint {endpoint_url or core.AWS} is not in [pgbackman_offsite] "
            "allowed_endpoints of this backup server"
        )
    return ObjectStore(
        endpoint_url,
        TransferSettings(
            max_bandwidth=o.bandwidth,
            chunk_size=o.chunk_size_mb * MiB,
            max_concurrency=o.max_concurrency,
            connect_timeout=o.connect_timeout,
            read_timeout=o.read_timeout,
        ),
        allowed=core.allowed_urls(o.allowed_urls),
    )
