"""Runs a PgBackMan program from a checkout: ``bin/<program>`` is named after the program.

The checkout's ``pgbackman`` package comes first on ``sys.path``, so ``bin/pgbackman_dump``
runs the code next to it (with any Python that has the dependencies, e.g. ``.venv/bin/python
bin/pgbackman_dump --help``). Installed systems use the console scripts of ``setup.py``,
which follow the same naming rule (:func:`pgbackman.programs.module_for`).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main() -> None:
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pgbackman" / "__init__.py").is_file():
        sys.path.insert(0, str(checkout))
    from pgbackman.programs import module_for

    program = Path(sys.argv[0]).name
    sys.exit(importlib.import_module(module_for(program)).main())
