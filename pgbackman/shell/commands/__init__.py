"""Shell commands, one module per noun; importing this package registers all of them.

Every submodule is imported with pkgutil, so adding a command module needs no edit here.
A module that fails to import is recorded in :data:`BROKEN` (and logged) instead of taking
the whole shell down: the other nouns stay usable and the shell warns about the rest.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

log = logging.getLogger(__name__)

BROKEN: dict[str, str] = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("_"):
        continue
    try:
        importlib.import_module(f"{__name__}.{_info.name}")
    except Exception as exc:  # isolate a broken module, report it below
        log.exception("Cannot load shell command module %s", _info.name)
        BROKEN[_info.name] = f"{type(exc).__name__}: {exc}"
