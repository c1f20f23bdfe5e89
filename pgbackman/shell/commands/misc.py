"""Session commands: help, set, show_history, clear, shell, quit, EOF."""

from __future__ import annotations

import cmd
import io
import shlex

from pgbackman.core import validate
from pgbackman.errors import UserInputError
from pgbackman.infra import proc
from pgbackman.shell import registry
from pgbackman.shell.context import ShellContext, ShellExit
from pgbackman.shell.params import Param, Values
from pgbackman.shell.registry import command

SHORTCUTS_HELP = """\
Shortcuts in PgBackMan:

\\? [COMMAND] - Help on syntax of PgBackMan commands
\\h [COMMAND] - Help on syntax of PgBackMan commands
\\s - display history
\\q - quit PgBackMan shell
\\! [COMMAND] - Execute command in shell (no /bin/sh: the words are run as a program)
"""

SUPPORT_HELP = """\
The latest information and versions of PgBackMan can be obtained from:
https://github.com/rafaelma/pgbackman

Bugs and feature requests: https://github.com/rafaelma/pgbackman/issues
Mailing list: pgbackman@googlegroups.com
IRC: #pgbackman on irc.libera.chat
"""

HELP_TOPICS = {"shortcuts": SHORTCUTS_HELP, "support": SUPPORT_HELP}


def _topics_listing() -> str:
    buf = io.StringIO()
    c = cmd.Cmd(stdout=buf)
    c.print_topics("Documented commands (type help <topic>):", registry.names(), 15, 80)
    c.print_topics("Miscellaneous help topics:", sorted(HELP_TOPICS), 15, 80)
    return buf.getvalue()


def _topics(ctx: ShellContext, v: Values, text: str) -> list[str]:
    return [*registry.names(), *HELP_TOPICS]


@command(
    "help",
    params=[
        Param(
            "topic",
            "Topic",
            complete=_topics,
            placeholder="[command|topic]",
            present_from=1,
        )
    ],
    doc="""
    Without a parameter: lists every command and help topic.
    With a command name: shows its parameters, defaults and examples.
    Topics: shortcuts, support.
    """,
    notes="""
    The manual: man pgbackman (commands: docs/commands.rst).
    """,
    readonly=True,
)
def help_(ctx: ShellContext, v: Values) -> None:
    topic = v.topic
    if not topic:
        ctx.out.page(_topics_listing())
        return
    if topic in HELP_TOPICS:
        ctx.out.info(HELP_TOPICS[topic])
        return
    found = registry.get(topic)
    if found is None:
        raise UserInputError(f"No help on [{topic}]: unknown command or topic")
    ctx.out.page("\n" + (found.usage or found.name) + "\n")


@command(
    "quit",
    doc="Quits/terminates the PgBackMan shell (also \\q and Ctrl-D).",
    readonly=True,
)
def quit_(ctx: ShellContext, v: Values) -> None:
    ctx.out.info("Done, thank you for using PgBackMan")
    raise ShellExit()


@command("EOF", doc="Ctrl-D at the prompt: quits the PgBackMan shell.", readonly=True)
def eof(ctx: ShellContext, v: Values) -> None:
    quit_(ctx, v)


SETTINGS = ("output_format", "pager")


def _setting(ctx: ShellContext, v: Values, text: str) -> str:
    name = text.partition("=")[0].strip()
    if name not in SETTINGS:
        raise UserInputError(
            f"[{text}] is not a valid parameter; use output_format=table|csv|json or "
            "pager=on|off"
        )
    return text


@command(
    "set",
    params=[
        Param(
            "setting",
            "Parameter=value",
            _setting,
            complete=lambda ctx, v, text: [f"{s}=" for s in SETTINGS],
            placeholder="[parameter=value]",
        ),
        Param(
            "value",
            "Value",
            ask=False,
            complete=lambda ctx, v, text: (
                validate.OUTPUT_FORMATS
                if v.raw.get("setting", "").startswith("output")
                else ("on", "off")
            ),
            present_from=2,
            placeholder="[value]",
        ),
    ],
    doc="""
    Sets a parameter of this shell session (set parameter=value, or set parameter value).
    Parameters:

    * output_format=table|csv|json  (empty value = table)
    * pager=on|off  Output longer than the terminal goes through the pager ($PAGER, else
      less) when standard output is a terminal (on, the default) or never (off).
    """,
    notes="""
    Example:
      [pgbackman]$ set output_format=json
      [Done] Output format changed to [json]
      [pgbackman]$ set pager off
      [Done] Pager changed to [off]
    """,
    readonly=False,
)
def set_(ctx: ShellContext, v: Values) -> None:
    name, _, value = v.setting.partition("=")
    name = name.strip()
    if "value" in v.given:
        value = v.value
    if name == "output_format":
        fmt = validate.output_format(value)
        _changed(ctx, "Output format", ctx.out.format, fmt)
        ctx.out.format = fmt
        return
    pager = validate.on_off(value or "on", "Pager")
    _changed(ctx, "Pager", "on" if ctx.out.pager else "off", "on" if pager else "off")
    ctx.out.pager = pager


def _changed(ctx: ShellContext, what: str, old: str, new: str) -> None:
    if old == new:
        ctx.out.unchanged(f"{what} is already [{new}]")
    else:
        ctx.out.done(f"{what} changed to [{new}]")


@command(
    "show_history",
    doc="Shows the commands run in this session, numbered (also \\s).",
)
def show_history(ctx: ShellContext, v: Values) -> None:
    ctx.out.page(
        "\n".join(f"[{n}]: {line}" for n, line in enumerate(ctx.history, start=1))
    )


@command("clear", doc="Clears the screen and shows the welcome banner.", readonly=True)
def clear(ctx: ShellContext, v: Values) -> None:
    from pgbackman.shell.app import banner

    # ANSI "cursor home + erase screen": no need to start the clear(1) program.
    ctx.out.stream.write("\x1b[H\x1b[2J")
    ctx.out.info(banner())


def _argv(ctx: ShellContext, v: Values, text: str) -> list[str]:
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    if not argv:
        raise UserInputError("No command given")
    return argv


@command(
    "shell",
    params=[
        Param(
            "argv",
            "Command",
            _argv,
            variadic=True,
            placeholder="[command] [arguments ...]",
        )
    ],
    doc="""
    Runs a program and prints its output (also \\! command). The words are split like a
    shell would split them, but no shell runs: pipes, redirections and $variables are not
    interpreted.
    """,
    notes="""
    Example:
      [pgbackman]$ \\! ls -l /srv/pgbackman
    """,
    readonly=False,
)
def shell(ctx: ShellContext, v: Values) -> None:
    argv = v.argv
    try:
        res = proc.run(argv)
    except OSError as exc:
        raise UserInputError(f"Cannot run [{argv[0]}]: {exc.strerror or exc}") from None
    if res.stdout:
        ctx.out.stream.write(
            res.stdout if res.stdout.endswith("\n") else res.stdout + "\n"
        )
    if res.stderr:
        ctx.out.stream.write(
            res.stderr if res.stderr.endswith("\n") else res.stderr + "\n"
        )
    ctx.out.stream.flush()
    if not res.ok:
        raise UserInputError(res.describe())
