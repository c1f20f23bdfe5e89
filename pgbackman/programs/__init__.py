"""The programs of PgBackMan: one module with a ``main(argv) -> int`` per program.

A program ``pgbackman_<name>`` is ``pgbackman.programs.<name>``; the shell ``pgbackman``
is ``pgbackman.programs.cli``. :func:`module_for` is that rule, used by ``setup.py`` (console
scripts) and ``bin/_launch.py`` (running from a checkout): adding a program is its module
here plus one small file in ``bin/``.
"""

from __future__ import annotations

SHELL = "pgbackman"


def module_for(program: str) -> str:
    """The module whose ``main()`` is ``program`` (e.g. pgbackman_dump -> ...programs.dump)."""
    if program == SHELL:
        return "pgbackman.programs.cli"
    prefix = SHELL + "_"
    if not program.startswith(prefix) or not program[len(prefix) :].isidentifier():
        raise ValueError(f"{program!r} is not the name of a PgBackMan program")
    return f"pgbackman.programs.{program[len(prefix) :]}"
