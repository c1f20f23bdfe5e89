"""``pgbackman``: the PgBackMan shell (interactive, ``-C "command"``, or a script on stdin).

Exit status: 0 success, 1 failure (a command failed, catalog unreachable, schema version
mismatch), 2 bad usage.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import signal
import sys

from pgbackman.catalog.connection import Catalog
from pgbackman.catalog.schema import check_version
from pgbackman.config import Config
from pgbackman.errors import (
    CatalogUnavailableError,
    PgBackManError,
    exit_code_for,
)
from pgbackman.log import setup_logging
from pgbackman.programs.frame import ProgramArgumentParser, run_main
from pgbackman.shell.app import Shell, history_path
from pgbackman.shell.context import ShellContext
from pgbackman.shell.render import FORMATS, Output
from pgbackman.version import SOFTWARE_VERSION

log = logging.getLogger(__name__)


def build_parser() -> ProgramArgumentParser:
    p = ProgramArgumentParser(
        prog="pgbackman",
        description="PgBackMan shell: manage backup servers, PgSQL nodes, backup definitions, "
        "snapshots, restores and the backup catalog.",
        epilog="Inside the shell, type help (or \\?) for the list of commands and "
        "help <command> for one command's parameters, defaults and examples. The "
        "manual: man pgbackman (and pgbackman_<program>(8), pgbackman.conf(5)).",
    )
    p.add_argument(
        "-o",
        "--output",
        choices=FORMATS,
        help="output format (default: config "
        "[output] default_output_format, else table)",
    )
    p.add_argument(
        "-C",
        "--command",
        metavar="COMMAND_LINE",
        help="run one shell command and exit (0 = success, 1 = error)",
    )
    p.add_config_option()
    p.add_argument(
        "--version", action="version", version=f"pgbackman {SOFTWARE_VERSION}"
    )
    return p


def _setup_logging(cfg: Config) -> None:
    """Log to the configured file (created 0640 like every program's, whatever the umask);
    the shell never mixes log lines into its output, so an unusable log file means no log."""
    setup_logging(cfg, "pgbackman_cli", fallback_to_stderr=False)


def install_interrupt_handler() -> None:
    """Ctrl-C raises KeyboardInterrupt, whatever the shell inherited.

    Python installs its KeyboardInterrupt handler only when SIGINT is at its default
    disposition; a shell started from a background job, ``nohup`` or a service inherits
    SIGINT *ignored* and Ctrl-C would then do nothing at all (not clear the line, not
    abort a prompt). The shell owns its Ctrl-C semantics, so it sets them itself.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    install_interrupt_handler()
    return run_main(
        "pgbackman",
        argv,
        build_parser().parse_args,
        _shell,
        error_prefix="[ERROR]: ",
    )


def _shell(cfg: Config, args: argparse.Namespace) -> int:
    _setup_logging(cfg)

    # Undecodable input bytes reach the shell as surrogates and are refused with a one-line
    # error per command, instead of a UnicodeDecodeError ending a script half-way.
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="surrogateescape")
    tty = sys.stdin.isatty()
    interactive = args.command is None and tty
    out = Output(
        args.output or cfg.output.default_output_format, interactive=interactive
    )
    cat = Catalog(cfg.database, application_name="pgbackman_cli")
    ctx = ShellContext(cfg, cat, out, interactive=interactive)
    shell = Shell(ctx)
    _warn_broken_commands()
    try:
        # Every mode refuses to write to a catalog of another schema version. With the
        # catalog down, only the interactive shell stops here: `-C help` still works and a
        # command that needs the catalog reports the outage itself.
        try:
            check_version(cat)
        except CatalogUnavailableError as exc:
            if interactive:
                out.error(str(exc))
                return exit_code_for(exc)
        except PgBackManError as exc:
            # Interactive start with an older catalog: upstream's upgrade offer.
            offered = _offer_upgrade(ctx) if interactive else None
            if offered is None:
                out.error(str(exc))
                return exit_code_for(exc)
            if not offered:
                return 1
        if args.command is not None:
            return shell.run_one(args.command)
        if not tty:
            return shell.run_script(sys.stdin)
        return shell.run_interactive(history_path(cfg.output.history_file))
    except KeyboardInterrupt:
        return 1
    except BrokenPipeError:
        # Output piped into head(1) and closed early: not an error worth a traceback.
        _silence_stdout()
        return 1
    finally:
        cat.close()


def _offer_upgrade(ctx: ShellContext) -> bool | None:
    """Offer the upgrade when this software can do it: None when not offered (the caller
    reports the version problem), else whether the catalog is now usable (the offer printed
    its own messages)."""
    from pgbackman.catalog.schema import installed_version, version_problem
    from pgbackman.shell.upgrade import can_offer, offer_upgrade

    try:
        current = installed_version(ctx.cat)
    except PgBackManError:
        return None
    if not can_offer(current):
        return None
    if not offer_upgrade(ctx, current):
        return False
    problem = version_problem(installed_version(ctx.cat))
    if problem is not None:
        ctx.out.error(problem)
        return False
    return True


def _warn_broken_commands() -> None:
    """A command module that failed to load: say so on stderr, keep the rest usable."""
    from pgbackman.shell import registry
    from pgbackman.shell.commands import BROKEN

    registry.names()  # loads the command modules
    for module, reason in sorted(BROKEN.items()):
        print(
            f"[WARNING]: shell commands in module {module} unavailable: {reason}",
            file=sys.stderr,
        )


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
