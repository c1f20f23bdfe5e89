"""Manual pages and bash completion: a page for the shell (1), every program (8) and the
configuration file (5), built from docs/man with docutils and rendered by ``man -l``; every
option a program has is in its page and offered by the completion.

No PostgreSQL needed. ``man`` (man-db) is a system requirement of the test-suite
(scripts/install-system-deps.sh): missing, the test fails rather than skips.
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
COMPLETION = ROOT / "etc" / "bash-completion" / "pgbackman"


@cache
def builder() -> ModuleType:
    path = ROOT / "scripts" / "build_manpages.py"
    spec = importlib.util.spec_from_file_location("build_manpages", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    built = builder().build_pages(tmp_path_factory.mktemp("man"))
    return {p.name: p for p in built}


def render(page: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    return subprocess.run(
        ["man", "-l", str(page)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@cache
def options(program: str) -> list[str]:
    """The options ``<program> --help`` lists."""
    exe = Path(sys.executable).parent / program
    env = {k: v for k, v in os.environ.items() if k != "PGBACKMAN_CONFIG"}
    res = subprocess.run(
        [str(exe), "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert res.returncode == 0, res.stderr
    listing = res.stdout.split("options:", 1)[1]
    return sorted(set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", listing)))


def test_a_page_for_the_shell_every_program_and_the_configuration(
    pages: dict[str, Path],
) -> None:
    programs = builder().programs()
    assert "pgbackman" in programs and len(programs) >= 10
    expected = {"pgbackman.1", "pgbackman.conf.5"} | {
        f"{p}.8" for p in programs if p != "pgbackman"
    }
    assert set(pages) == expected


def test_man_renders_every_page(pages: dict[str, Path]) -> None:
    for name, page in sorted(pages.items()):
        res = render(page)
        assert res.returncode == 0, (name, res.stderr)
        assert res.stderr == "", (name, res.stderr)  # no troff warnings
        title = name.rsplit(".", 1)[0]
        text = res.stdout
        assert f"{title}({name.rsplit('.', 1)[1]})" in text.splitlines()[0], name
        for heading in ("SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
            assert f"\n{heading}\n" in text, (name, heading)


def test_every_option_is_in_its_page(pages: dict[str, Path]) -> None:
    for program in builder().programs():
        section = "1" if program == "pgbackman" else "8"
        text = render(pages[f"{program}.{section}"]).stdout
        text = re.sub(r"\u2010\s*\n\s*", "", text)  # words hyphenated at line ends
        for option in options(program):
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), (
                program,
                option,
            )


def test_the_shell_page_and_help_point_at_each_other(pages: dict[str, Path]) -> None:
    text = render(pages["pgbackman.1"]).stdout
    assert "help command" in " ".join(text.split())
    res = subprocess.run(
        [str(Path(sys.executable).parent / "pgbackman"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    flat = " ".join(res.stdout.split())
    assert "type help (or \\?)" in flat and "man pgbackman" in flat


def test_configuration_page_has_every_key_of_the_sample(
    pages: dict[str, Path],
) -> None:
    text = render(pages["pgbackman.conf.5"]).stdout
    sample = (ROOT / "etc" / "pgbackman.conf").read_text(encoding="utf-8")
    sections = re.findall(r"^\[(\w+)\]$", sample, re.MULTILINE)
    keys = re.findall(r"^(\w+) =", sample, re.MULTILINE)
    assert len(sections) >= 7 and len(keys) >= 30
    for word in [f"[{s}]" for s in sections] + keys:
        assert word in text, word
    assert "See the manual." not in text  # every key is described


def complete(words: list[str]) -> list[str]:
    """What the completion offers for the last of ``words`` (bash, the script sourced)."""
    script = (
        f"source {COMPLETION}\n"
        'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n'
        "_pgbackman_programs\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    res = subprocess.run(
        ["bash", "-c", script, "complete", *words],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return sorted(w for w in res.stdout.splitlines() if w)


def test_bash_completion_offers_every_option_of_every_program() -> None:
    for program in builder().programs():
        assert complete([program, "-"]) == options(program), program
        assert complete([f"/usr/bin/{program}", "--con"]) == ["--config"]
    assert complete(["pgbackman", "-o", ""]) == ["csv", "json", "table"]
    assert complete(["pgbackman_check", "--output", "j"]) == ["json"]
    assert complete(["pgbackman_status_info", "-p", "backup_"]) == [
        "backup_last_status",
        "backup_stale",
    ]
    assert complete(["pgbackman", "--config", str(COMPLETION.parent) + "/pgb"]) == [
        str(COMPLETION)
    ]
    # The file is installed under every program's name.
    text = COMPLETION.read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith("complete -F"))
    assert set(line.split()[3:]) == set(builder().programs())
