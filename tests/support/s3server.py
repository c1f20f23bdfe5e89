"""A real S3 API server for the offsite tests: moto in server mode, started by the suite.

:class:`S3Server` runs ``moto_server`` (the moto[server] test dependency) as a child process
on 127.0.0.1 with a free port; :meth:`kill` ends it with SIGKILL (an upload in flight sees
its connection die) and :meth:`start` brings a new one up on the same port (moto keeps its
state in memory: buckets must be created again). :meth:`client` is a boto3 client the tests
use to look at what PgBackMan stored, independently of PgBackMan's own code.

Credentials are the test's own (any key works with moto); :meth:`aws_env` is what a
program's environment needs to find them through boto3's standard chain.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from support.pgcluster import free_port

ACCESS_KEY = "pgbackman-test-key"
SECRET_KEY = "pgbackman-test-secret"


def moto_server_path() -> str:
    """The moto_server program; under CI=true a missing one fails the test, else skips."""
    path = Path(sys.executable).parent / "moto_server"
    found = str(path) if path.exists() else shutil.which("moto_server")
    if found is None:
        message = (
            "moto_server (pip install 'moto[server]') is required for the offsite tests"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


class S3Server:
    def __init__(self, log_path: Path) -> None:
        self.program = moto_server_path()
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.program, "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited; see {self.log_path}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            try:
                conn.request("GET", "/moto-api/")
                conn.getresponse().read()
                return self
            except OSError:
                time.sleep(0.1)
            finally:
                conn.close()
        raise RuntimeError("moto_server did not start within 30 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def aws_env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def client(self) -> Any:
        import boto3

        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        ).client("s3", endpoint_url=self.url)

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        out: list[str] = []
        for page in (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=bucket, Prefix=prefix)
        ):
            out.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(out)

    def get(self, bucket: str, key: str) -> bytes:
        body: bytes = self.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body
