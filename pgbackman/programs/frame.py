"""The frame every program's ``main()`` runs in: one argument parser, the configuration,
and the one way an error becomes a message and an exit status.

* :class:`ProgramArgumentParser` is the command-line parser of every program. A usage error
  is a :class:`~pgbackman.errors.UsageError` (exit status 2 through
  ``errors.exit_code_for``) shown as one line, ``<program>: error: <what is wrong> (see
  <program> --help)``; argparse itself would print the whole usage text and call
  ``sys.exit`` from wherever it is. ``--help`` and ``--version`` print and exit 0.
* :func:`run_main` parses, loads the configuration and runs the program's body; a
  ``PgBackManError`` escaping the body is logged (once logging is set up) and printed as
  one line on stderr, and its exit status returned.

A program::

    def parse_args(argv: list[str] | None) -> argparse.Namespace:
        p = ProgramArgumentParser(prog=PROGRAM, description="...")
        p.add_config_option()
        p.add_argument("--def-id", type=int, metavar="N")
        ns = p.parse_args(argv)
        p.require_positive(ns, "def_id")
        return ns

    def main(argv: list[str] | None = None) -> int:
        return run_main(PROGRAM, argv, parse_args, _body)
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from pgbackman.config import Config
from pgbackman.errors import PgBackManError, UsageError, exit_code_for
from pgbackman.core.text import printable


class ProgramArgumentParser(argparse.ArgumentParser):
    """argparse whose errors raise UsageError; see the module docstring."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")

    def add_config_option(self) -> None:
        """``--config FILE``, which every program has (lookup order: config.py)."""
        self.add_argument("--config", metavar="FILE", help="configuration file")

    def require_positive(self, ns: argparse.Namespace, *names: str) -> None:
        """Refuse ids that are given but are not positive integers."""
        for name in names:
            value = getattr(ns, name)
            if value is not None and value <= 0:
                self.error(f"--{name.replace('_', '-')} must be a positive integer")


def run_main(
    program: str,
    argv: list[str] | None,
    parse: Callable[[list[str] | None], argparse.Namespace],
    body: Callable[[Config, argparse.Namespace], int],
    *,
    error_prefix: str | Callable[[argparse.Namespace], str] | None = None,
    log_level: int = logging.ERROR,
) -> int:
    """Parse ``argv``, load the configuration (``--config``), return ``body(cfg, ns)``.

    A usage error prints one line and returns 2. A PgBackManError from the configuration
    or the body prints ``<error_prefix><message>`` (default ``"<program>: "``; a callable
    gets the parsed arguments, e.g. to name the job) as one line on stderr, is logged at ``log_level`` when logging is set up (never to stderr a second time
    through logging's last-resort handler), and returns its exit status.
    """
    try:
        ns = parse(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return exit_code_for(exc)
    try:
        return body(Config.load(ns.config), ns)
    except PgBackManError as exc:
        if logging.getLogger().handlers:
            logging.getLogger(program).log(log_level, "%s", exc)
        if error_prefix is None:
            prefix = f"{program}: "
        elif callable(error_prefix):
            prefix = error_prefix(ns)
        else:
            prefix = error_prefix
        print(printable(" ".join(f"{prefix}{exc}".split("\n"))), file=sys.stderr)
        return exit_code_for(exc)
