"""Fixtures of the shell tests, all on the one driver of tests/support/shell.py.

* ``shell`` (tests/conftest.py) — ``shell.cmd(line, fmt)``, ``shell.script(lines)``,
  ``shell.spawn()``;
* ``shell_run(cmd, output=None)``, ``shell_script(text, output=None)`` and ``shell_spawn()``
  — the same driver under the names the session/server/node/config tests use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pexpect
import pytest

from support.shell import Shell, ShellRun


@pytest.fixture
def shell_run(shell: Shell) -> Callable[..., ShellRun]:
    def run(command: str, output: str | None = None) -> ShellRun:
        return shell.cmd(command, fmt=output)

    return run


@pytest.fixture
def shell_script(shell: Shell) -> Callable[..., ShellRun]:
    def run(text: str, output: str | None = None) -> ShellRun:
        return shell.script(text, fmt=output)

    return run


@pytest.fixture
def shell_spawn(shell: Shell) -> Iterator[Callable[[], pexpect.spawn]]:
    children: list[pexpect.spawn] = []

    def spawn() -> pexpect.spawn:
        child = shell.spawn(timeout=20)
        children.append(child)
        return child

    yield spawn
    for c in children:
        if c.isalive():
            c.terminate(force=True)
