"""Fixtures of the alerting tests: the real SMTP server and HTTP receiver, a stopped node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.alerting import AlertEnv
from support.pgcluster import PgCluster
from support.receivers import HttpReceiver, MailServer, self_signed


@pytest.fixture
def alert_env(pgb_env: Any) -> AlertEnv:
    return AlertEnv(pgb_env)


@pytest.fixture
def smtpd() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("smtp-cert"))


@pytest.fixture
def webhook() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def stopped_node(pg_base_dir: Path) -> Iterator[PgCluster]:
    """A PgSQL node cluster that existed and was shut down: nothing listens on its port."""
    cluster = PgCluster(pg_base_dir, "stopped_node").init().start()
    cluster.psql('CREATE DATABASE "sales"')
    cluster.stop()
    yield cluster
    cluster.destroy()
