"""The table of shell commands: name -> parameters, action and help text.

Command modules (``pgbackman/shell/commands/*.py``) register themselves with :func:`command`,
declaring their parameters once (:mod:`pgbackman.shell.params`); the application
(``shell/app.py``) dispatches through :func:`get` and :meth:`Command.run`, which collects the
values (one line or prompts), lets the command check them as a whole (``prepare``), asks the
confirmation when anything was asked, and calls the action. Keeping the table here, not as
``do_*`` methods, lets every noun live in its own module and lets ``help`` and completion list
them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pgbackman.shell import params as P

if TYPE_CHECKING:
    from pgbackman.shell.context import ShellContext

Action = Callable[["ShellContext", P.Values], Any]

ALL_CORRECT = "Are all values correct (yes/no)"
UPDATE_CORRECT = "Are all values to update correct (yes/no)"


@dataclass(frozen=True)
class Command:
    """One shell command."""

    name: str
    func: Action
    params: tuple[P.Param, ...]
    usage: str
    # Read-only commands may be re-run transparently after a reconnect; writers never are.
    readonly: bool
    confirm: str | None = (
        None  # the question asked after the prompts (None: no question)
    )
    prepare: Action | None = None  # whole-command checks, before the confirmation
    echo: bool = (
        False  # one-line listings echo their filters (table output, as upstream)
    )

    @property
    def nargs(self) -> tuple[int, ...]:
        return P.arities(self.params)

    @property
    def summary(self) -> str:
        for line in self.usage.strip().splitlines():
            if line.strip():
                return line.strip()
        return self.name

    def prompts_for(self, nargs: int, interactive: bool) -> bool:
        """No argument at all, interactively, where the one-line form needs some: ask."""
        return nargs == 0 and interactive and 0 not in self.nargs

    def run(self, ctx: ShellContext, args: list[str]) -> None:
        if self.prompts_for(len(args), ctx.interactive):
            v = P.from_prompts(ctx, self.params)
        else:
            v = P.from_line(ctx, self.params, args)
            if self.echo and args:
                ctx.out.filters(
                    [
                        (
                            p.title or p.label,
                            str(getattr(v, p.key))
                            if p.echo_parsed
                            else v.typed.get(p.key, ""),
                        )
                        for p in self.params
                    ]
                )
        if self.prepare is not None:
            self.prepare(ctx, v)
        if ctx.prompted and self.confirm:
            ctx.confirm_or_abort(self.confirm)
        self.func(ctx, v)


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    params: Sequence[P.Param] = (),
    doc: str = "",
    notes: str = "",
    confirm: str | None = None,
    prepare: Action | None = None,
    readonly: bool | None = None,
    echo: bool = False,
) -> Callable[[Action], Action]:
    """Register ``func(ctx, values)`` as shell command ``name`` with ``params``.

    ``doc`` (what the command does) and ``notes`` (details, examples) surround the synopsis
    and the parameter list derived from ``params`` in the usage text (``help <name>``). A call
    with no argument in interactive mode asks for every parameter (upstream's "with or
    without parameters") unless the command accepts no argument at all.
    """

    def deco(func: Action) -> Action:
        if name in COMMANDS and COMMANDS[name].func is not func:
            raise RuntimeError(f"shell command {name} registered twice")
        ro = name.startswith("show_") if readonly is None else readonly
        COMMANDS[name] = Command(
            name,
            func,
            tuple(params),
            P.usage_text(name, params, doc, notes),
            ro,
            confirm,
            prepare,
            echo,
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
