"""The shell application: line handling, dispatch, error reporting and the three run modes.

* interactive (a terminal): banner, ``[pgbackman]$ `` prompt, readline editing, persistent
  history, tab completion; Ctrl-C cancels the line or the prompt, never the shell;
* one command (``-C``): exit status 0, or 1 when the command failed;
* script (non-tty stdin): one command per line, exit status 1 when any failed.

Lines are *not* lower-cased (upstream bug: it changed database names and pg_dump flags).
Arguments are split with shlex. Errors print one line ``[ERROR]: ...``; the traceback of
unexpected ones goes to the log only.
"""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Iterable
from pathlib import Path

from pgbackman.core.text import undecodable
from pgbackman.errors import (
    Aborted,
    CatalogUnavailableError,
    PgBackManError,
    UserInputError,
)
from pgbackman.shell import registry
from pgbackman.shell.context import ShellContext, ShellExit
from pgbackman.version import SOFTWARE_VERSION

log = logging.getLogger(__name__)

PROMPT = "[pgbackman]$ "
SHORTCUTS = {
    "\\?": "help",
    "\\h": "help",
    "\\!": "shell",
    "\\s": "show_history",
    "\\q": "quit",
}
WRONG_NARGS = "[ERROR] - Wrong number of parameters used."
HINT = "Type help or \\? to list commands"


def banner() -> str:
    return (
        "#############################################################\n"
        f"Welcome to the PostgreSQL Backup Manager shell ver.{SOFTWARE_VERSION}\n"
        "#############################################################\n"
        "Type help or \\? to list commands.\n"
    )


def expand_shortcut(line: str) -> str:
    """``\\? x`` -> ``help x``, ``\\! ls`` -> ``shell ls``, ..."""
    for short, full in SHORTCUTS.items():
        if (
            line == short
            or line.startswith(short + " ")
            or (short == "\\!" and line.startswith(short))
        ):
            return full + " " + line[len(short) :].strip()
    return line


class Shell:
    """Dispatches command lines to the registered command functions."""

    def __init__(self, ctx: ShellContext) -> None:
        self.ctx = ctx
        self.failures = 0

    # -- one line --------------------------------------------------------------------
    def execute(self, line: str) -> bool:
        """Run one command line; return False when it failed. Raises ShellExit on quit."""
        line = line.strip()
        if not line:
            return True
        bad = undecodable(line)
        if bad is not None:
            # Bytes that are not UTF-8 can reach neither the catalog nor the log: refuse the
            # whole line before anything runs (and before it is echoed anywhere).
            self.ctx.out.error(
                f"The command line is not valid UTF-8 (byte {bad}); nothing was done"
            )
            return self._failed()
        self.ctx.history.append(line)
        line = expand_shortcut(line).strip()
        name, _, rest = line.partition(" ")
        cmd = registry.get(name)
        if cmd is None:
            self.ctx.out.info(f"[ERROR] - Unknown command: [{line}].")
            return self._failed()
        try:
            args = shlex.split(rest)
        except ValueError as exc:
            self.ctx.out.error(str(exc))
            return self._failed()
        n = len(args)
        if n not in cmd.nargs and not cmd.prompts_for(n, self.ctx.interactive):
            self.ctx.out.info(WRONG_NARGS)
            self.ctx.out.info(HINT)
            return self._failed()
        return self._run(cmd, args)

    def _run(
        self, cmd: registry.Command, args: list[str], retried: bool = False
    ) -> bool:
        self.ctx.begin_command()
        try:
            cmd.run(self.ctx, args)
            return True
        except ShellExit:
            raise
        except Aborted:
            self.ctx.out.info("[ABORTED] Command interrupted by the user.")
        except KeyboardInterrupt:
            self.ctx.out.info("")
            self.ctx.out.info("[ABORTED] Command interrupted by the user.")
        except CatalogUnavailableError as exc:
            log.warning("%s: %s", cmd.name, exc)
            if not retried and self._reconnect():
                # Re-run only what is harmless and would not ask the user everything again.
                if cmd.readonly and not self.ctx.prompted:
                    return self._run(cmd, args, retried=True)
                self.ctx.out.error(
                    f"{exc} -- reconnected to the catalog; the command was not completed, "
                    "run it again"
                )
            else:
                self.ctx.out.error(str(exc))
        except UserInputError as exc:
            log.info("%s: %s", cmd.name, exc)
            self.ctx.out.error(str(exc))
        except PgBackManError as exc:
            log.error("%s failed: %s", cmd.name, exc, exc_info=True)
            self.ctx.out.error(str(exc))
        except Exception as exc:
            log.exception("Unexpected error in %s", cmd.name)
            self.ctx.out.error(
                f"Unexpected error ({type(exc).__name__}: {exc}); see the log"
            )
        return self._failed()

    def _failed(self) -> bool:
        self.failures += 1
        return False

    def _reconnect(self) -> bool:
        """Lost connection: open a fresh one once. True when the catalog answers again."""
        self.ctx.cat.close()
        try:
            self.ctx.cat.connect()
        except CatalogUnavailableError:
            return False
        return True

    # -- run modes -------------------------------------------------------------------
    def run_one(self, line: str) -> int:
        """``-C``: 0 on success, 1 on failure."""
        try:
            ok = self.execute(line)
        except ShellExit:
            return 0
        return 0 if ok else 1

    def run_script(self, lines: Iterable[str]) -> int:
        """Non-tty stdin: every line is a command; ``#`` lines are comments."""
        try:
            for line in lines:
                if line.strip().startswith("#"):
                    continue
                self.execute(line)
        except ShellExit:
            pass
        return 1 if self.failures else 0

    def run_interactive(self, history_file: str | None = None) -> int:
        """The ``[pgbackman]$ `` loop; Ctrl-C clears the line, EOF/quit leave."""
        from pgbackman.shell.completion import install_readline, save_history

        rl = install_readline(self.ctx, history_file)
        self.ctx.out.info(banner())
        try:
            while True:
                try:
                    line = self.ctx.input_func(PROMPT)
                except KeyboardInterrupt:
                    self.ctx.out.info("")
                    continue
                except EOFError:
                    self.ctx.out.info("")
                    line = "EOF"
                if rl is not None and line.strip():
                    rl.add_history(line.strip())
                try:
                    self.execute(line)
                except ShellExit:
                    break
        finally:
            if rl is not None and history_file:
                save_history(rl, history_file)
        return 0


def history_path(configured: str) -> str:
    path = Path(os.path.expanduser(configured))
    return str(path)
