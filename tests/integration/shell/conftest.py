"""Helpers that drive the REAL ``pgbackman`` shell against the test catalog.

* ``shell_run(cmd, output=None)`` — ``pgbackman [-o fmt] -C cmd`` as a subprocess;
* ``shell_script(text)`` — commands on a non-tty stdin;
* ``shell_spawn()`` — the interactive shell under a pty (pexpect).

HOME points into the test's tmp dir so the history file never touches the real one.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pexpect
import pytest
from shell_a_support import PGBACKMAN, PROMPT
from shell_a_support import shell_env as _env


@pytest.fixture
def shell_run(pgb_env: Any) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(
        command: str, output: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        argv = [PGBACKMAN] + (["-o", output] if output else []) + ["-C", command]
        return subprocess.run(
            argv,
            env=_env(pgb_env),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    return run


@pytest.fixture
def shell_script(pgb_env: Any) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(text: str, output: str | None = None) -> subprocess.CompletedProcess[str]:
        argv = [PGBACKMAN] + (["-o", output] if output else [])
        return subprocess.run(
            argv,
            env=_env(pgb_env),
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture
def shell_spawn(pgb_env: Any) -> Iterator[Callable[[], pexpect.spawn]]:
    children: list[pexpect.spawn] = []

    def spawn() -> pexpect.spawn:
        child = pexpect.spawn(
            PGBACKMAN,
            [],
            env=_env(pgb_env),
            encoding="utf-8",
            timeout=20,
            dimensions=(50, 200),
        )
        children.append(child)
        child.expect("Welcome to the PostgreSQL Backup Manager shell ver.")
        child.expect(PROMPT)
        return child

    yield spawn
    for c in children:
        if c.isalive():
            c.terminate(force=True)
