"""The documentation cannot drift from the code.

* ``docs/commands.rst`` is generated from the shell's help texts: it must equal what
  ``scripts/gen_command_reference.py`` renders now (run the script after changing a usage).
* Every program the manual talks about exists and answers ``--help`` with exit 0; every long
  option the manual shows after a program name is one the program has, and every option of a
  program is mentioned in the manual.
* The .rst files are well-formed (docutils is a test dependency: no skip).

No PostgreSQL needed; the whole module runs in about a second.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MANUAL = DOCS / "manual.rst"
GENERATOR = ROOT / "scripts" / "gen_command_reference.py"
PROGRAMS = (
    "pgbackman",
    "pgbackman_control",
    "pgbackman_dump",
    "pgbackman_restore",
    "pgbackman_maintenance",
    "pgbackman_alerts",
    "pgbackman_check",
    "pgbackman_metrics",
    "pgbackman_status_info",
    "pgbackman_zabbix_autodiscovery",
    "pgbackman_upgrade_catalog",
)
# A program name followed by the rest of its inline literal / line (up to the next program
# name: in 'runuser -u pgbackman -- /usr/bin/pgbackman_dump ...' the options are the dump's).
_PROGRAM_USE = re.compile(
    r"(?<![\w-])(pgbackman(?:_(?:control|dump|restore|maintenance|alerts|check|metrics"
    r"|status_info|zabbix_autodiscovery|upgrade_catalog))?)(?=[\s`]|$)"
    r"((?:(?!pgbackman)[^`\n])*)"
)
_LONG_OPT = re.compile(r"(?<![\w-])--[a-z][a-z-]*[a-z]")


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_command_reference", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _program_path(name: str) -> str:
    """The console script next to the running interpreter (the venv), else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    return name


@cache
def _helps() -> dict[str, tuple[int, str]]:
    """``<program> --help`` of every program, run in parallel: name -> (exit status, text)."""
    env = dict(os.environ)
    env.pop("PGBACKMAN_CONFIG", None)  # --help must not need a configuration
    procs = {
        name: subprocess.Popen(
            [_program_path(name), "--help"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for name in PROGRAMS
    }
    out = {}
    for name, proc in procs.items():
        text, _ = proc.communicate(timeout=30)
        out[name] = (proc.returncode, text)
    return out


def _manual_option_uses() -> dict[str, set[str]]:
    uses: dict[str, set[str]] = {p: set() for p in PROGRAMS}
    for m in _PROGRAM_USE.finditer(MANUAL.read_text(encoding="utf-8")):
        uses[m.group(1)].update(_LONG_OPT.findall(m.group(2)))
    return uses


def test_command_reference_is_up_to_date() -> None:
    expected = _load_generator().render()
    current = (DOCS / "commands.rst").read_text(encoding="utf-8")
    assert current == expected, (
        "docs/commands.rst is out of date: run "
        ".venv/bin/python scripts/gen_command_reference.py"
    )


def test_command_reference_covers_every_command() -> None:
    from pgbackman.shell import registry

    text = (DOCS / "commands.rst").read_text(encoding="utf-8")
    titles = set(re.findall(r"^([A-Za-z_]+)\n-+$", text, flags=re.MULTILINE))
    assert titles == set(registry.names())


def test_generator_is_deterministic() -> None:
    gen = _load_generator()
    assert gen.render() == gen.render()


def test_every_program_in_the_manual_answers_help() -> None:
    manual = MANUAL.read_text(encoding="utf-8")
    mentioned = {m.group(1) for m in _PROGRAM_USE.finditer(manual)}
    assert mentioned == set(PROGRAMS), "the manual must describe every program"
    for name, (status, text) in _helps().items():
        assert status == 0, f"{name} --help exited {status}: {text}"
        assert "usage:" in text, f"{name} --help printed no usage: {text}"


def test_options_in_the_manual_exist() -> None:
    helps = _helps()
    for name, options in _manual_option_uses().items():
        help_text = helps[name][1]
        unknown = sorted(o for o in options if o not in help_text)
        assert not unknown, (
            f"manual shows {name} options that --help does not know: {unknown}"
        )


def test_every_option_is_in_the_manual() -> None:
    manual = MANUAL.read_text(encoding="utf-8")
    for name, (_status, text) in _helps().items():
        options = set(_LONG_OPT.findall(text)) - {"--help"}
        missing = sorted(o for o in options if o not in manual)
        assert not missing, (
            f"{name} options not documented in docs/manual.rst: {missing}"
        )


@pytest.mark.parametrize(
    "name", ["manual.rst", "upstream-differences.rst", "commands.rst"]
)
def test_rst_is_well_formed(name: str) -> None:
    import docutils.core as core
    import docutils.utils as utils

    path = DOCS / name
    try:
        core.publish_doctree(
            path.read_text(encoding="utf-8"),
            source_path=str(path),
            settings_overrides={
                "halt_level": 2,
                "report_level": 2,
                "warning_stream": False,
            },
        )
    except utils.SystemMessage as exc:
        pytest.fail(f"{name} is not well-formed reStructuredText: {exc}")
