#!/usr/bin/env python3
"""Build what the package installs under share/ besides the programs: the manual pages,
from ``docs/man/<name>.<section>.rst`` with docutils' manpage writer (what ``rst2man`` runs),
and the bash completion file of every program in ``bin/``.

``setup.py`` calls :func:`data_files` (docutils is a build requirement, pyproject.toml), and
the tests call :func:`build_pages` to render every page with ``man -l``. The FILE FORMAT
section of ``pgbackman.conf(5)`` is generated from the commented sample ``etc/pgbackman.conf``,
so the page and the sample cannot drift apart.

Usage::

    python scripts/build_manpages.py [OUT_DIR]     # default: build/share
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "docs" / "man"
SAMPLE_CONF = ROOT / "etc" / "pgbackman.conf"
COMPLETION = ROOT / "etc" / "bash-completion" / "pgbackman"
CONF_MARKER = ".. the sections of etc/pgbackman.conf"
_NAME = re.compile(r"^(?P<name>[\w.-]+)\.(?P<section>[1-8])\.rst$")


def programs() -> list[str]:
    """Every program the package installs (one launcher each in bin/)."""
    return sorted(
        p.name for p in (ROOT / "bin").iterdir() if not p.name.startswith("_")
    )


def sources() -> list[tuple[Path, str, str]]:
    """(rst file, page name, section) of every manual page."""
    out = []
    for src in sorted(PAGES.glob("*.rst")):
        m = _NAME.match(src.name)
        if m:
            out.append((src, m["name"], m["section"]))
    return out


def conf_sections(sample: Path = SAMPLE_CONF) -> str:
    """The sample configuration as reStructuredText: every section, key, default and the
    comment above it."""
    lines: list[str] = []
    comment: list[str] = []
    for raw in sample.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith(";"):
            comment.append(line.lstrip(";").strip())
        elif line.startswith("[") and line.endswith("]"):
            title = line
            lines += ["", title, "~" * len(title), ""]
            comment = []
        elif "=" in line:
            key, _, value = (part.strip() for part in line.partition("="))
            default = f"``{value}``" if value else "empty"
            lines.append(f"``{key}`` (default: {default})")
            text = " ".join(comment) or "See the manual."
            lines += ["    " + _escape(text), ""]
            comment = []
        elif not line:
            # A comment block separated from the keys by a blank line describes the file
            # or the section, not a key.
            comment = [] if lines else comment
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    # Plain comment text must not turn into reST markup (``*`` or a trailing ``_``).
    return re.sub(r"([*`|_\\])", r"\\\1", text)


def version() -> str:
    text = (ROOT / "pgbackman" / "version.py").read_text(encoding="utf-8")
    m = re.search(r'^SOFTWARE_VERSION = "([^"]+)"', text, re.MULTILINE)
    if m is None:
        raise SystemExit("pgbackman/version.py: no SOFTWARE_VERSION")
    return m.group(1)


def rst_source(src: Path) -> str:
    text = src.read_text(encoding="utf-8")
    if CONF_MARKER in text:
        text = text.replace(CONF_MARKER, conf_sections())
    return text + f"\n.. |version| replace:: {version()}\n"


def build_pages(out_dir: Path) -> list[Path]:
    """Render every page into ``out_dir/man<section>/<name>.<section>``; docutils warnings
    are errors (a page that renders badly is not installed)."""
    from docutils.core import publish_string
    from docutils.writers import manpage

    built = []
    for src, name, section in sources():
        roff = publish_string(
            rst_source(src),
            source_path=str(src),
            writer=manpage.Writer(),
            settings_overrides={
                "halt_level": 2,
                "report_level": 2,
                "output_encoding": "utf-8",
            },
        )
        target = out_dir / f"man{section}" / f"{name}.{section}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(roff if isinstance(roff, bytes) else roff.encode())
        built.append(target)
    return built


def build_completions(out_dir: Path) -> list[Path]:
    """One copy of the completion file per program name (bash-completion loads
    ``completions/<command>`` when the command is first completed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for name in programs():
        target = out_dir / name
        shutil.copyfile(COMPLETION, target)
        built.append(target)
    return built


def data_files(out: Path = ROOT / "build" / "share") -> list[tuple[str, list[str]]]:
    """setup.py ``data_files`` entries: the pages under share/man, the completions under
    share/bash-completion/completions (paths relative to the checkout)."""
    entries: dict[str, list[str]] = {}
    for path in build_pages(out / "man"):
        entries.setdefault(f"share/man/{path.parent.name}", []).append(
            str(path.relative_to(ROOT))
        )
    entries["share/bash-completion/completions"] = [
        str(p.relative_to(ROOT))
        for p in build_completions(out / "bash-completion" / "completions")
    ]
    return sorted(entries.items())


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve() if argv else ROOT / "build" / "share"
    for path in build_pages(out / "man"):
        print(path)
    for path in build_completions(out / "bash-completion" / "completions"):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
