"""The table of shell commands: name -> function, allowed argument counts and help text.

Command modules (``pgbackman/shell/commands/*.py``) register themselves with :func:`command`;
the application (``shell/app.py``) dispatches through :func:`get`. Keeping the table here, not as
``do_*`` methods, lets every noun live in its own module and lets ``help``/completion list them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgbackman.shell.context import ShellContext

CommandFunc = Callable[["ShellContext", list[str]], Any]


@dataclass(frozen=True)
class Command:
    """One shell command."""

    name: str
    func: CommandFunc
    nargs: tuple[int, ...]
    usage: str
    # Read-only commands may be re-run transparently after a reconnect; writers never are.
    readonly: bool

    @property
    def summary(self) -> str:
        for line in self.usage.strip().splitlines():
            if line.strip():
                return line.strip()
        return self.name


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    nargs: tuple[int, ...] = (0,),
    usage: str = "",
    readonly: bool | None = None,
) -> Callable[[CommandFunc], CommandFunc]:
    """Register ``func`` as shell command ``name`` accepting ``nargs`` positional arguments.

    When 0 is not in ``nargs`` a call with no argument is still allowed in interactive mode:
    the function then prompts for its values (upstream's "with or without parameters").
    """

    def deco(func: CommandFunc) -> CommandFunc:
        if name in COMMANDS and COMMANDS[name].func is not func:
            raise RuntimeError(f"shell command {name} registered twice")
        ro = name.startswith("show_") if readonly is None else readonly
        COMMANDS[name] = Command(
            name, func, tuple(nargs), textwrap.dedent(usage).strip(), ro
        )
        return func

    return deco


def get(name: str) -> Command | None:
    _load()
    return COMMANDS.get(name)


def names() -> list[str]:
    _load()
    return sorted(COMMANDS)


def _load() -> None:
    # Importing the package imports every command module (pkgutil), which fills COMMANDS.
    import pgbackman.shell.commands  # noqa: F401
