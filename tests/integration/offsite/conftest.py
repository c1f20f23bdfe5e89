"""Fixtures of the offsite tests: a real S3 API server (moto in server mode) started for each
test, a bucket in it, and this test's backup server configured to upload there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from offsite_helpers import BUCKET, OffsiteEnv
from support.pgcluster import PgCluster
from support.s3server import S3Server


@pytest.fixture
def s3(tmp_path: Any) -> Iterator[S3Server]:
    server = S3Server(tmp_path / "moto.log").start()
    server.create_bucket(BUCKET)
    yield server
    server.kill()


@pytest.fixture
def off(pgb_env: Any, node1: PgCluster, s3: S3Server) -> OffsiteEnv:
    env = OffsiteEnv(pgb_env, node1, pgb_env.register_node(node1), s3, BUCKET)
    env.configure()
    return env
