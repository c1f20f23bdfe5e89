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


@command(
    "help",
    nargs=(0, 1),
    usage="""
    help [command|topic]

    Without a parameter: lists every command and help topic.
    With a command name: shows its parameters, defaults and examples.
    Topics: shortcuts, support.
    """,
    readonly=True,
)
def help_(ctx: ShellContext, args: list[str]) -> None:
    if not args:
        ctx.out.info(_topics_listing())
        return
    topic = args[0]
    if topic in HELP_TOPICS:
        ctx.out.info(HELP_TOPICS[topic])
        return
    found = registry.get(topic)
    if found is None:
        raise UserInputError(f"No help on [{topic}]: unknown command or topic")
    ctx.out.info("")
    ctx.out.info(found.usage or found.name)
    ctx.out.info("")


@command(
    "quit",
    nargs=(0,),
    usage="""
    quit

    Quits/terminates the PgBackMan shell (also \\q and Ctrl-D).
    """,
    readonly=True,
)
def quit_(ctx: ShellContext, args: list[str]) -> None:
    ctx.out.info("Done, thank you for using PgBackMan")
    raise ShellExit()


@command(
    "EOF",
    nargs=(0,),
    usage="""
    EOF

    Ctrl-D at the prompt: quits the PgBackMan shell.
    """,
    readonly=True,
)
def eof(ctx: ShellContext, args: list[str]) -> None:
    quit_(ctx, args)


@command(
    "set",
    nargs=(1,),
    usage="""
    set [parameter=value]

    Sets a parameter of this shell session. Parameters:

    * output_format=table|csv|json  (empty value = table)

    Example:
      [pgbackman]$ set output_format=json
      [Done] Output format changed to [json]
    """,
    readonly=False,
)
def set_(ctx: ShellContext, args: list[str]) -> None:
    text = args[0] if args else ctx.prompt("Parameter=value")
    parameter, sep, value = text.partition("=")
    if not sep or parameter.strip() != "output_format":
        raise UserInputError(
            f"[{text}] is not a valid parameter; use output_format=table|csv|json"
        )
    ctx.out.format = validate.output_format(value)
    ctx.out.done(f"Output format changed to [{ctx.out.format}]")


@command(
    "show_history",
    nargs=(0,),
    usage="""
    show_history

    Shows the commands run in this session, numbered (also \\s).
    """,
)
def show_history(ctx: ShellContext, args: list[str]) -> None:
    for n, line in enumerate(ctx.history, start=1):
        ctx.out.info(f"[{n}]: {line}")


@command(
    "clear",
    nargs=(0,),
    usage="""
    clear

    Clears the screen and shows the welcome banner.
    """,
    readonly=True,
)
def clear(ctx: ShellContext, args: list[str]) -> None:
    from pgbackman.shell.app import banner

    # ANSI "cursor home + erase screen": no need to start the clear(1) program.
    ctx.out.stream.write("\x1b[H\x1b[2J")
    ctx.out.info(banner())


@command(
    "shell",
    nargs=tuple(range(1, 256)),
    usage="""
    shell [command] [arguments ...]

    Runs a program and prints its output (also \\! command). The words are split like a
    shell would split them, but no shell runs: pipes, redirections and $variables are not
    interpreted.

    Example:
      [pgbackman]$ \\! ls -l /srv/pgbackman
    """,
    readonly=False,
)
def shell(ctx: ShellContext, args: list[str]) -> None:
    argv = args or shlex.split(ctx.prompt("Command"))
    if not argv:
        raise UserInputError("No command given")
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
