"""Fixtures of the monitoring tests (pgbackman_check, pgbackman_metrics, Zabbix helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.alerting import AlertEnv
from support.receivers import MailServer


@pytest.fixture
def alert_env(pgb_env: Any) -> AlertEnv:
    return AlertEnv(pgb_env)


@pytest.fixture
def smtpd() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()
