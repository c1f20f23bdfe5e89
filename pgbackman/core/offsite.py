"""Offsite copies on S3-compatible object storage: the pure rules (no I/O).

Owns the syntax of the backup server config values ``offsite_url`` (``s3://bucket/prefix``)
and ``offsite_endpoint_url``, and the object keys of one backup. A key names the backup server,
the PgSQL node, the database, the definition (or snapshot) and the time, each name encoded as
data::

    <prefix>/<server fqdn>/<node fqdn:port>/<database>/defid<N>|snapid<N>/<YYYYMMDDTHHMMSSZ>-bck<ID>/<file>

Names are percent-encoded (every byte outside ``[A-Za-z0-9_-]``, and a leading ``.``), so any
database name (quotes, ``/``, ``%``, newlines are refused earlier, non-ASCII) is one key
segment that can never be ``.``, ``..`` or empty; a CLUSTER backup has the segment
``@cluster`` (``@`` never survives encoding, so no database name can produce it). ``<file>``
is the path relative to ``dump/`` exactly as the manifest lists it. The time is the row's
``finished`` in UTC and ``bck<ID>`` makes the location unique per catalog row: the keys of a
row are derived from the row alone, never from a listing.

The catalog checks the same syntax (``update_backup_server_config``, table CHECKs).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

SCHEME = "s3://"
# S3 bucket names (AWS rules; MinIO and Ceph RGW follow them): 3-63 of [a-z0-9.-].
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# A prefix is plain path segments of S3's "safe" characters (no spaces, no '%', no '..').
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9!_.*'()-]+$")
_ENDPOINT_RE = re.compile(
    r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$"
)
_UNRESERVED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-."
)
CLUSTER_SEGMENT = "@cluster"
_TIME_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class OffsiteUrl:
    """``s3://bucket/prefix`` split: ``prefix`` has no leading or trailing ``/``."""

    bucket: str
    prefix: str

    def key(self, *parts: str) -> str:
        """The key of ``parts`` under this prefix (parts are already encoded)."""
        return "/".join(p for p in (self.prefix, *parts) if p)

    def __str__(self) -> str:
        return (
            f"{SCHEME}{self.bucket}/{self.prefix}"
            if self.prefix
            else f"{SCHEME}{self.bucket}"
        )


def parse_url(value: str) -> OffsiteUrl:
    """``s3://bucket[/prefix]`` -> OffsiteUrl; ValueError with the reason otherwise."""
    v = value.strip()
    if not v.startswith(SCHEME):
        raise ValueError("expected s3://bucket/prefix")
    bucket, _, prefix = v[len(SCHEME) :].partition("/")
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise ValueError(
            f"bucket name {bucket!r} is not valid (3-63 of a-z, 0-9, '.', '-')"
        )
    prefix = prefix.rstrip("/")
    if prefix:
        for seg in prefix.split("/"):
            if seg in (".", "..") or not _SEGMENT_RE.match(seg):
                raise ValueError(
                    f"prefix segment {seg!r} is not valid (letters, digits and !_.*'()-)"
                )
    if len(prefix) > 256:
        raise ValueError("prefix is longer than 256 characters")
    return OffsiteUrl(bucket, prefix)


def check_endpoint(value: str) -> str:
    """``http(s)://host[:port][/path]`` without credentials; '' (AWS) is fine."""
    v = value.strip()
    if v and not _ENDPOINT_RE.match(v):
        raise ValueError(
            "expected http(s)://host[:port] (no user or password: credentials come "
            "from the AWS configuration of the backup user)"
        )
    return v.rstrip("/")


def encode(name: str) -> str:
    """One key segment for ``name``: percent-encoding of every UTF-8 byte outside
    ``[A-Za-z0-9_.-]``, and of a leading ``.``."""
    out = []
    for i, ch in enumerate(name):
        if ch in _UNRESERVED and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out) or "%00"  # never an empty segment


def decode(segment: str) -> str:
    """Inverse of :func:`encode` (for humans reading a listing, and tests)."""
    raw = bytearray()
    i = 0
    while i < len(segment):
        if segment[i] == "%":
            raw.append(int(segment[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(segment[i].encode())
            i += 1
    return raw.decode("utf-8")


def backup_segments(
    *,
    server_fqdn: str,
    node_fqdn: str,
    node_port: int,
    dbname: str,
    def_id: int | None,
    snapshot_id: int | None,
    finished: _dt.datetime,
    bck_id: int,
) -> list[str]:
    """The key segments of one backup (see the module docstring)."""
    if (def_id is None) == (snapshot_id is None):
        raise ValueError("exactly one of def_id and snapshot_id is required")
    job = (
        f"defid{int(def_id)}"
        if def_id is not None
        else f"snapid{int(snapshot_id or 0)}"
    )
    if finished.tzinfo is None:
        raise ValueError("finished must carry a time zone")
    when = finished.astimezone(_dt.UTC).strftime(_TIME_FORMAT)
    return [
        encode(server_fqdn),
        encode(f"{node_fqdn}:{int(node_port)}"),
        encode(dbname) if dbname else CLUSTER_SEGMENT,
        job,
        f"{when}-bck{int(bck_id)}",
    ]


def location(url: OffsiteUrl, segments: list[str]) -> str:
    """``s3://bucket/<key prefix>/`` of one backup (stored in the catalog)."""
    return f"{SCHEME}{url.bucket}/{url.key(*segments)}/"


def split_location(value: str) -> tuple[str, str]:
    """``s3://bucket/key/prefix/`` -> (bucket, ``key/prefix/``); ValueError otherwise."""
    if not value.startswith(SCHEME) or not value.endswith("/"):
        raise ValueError(f"not an offsite location: {value!r}")
    bucket, _, key_prefix = value[len(SCHEME) :].partition("/")
    if not _BUCKET_RE.match(bucket) or not key_prefix.strip("/"):
        raise ValueError(f"not an offsite location: {value!r}")
    if any(seg in ("", ".", "..") for seg in key_prefix[:-1].split("/")):
        raise ValueError(f"not an offsite location: {value!r}")
    return bucket, key_prefix


def object_key(key_prefix: str, rel: str) -> str:
    """Key of the file ``rel`` (relative to dump/, as the manifest lists it)."""
    if (
        not rel
        or rel.startswith("/")
        or any(s in ("", ".", "..") for s in rel.split("/"))
    ):
        raise ValueError(f"unsafe file name in a manifest: {rel!r}")
    return key_prefix + rel


def manifest_entries(text: str) -> list[tuple[str, str]]:
    """(sha256, relative path) of every line of a manifest; ValueError when malformed."""
    out = []
    for line in text.splitlines():
        digest, sep, rel = line.partition("  ")
        if not sep or not re.fullmatch(r"[0-9a-f]{64}", digest) or not rel:
            raise ValueError(f"malformed manifest line: {line[:80]!r}")
        object_key("", rel)  # refuses absolute and '..' paths
        out.append((digest, rel))
    return out


_SIZE_RE = re.compile(r"^([0-9]+)\s*([KMG]?)(i?B)?(/s)?$", re.IGNORECASE)


def parse_bandwidth(value: str) -> int:
    """``0`` (unlimited), ``500K``, ``20M``, ``1G`` (bytes per second, binary units)."""
    m = _SIZE_RE.match(value.strip())
    if not m:
        raise ValueError("expected a number of bytes per second, e.g. 20M or 500K")
    factor = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[m.group(2).upper()]
    return int(m.group(1)) * factor


AWS = "aws"  # in allowed_endpoints: AWS S3 itself (offsite_endpoint_url empty)


def within(url: OffsiteUrl, bucket: str, key: str) -> bool:
    """``bucket/key`` lies under ``url`` (whole prefix segments only)."""
    if bucket != url.bucket:
        return False
    return not url.prefix or key == url.prefix or key.startswith(url.prefix + "/")


def allowed_urls(text: str) -> list[OffsiteUrl]:
    """``[pgbackman_offsite] allowed_urls``: whitespace-separated ``s3://bucket[/prefix]``."""
    return [parse_url(v) for v in text.split()]


def allowed_endpoints(text: str) -> list[str]:
    """``[pgbackman_offsite] allowed_endpoints``: whitespace-separated endpoint URLs, ``aws``
    for AWS S3 itself ('' in the result)."""
    return ["" if v.lower() == AWS else check_endpoint(v) for v in text.split()]


def refusal(
    url: OffsiteUrl, endpoint: str, urls: list[OffsiteUrl], endpoints: list[str]
) -> str | None:
    """Why this backup server refuses the catalog's offsite target (None: allowed). The
    catalog names where backups go; the server's own configuration decides whether its
    data may go there."""
    if endpoint not in endpoints:
        shown = endpoint or AWS
        return (
            f"offsite endpoint {shown} is not in [pgbackman_offsite] allowed_endpoints "
            "of this backup server"
        )
    if not any(within(a, url.bucket, url.prefix) for a in urls):
        return (
            f"{url} is not under [pgbackman_offsite] allowed_urls of this backup server"
        )
    return None
