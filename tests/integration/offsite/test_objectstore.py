"""The S3 client against the real S3 API server: streamed and hashed transfers, a file that
no longer matches its manifest, interrupted transfers, missing objects, batch deletion."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from offsite_helpers import BUCKET
from support.s3server import S3Server

from pgbackman.errors import OffsiteError
from pgbackman.infra.objectstore import MiB, ObjectStore, TransferSettings


class Stop(Exception):
    pass


@pytest.fixture
def store(s3: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ObjectStore:
    for k, v in s3.aws_env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    return ObjectStore(s3.url, TransferSettings(chunk_size=5 * MiB, max_concurrency=2))


def _file(tmp_path: Path, size: int) -> tuple[Path, str]:
    p = tmp_path / "data.bin"
    data = os.urandom(size)
    p.write_bytes(data)
    return p, hashlib.sha256(data).hexdigest()


def test_multipart_upload_and_download_round_trip(
    store: ObjectStore, s3: S3Server, tmp_path: Path
) -> None:
    path, digest = _file(tmp_path, 12 * MiB + 123)  # three parts
    assert store.upload(path, BUCKET, "k/data.bin", digest) == 12 * MiB + 123
    assert hashlib.sha256(s3.get(BUCKET, "k/data.bin")).hexdigest() == digest
    head = store.head(BUCKET, "k/data.bin")
    assert head is not None and head["Metadata"]["sha256"] == digest
    assert store.digest(BUCKET, "k/data.bin") == digest
    out = tmp_path / "sub" / "copy.bin"
    assert store.download(BUCKET, "k/data.bin", out) == digest
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert store.head(BUCKET, "k/missing") is None
    with pytest.raises(OffsiteError, match="missing"):
        store.digest(BUCKET, "k/missing")


def test_a_file_that_no_longer_matches_its_manifest_is_not_left_behind(
    store: ObjectStore, s3: S3Server, tmp_path: Path
) -> None:
    path, _digest = _file(tmp_path, 1000)
    with pytest.raises(OffsiteError, match="no longer matches its manifest"):
        store.upload(path, BUCKET, "k/rotten.bin", "0" * 64)
    assert s3.keys(BUCKET, "k/") == []


def test_interrupted_transfers_stop_and_leave_no_object(
    store: ObjectStore, s3: S3Server, tmp_path: Path
) -> None:
    path, digest = _file(tmp_path, 12 * MiB)
    reads = []

    def stop_after_first_part() -> None:
        reads.append(1)
        if len(reads) > 2:
            raise Stop()

    with pytest.raises(Stop):
        store.upload(path, BUCKET, "k/big.bin", digest, stop_after_first_part)
    assert s3.keys(BUCKET, "k/") == []
    uploads = s3.client().list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert uploads == []  # the unfinished multipart upload was aborted

    store.upload(path, BUCKET, "k/big.bin", digest)

    def stop_now() -> None:
        raise Stop()

    with pytest.raises(Stop):
        store.download(BUCKET, "k/big.bin", tmp_path / "partial.bin", stop_now)


def test_batch_delete(store: ObjectStore, s3: S3Server, tmp_path: Path) -> None:
    client = s3.client()
    for i in range(5):
        client.put_object(Bucket=BUCKET, Key=f"d/{i}", Body=b"x")
    store.delete(BUCKET, ["d/0", "d/1", "d/absent"])
    assert s3.keys(BUCKET, "d/") == ["d/2", "d/3", "d/4"]
    assert store.list_keys(BUCKET, "d/") == ["d/2", "d/3", "d/4"]
