"""The one driver of the real ``pgbackman`` shell in tests.

Every shell test runs the installed program as a subprocess against the test catalog, the
way a DBA does: one command (``-C``), a script on a non-tty stdin, or an interactive
session under a pty (pexpect). HOME points into the test's tmp dir, so the history file
never touches the real one, and TERM is ``dumb`` whatever started the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pexpect

if TYPE_CHECKING:
    from support.pgbenv import PgbEnv

PGBACKMAN = str(Path(sys.executable).parent / "pgbackman")
LAUNCH_WITH_SIGINT_IGNORED = (
    "import os, signal, sys;"
    "signal.signal(signal.SIGINT, signal.SIG_IGN);"
    "os.execv(sys.argv[1], sys.argv[1:])"
)
PROMPT = r"\[pgbackman\]\$ "
WELCOME = "Welcome to the PostgreSQL Backup Manager shell ver."


@dataclass
class ShellRun:
    """Exit status and output of one run (``subprocess.CompletedProcess`` names too)."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def rc(self) -> int:
        return self.returncode

    @property
    def out(self) -> str:
        return self.stdout

    @property
    def err(self) -> str:
        return self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


class Shell:
    """The real shell for one test environment (``config``: an explicit --config file)."""

    def __init__(self, pgb_env: PgbEnv, config: Path | None = None) -> None:
        self.pgb = pgb_env
        self.config = config

    @property
    def env(self) -> dict[str, str]:
        # The shell is an operator's: pgbackman_role_rw (the programs use pgb.env).
        env = dict(self.pgb.shell_env or self.pgb.env)
        home = Path(self.pgb.tmp) / "home"
        home.mkdir(exist_ok=True)
        env["HOME"] = str(home)
        env["TERM"] = "dumb"
        # The pty's own size is the truth (pytest-xdist exports LINES/COLUMNS of its own);
        # no pager unless a test asks for one.
        for name in ("LINES", "COLUMNS", "LESS"):
            env.pop(name, None)
        env["PAGER"] = ""
        return env

    def on_host(self, fqdn: str) -> Shell:
        """The same shell run on a host named ``fqdn`` (its config's [backup_server]
        backup_server): defaults that come from the host, such as the domain, follow it."""
        source = self.config or self.pgb.shell_config_path or self.pgb.config_path
        text = source.read_text(encoding="utf-8")
        lines = [
            f"backup_server = {fqdn}" if ln.startswith("backup_server =") else ln
            for ln in text.splitlines()
        ]
        path = Path(self.pgb.tmp) / f"host-{fqdn}.conf"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Shell(self.pgb, path)

    def _argv(self, fmt: str | None) -> list[str]:
        argv = [PGBACKMAN]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        return argv + (["-o", fmt] if fmt else [])

    def cmd(self, line: str, fmt: str | None = None, timeout: float = 60) -> ShellRun:
        """``pgbackman [-o fmt] -C line``."""
        return self._run([*self._argv(fmt), "-C", line], None, timeout)

    def script(
        self, lines: str | Sequence[str], fmt: str | None = None, timeout: float = 60
    ) -> ShellRun:
        """Commands read from a non-tty stdin, one per line."""
        text = lines if isinstance(lines, str) else "\n".join(lines) + "\n"
        return self._run(self._argv(fmt), text, timeout)

    def _run(self, argv: list[str], stdin: str | None, timeout: float) -> ShellRun:
        p = subprocess.run(
            argv,
            env=self.env,
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return ShellRun(p.returncode, p.stdout, p.stderr)

    def spawn(
        self,
        timeout: float = 30,
        env: dict[str, str] | None = None,
        sigint_ignored: bool = False,
        dimensions: tuple[int, int] = (50, 250),
    ) -> pexpect.spawn:
        """The interactive shell under a pty, at its first prompt.

        ``env`` adds to (or overrides) the environment, e.g. ``PAGER``; ``sigint_ignored``
        starts it the way a background job or ``nohup`` does: with SIGINT ignored, which an
        exec keeps (POSIX)."""
        argv = [PGBACKMAN]
        if sigint_ignored:
            argv = [sys.executable, "-c", LAUNCH_WITH_SIGINT_IGNORED, PGBACKMAN]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        child = pexpect.spawn(
            argv[0],
            argv[1:],
            env={**self.env, **(env or {})},
            encoding="utf-8",
            timeout=timeout,
            dimensions=dimensions,
        )
        child.expect_exact(WELCOME)
        child.expect(PROMPT)
        return child


def answer(child: pexpect.spawn, label: str, value: str) -> None:
    """Wait for the prompt containing ``label`` and type ``value``."""
    child.expect_exact(label)
    child.expect_exact(": ")
    child.sendline(value)


def quit_shell(child: pexpect.spawn) -> None:
    child.expect_exact("[pgbackman]$ ")
    child.sendline("quit")
    child.expect(pexpect.EOF)
