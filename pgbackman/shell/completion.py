"""readline integration: tab completion and the history.

Completion knows where it is: the first word completes command names; an argument completes
what the command's parameter at that position asks for (``shell/params.py``: ids and FQDNs,
the node's database names after a node, statuses, backup codes, ``all``); inside a prompt, what
the question asks for (yes/no at a confirmation). Completers may ask the catalog or a node;
any error means no candidates (completion must never break the prompt).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
from pathlib import Path
from types import ModuleType
from typing import Any

from pgbackman.shell import params, registry
from pgbackman.shell.app import expand_shortcut
from pgbackman.shell.context import ShellContext

log = logging.getLogger(__name__)


def candidates(ctx: ShellContext | None, line: str, text: str) -> list[str]:
    """Words that complete ``text``, the word being typed at the end of ``line``."""
    if ctx is not None and ctx.asking is not None:
        try:
            words = ctx.asking(text)
        except Exception:  # completion must never break the prompt
            log.debug("completion inside a prompt failed", exc_info=True)
            return []
        return sorted({w for w in words if w.startswith(text)})
    before = line[: len(line) - len(text)] if text and line.endswith(text) else line
    typed = _words(expand_shortcut(before.lstrip()))
    if not typed:
        return [n + " " for n in registry.names() if n.startswith(text)]
    cmd = registry.get(typed[0])
    if cmd is None or ctx is None and cmd.name != "help":
        return []
    return params.completions(ctx, cmd.params, typed[1:], text)  # type: ignore[arg-type]


def _words(line: str) -> list[str]:
    """The words before the cursor as the shell will split them (an open quote is
    closed for the purpose)."""
    for tail in ("", '"', "'"):
        try:
            return shlex.split(line + tail)
        except ValueError:
            continue
    return line.split()


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
