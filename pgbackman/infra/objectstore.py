"""The only code that speaks to object storage (S3 API through boto3).

Credentials come from boto3's standard chain for the OS user running the program
(``AWS_*`` environment, ``~/.aws/credentials`` and ``~/.aws/config``, an instance role):
nothing here reads, stores or logs them. A custom endpoint (MinIO, Ceph RGW, Garage) gets
path-style addressing, which they all serve whatever their DNS set-up.

Memory is bounded whatever the file size: uploads read the file through a non-seekable
hashing reader, so boto3's transfer manager buffers at most ``max_in_memory_chunks`` parts of
``chunk_size`` bytes (multipart above ``chunk_size``); downloads stream the body in 1 MiB
pieces. The SHA-256 of exactly the bytes sent or received is computed on the way and
compared with the manifest by the caller: an object is never taken for good on its size.
Failures become :class:`~pgbackman.errors.OffsiteError` with a one-line reason.

A transfer polls its ``interrupt`` callback at every part read (upload) or 1 MiB piece
(download): whatever the callback raises (a stop request: SIGTERM) ends the transfer, an
unfinished multipart upload is aborted by boto3, and the exception reaches the caller as is.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig

from pgbackman.core.offsite import OffsiteUrl, within
from pgbackman.errors import OffsiteError

MiB = 1024 * 1024
_READ = MiB
_ERRORS = (
    botocore.exceptions.BotoCoreError,
    botocore.exceptions.ClientError,
    Boto3Error,
)
Interrupt = Callable[[], None]


def _never() -> None:
    return None


@dataclass(frozen=True)
class TransferSettings:
    """How transfers use this backup server's network and memory (``[pgbackman_offsite]``)."""

    max_bandwidth: int = 0  # bytes per second, 0 = unlimited
    chunk_size: int = 8 * MiB  # multipart part size (and threshold)
    max_concurrency: int = 4  # parts in flight
    connect_timeout: int = 10
    read_timeout: int = 60


def describe(exc: BaseException) -> str:
    """One line for an S3/boto error (no request ids, no credentials)."""
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'Error')}: {err.get('Message') or exc}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _HashingReader:
    """A read-only, NON-seekable view of a file that hashes what is read.

    Non-seekable on purpose: boto3 then reads the parts strictly in order, once, so the
    digest is that of exactly the bytes uploaded (a retried part is resent from memory)."""

    def __init__(self, fh: Any, interrupt: Interrupt) -> None:
        self._fh = fh
        self._interrupt = interrupt
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        self._interrupt()
        data: bytes = self._fh.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data


class _Throttle:
    """Sleep so that the bytes counted stay under ``rate`` per second (0 = unlimited)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.start = time.monotonic()
        self.count = 0

    def add(self, n: int) -> None:
        if self.rate <= 0:
            return
        self.count += n
        ahead = self.count / self.rate - (time.monotonic() - self.start)
        if ahead > 0:
            time.sleep(ahead)


class ObjectStore:
    """One S3 endpoint ('' = AWS) with this server's transfer settings."""

    def __init__(
        self,
        endpoint_url: str,
        settings: TransferSettings | None = None,
        allowed: list[OffsiteUrl] | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url or None
        self.settings = settings or TransferSettings()
        # Every operation must lie under one of these (None: anywhere, for tools and tests).
        self.allowed = allowed
        s = self.settings
        config = botocore.config.Config(
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
        )
        try:
            self.client: Any = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint_url, config=config
            )
        except _ERRORS as exc:
            raise OffsiteError(
                f"Cannot set up the S3 client: {describe(exc)}"
            ) from None
        self.transfer = TransferConfig(
            multipart_threshold=s.chunk_size,
            multipart_chunksize=s.chunk_size,
            max_concurrency=s.max_concurrency,
            max_bandwidth=s.max_bandwidth or None,
            use_threads=True,
        )
        # Parts of a non-seekable upload buffered at once (s3transfer's default is 10):
        # the memory bound of an upload is about this many chunk_size parts.
        self.transfer.max_in_memory_upload_chunks = s.max_concurrency + 2

    def _check(self, bucket: str, key: str) -> None:
        if self.allowed is not None and not any(
            within(a, bucket, key) for a in self.allowed
        ):
            raise OffsiteError(
                f"s3://{bucket}/{key} is not under [pgbackman_offsite] allowed_urls of "
                "this backup server"
            )

    # -- upload -----------------------------------------------------------------------
    def upload(
        self,
        path: Path,
        bucket: str,
        key: str,
        sha256: str,
        interrupt: Interrupt = _never,
    ) -> int:
        """Stream ``path`` to ``bucket/key``; the bytes sent must hash to ``sha256`` (the
        manifest's), and the stored object must have their size. Returns the size."""
        self._check(bucket, key)
        try:
            with open(path, "rb") as fh:
                reader = _HashingReader(fh, interrupt)
                self.client.upload_fileobj(
                    reader,
                    bucket,
                    key,
                    ExtraArgs={"Metadata": {"sha256": sha256}},
                    Config=self.transfer,
                )
        except OSError as exc:
            raise OffsiteError(f"Cannot read {path}: {exc.strerror}") from None
        except _ERRORS as exc:
            raise OffsiteError(f"Upload of {key} failed: {describe(exc)}") from None
        if reader.sha256.hexdigest() != sha256:
            self._delete_quietly(bucket, key)
            raise OffsiteError(
                f"{path.name} no longer matches its manifest (SHA-256 of the bytes read "
                "differs): not uploaded"
            )
        head = self.head(bucket, key)
        if head is None or int(head["ContentLength"]) != reader.size:
            raise OffsiteError(
                f"Upload of {key}: the stored object does not have the size sent"
            )
        return reader.size

    def _delete_quietly(self, bucket: str, key: str) -> None:
        try:
            self.client.delete_object(Bucket=bucket, Key=key)
        except _ERRORS:
            pass  # the caller reports the mismatch; a stray object is deleted later

    # -- reading ----------------------------------------------------------------------
    def head(self, bucket: str, key: str) -> dict[str, Any] | None:
        """The object's metadata, None when it does not exist."""
        self._check(bucket, key)
        try:
            result: dict[str, Any] = self.client.head_object(Bucket=bucket, Key=key)
            return result
        except botocore.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise OffsiteError(f"Cannot read {key}: {describe(exc)}") from None
        except _ERRORS as exc:
            raise OffsiteError(f"Cannot read {key}: {describe(exc)}") from None

    def _chunks(
        self, bucket: str, key: str, interrupt: Interrupt = _never
    ) -> Iterator[bytes]:
        self._check(bucket, key)
        try:
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
            throttle = _Throttle(self.settings.max_bandwidth)
            for chunk in body.iter_chunks(_READ):
                interrupt()
                throttle.add(len(chunk))
                yield chunk
        except botocore.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise OffsiteError(f"Object {key} is missing") from None
            raise OffsiteError(f"Cannot read {key}: {describe(exc)}") from None
        except _ERRORS as exc:
            raise OffsiteError(f"Cannot read {key}: {describe(exc)}") from None

    def read_small(self, bucket: str, key: str, limit: int = 64 * MiB) -> bytes:
        """A small object (a manifest) whole; OffsiteError when larger than ``limit``."""
        out = bytearray()
        for chunk in self._chunks(bucket, key):
            out += chunk
            if len(out) > limit:
                raise OffsiteError(f"Object {key} is larger than {limit} bytes")
        return bytes(out)

    def digest(self, bucket: str, key: str, interrupt: Interrupt = _never) -> str:
        """SHA-256 of the stored object, streamed (nothing written)."""
        h = hashlib.sha256()
        for chunk in self._chunks(bucket, key, interrupt):
            h.update(chunk)
        return h.hexdigest()

    def download(
        self, bucket: str, key: str, path: Path, interrupt: Interrupt = _never
    ) -> str:
        """Stream the object into a new 0600 file ``path``; returns its SHA-256."""
        h = hashlib.sha256()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            for chunk in self._chunks(bucket, key, interrupt):
                h.update(chunk)
                fh.write(chunk)
        return h.hexdigest()

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """Keys under ``prefix`` (used only under a prefix derived from a catalog row)."""
        self._check(bucket, prefix)
        keys: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            )
            for page in pages:
                keys.extend(str(o["Key"]) for o in page.get("Contents", []))
        except _ERRORS as exc:
            raise OffsiteError(f"Cannot list {prefix}: {describe(exc)}") from None
        return keys

    # -- deletion ---------------------------------------------------------------------
    def delete(self, bucket: str, keys: list[str]) -> None:
        """Delete ``keys`` (missing ones are fine), 1000 per request as S3 allows."""
        for key in keys:
            self._check(bucket, key)
        for i in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[i : i + 1000]]
            try:
                result = self.client.delete_objects(
                    Bucket=bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except _ERRORS as exc:
                raise OffsiteError(
                    f"Deleting objects failed: {describe(exc)}"
                ) from None
            errors = result.get("Errors") or []
            if errors:
                first = errors[0]
                raise OffsiteError(
                    f"Deleting {first.get('Key')} failed: {first.get('Code')}: "
                    f"{first.get('Message')} ({len(errors)} object(s) not deleted)"
                )
