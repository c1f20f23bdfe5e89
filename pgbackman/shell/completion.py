"""readline integration: tab completion of command names, server/node ids and FQDNs; history.

Completion of ids/FQDNs asks the catalog at most once per completion attempt and swallows any
catalog error (completion must never break the prompt).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from pgbackman.shell import registry
from pgbackman.shell.context import ShellContext

log = logging.getLogger(__name__)

HELP_TOPICS = ("shortcuts", "support")


def candidates(ctx: ShellContext | None, line: str, text: str) -> list[str]:
    """Words that complete ``text`` given the full line typed so far."""
    if ctx is not None and ctx.asking:
        return [v for v in _prompt_words(ctx, ctx.asking) if v.startswith(text)]
    words = line.split()
    first_word = not words or (len(words) == 1 and not line.endswith(" "))
    if first_word:
        return [n + " " for n in registry.names() if n.startswith(text)]
    command = words[0]
    if command == "help":
        pool = registry.names() + list(HELP_TOPICS)
        return [n for n in pool if n.startswith(text)]
    if ctx is None:
        return []
    return [v for v in _object_words(ctx, command) if v.startswith(text)]


def _object_words(ctx: ShellContext, command: str) -> list[str]:
    from pgbackman.catalog import nodes, servers

    words: list[str] = []
    try:
        if "server" in command or command.startswith(
            ("register_backup_def", "show_backup_")
        ):
            for row in servers.list_servers(ctx.cat):
                words += [str(row["SrvID"]), row["FQDN"]]
        if "node" in command or "definition" in command or "snapshot" in command:
            for row in nodes.list_nodes(ctx.cat):
                words += [str(row["NodeID"]), row["FQDN"]]
    except Exception:
        log.debug("completion look-up failed", exc_info=True)
        return []
    return sorted(set(words))


def _prompt_words(ctx: ShellContext, question: str) -> list[str]:
    """Inside a prompt: yes/no, or the ids/FQDNs the question asks for."""
    if "(yes/no)" in question:
        return ["yes", "no"]
    if "SrvID" in question:
        return _object_words(ctx, "server")
    if "NodeID" in question:
        return _object_words(ctx, "node")
    return []


class Completer:
    """The readline completer function (stateful across the ``state`` calls of one attempt)."""

    def __init__(self, rl: ModuleType, ctx: ShellContext) -> None:
        self.rl = rl
        self.ctx = ctx
        self.matches: list[str] = []

    def __call__(self, text: str, state: int) -> str | None:
        if state == 0:
            line = self.rl.get_line_buffer()[: self.rl.get_endidx()]
            self.matches = candidates(self.ctx, line, text)
        return self.matches[state] if state < len(self.matches) else None


def install_readline(ctx: ShellContext, history_file: str | None) -> Any:
    """Set up readline (editing, completion, history); None when unavailable."""
    try:
        import readline as rl
    except ImportError:  # pragma: no cover - not on Debian
        return None
    # We add command lines ourselves: answers typed at prompts must not enter the history.
    rl.set_auto_history(False)
    rl.set_completer(Completer(rl, ctx))
    rl.set_completer_delims(" \t\n")
    if "libedit" in (rl.__doc__ or ""):
        rl.parse_and_bind("bind ^I rl_complete")
    else:
        rl.parse_and_bind("tab: complete")
    rl.set_history_length(1000)
    if history_file:
        with contextlib.suppress(OSError):
            rl.read_history_file(history_file)
    return rl


def save_history(rl: Any, history_file: str) -> None:
    """Write the history through a temp file + rename (never a truncated history)."""
    path = Path(history_file)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        rl.write_history_file(str(tmp))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("Cannot save the shell history to %s: %s", history_file, exc)
