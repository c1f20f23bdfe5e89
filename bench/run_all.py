"""``make bench``: run every benchmark on this machine and write bench/RESULTS.md.

    .venv/bin/python bench/run_all.py [--quick] [--only fleet,burst,...] [--before DIR]
                                      [--out FILE]

Each benchmark starts its own throwaway clusters (tests/support/pgcluster.py) in /tmp and
removes them. Both sides of every comparison run in the same invocation, interleaved, on the
same clusters. A full run takes about 25 minutes on 2 cores; ``--quick`` (small data sets,
fewer repetitions) about 4. The figures are written with the machine description, the
command lines and bench/NOTES.md (what limits each figure, what was fixed).

``--only`` measures some sections and replaces just those in an existing RESULTS.md: the
other sections (earlier runs, or sections measured alone and spliced in by hand) are kept
as they are, each with the date it was measured. ``--before DIR`` also runs the programs of
another source tree (``git archive main | tar -x -C DIR``) where a benchmark supports it,
for before/after figures measured side by side.
A failing benchmark is reported in RESULTS.md and makes the exit status 1; the others still run.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, log, machine_info
from support.pgcluster import find_bindir


def _fleet(quick: bool, before: Path | None = None) -> str:
    import bench_fleet

    return bench_fleet.run(quick, before)


def _burst(quick: bool) -> str:
    import bench_control_burst

    return bench_control_burst.run_markdown(quick)


def _dump(quick: bool, before: Path | None = None) -> str:
    import bench_dump

    return bench_dump.run(quick, before)


def _restore(quick: bool, before: Path | None = None) -> str:
    import bench_restore

    return bench_restore.run(quick, before)


def _compression(quick: bool) -> str:
    import bench_compression

    return bench_compression.run(quick)


def _concurrency(quick: bool, before: Path | None = None) -> str:
    import bench_concurrency

    return bench_concurrency.run(quick, before)


def _offsite(quick: bool) -> str:
    import bench_offsite

    return bench_offsite.run(quick)


SECTIONS: list[tuple[str, str, Callable[..., str]]] = [
    (
        "fleet",
        "Control plane at fleet scale, and shell start-up (issue 8, items 2 and 3; issue 16, item 3)",
        _fleet,
    ),
    (
        "burst",
        "pgbackman_control: a burst of new definitions -> crontab files",
        _burst,
    ),
    (
        "dump",
        "Dump overhead: pgbackman_dump vs pg_dump -Fd + pg_dumpall --roles-only (issue 16, item 1)",
        _dump,
    ),
    (
        "restore",
        "Restore overhead: pgbackman_restore vs pg_restore (issue 16, item 1)",
        _restore,
    ),
    (
        "concurrency",
        "Fleet concurrency limits: small definitions fired at once (issue 16, item 2)",
        _concurrency,
    ),
    (
        "compression",
        "Size and time per compression method, with and without encryption (issue 19)",
        _compression,
    ),
    (
        "offsite",
        "Offsite upload of a 1 GB dump with flat memory (issue 18)",
        _offsite,
    ),
]
NOTES_TITLE = "Reading the figures"


def _marker(key: str) -> str:
    return f"<!-- section: {key} -->"


def _words(title: str) -> str:
    return " ".join(re.findall(r"[a-z_]+", title.lower())[:3])


def _split(text: str) -> tuple[str, list[tuple[str | None, str]]]:
    """(preamble, [(section key or None, text)]) of a RESULTS.md, by its ``## `` headings.
    A section is known by its marker, or (older files) by the first words of its title."""
    parts = re.split(r"(?m)^(?=## )", text)
    pre, chunks = parts[0], parts[1:]
    by_words = {_words(title): key for key, title, _fn in SECTIONS}
    out: list[tuple[str | None, str]] = []
    for chunk in chunks:
        m = re.search(r"<!-- section: (\w+) -->", chunk)
        title = chunk.splitlines()[0][3:]
        if m:
            key: str | None = m.group(1)
        elif title.startswith(NOTES_TITLE):
            key = "notes"
        else:
            key = by_words.get(_words(title))
        out.append((key, chunk))
    return pre, out


def splice(old: str, head: str, parts: dict[str, str], notes: str) -> str:
    """``old`` RESULTS.md with the sections of ``parts`` replaced (or added before the
    notes), every other section kept, the notes replaced by ``notes``."""
    pre, chunks = _split(old)
    m = re.search(
        r"^\* (?:Last run|Run): .*?, (\d{4}-\d\d-\d\d \d\d:\d\d \w+),", pre, re.M
    )
    old_run = m.group(1) if m else "an earlier run"
    kept: list[str] = []
    for key, chunk in chunks:
        if key == "notes":
            continue
        if key in parts:
            kept.append(parts.pop(key))
            continue
        if not re.search(r"(?i)measured alone|run alone|_\(measured", chunk):
            # A section of an older full run: say which one.
            chunk = re.sub(
                r"(?m)^_\((\d+ s)\)_$", rf"_(measured {old_run}, \1)_", chunk
            )
        kept.append(chunk if chunk.endswith("\n") else chunk + "\n")
    kept += [parts[k] for k, _t, _f in SECTIONS if k in parts]
    return head + "".join(kept) + ("\n" + notes if notes else "")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small data sets, fewer runs")
    p.add_argument("--only", help="comma list of: " + ", ".join(s[0] for s in SECTIONS))
    p.add_argument(
        "--before", type=Path, help="source tree of the code to compare with"
    )
    p.add_argument("--out", default=str(BENCH / "RESULTS.md"))
    a = p.parse_args()
    only = set(a.only.split(",")) if a.only else {s[0] for s in SECTIONS}
    started = time.monotonic()
    info = machine_info(find_bindir())
    parts: dict[str, str] = {}
    failed = []
    for key, title, fn in SECTIONS:
        if key not in only:
            continue
        log(f"== {key}")
        t0 = time.monotonic()
        try:
            if a.before is not None and "before" in inspect.signature(fn).parameters:
                body = fn(a.quick, before=a.before)
            else:
                body = fn(a.quick)
        except Exception as exc:  # noqa: BLE001 - report it, run the other benchmarks
            traceback.print_exc()
            failed.append(key)
            body = f"**Not measured**: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n"
        when = time.strftime("%Y-%m-%d %H:%M %Z")
        quick = ", QUICK (small data sets)" if a.quick else ""
        parts[key] = (
            f"## {title}\n{_marker(key)}\n\n{body}\n"
            f"_(measured {when}{quick}, {time.monotonic() - t0:.0f} s)_\n\n"
        )
    mode = (
        "`.venv/bin/python bench/run_all.py --quick`"
        if a.quick
        else "`make bench` (`.venv/bin/python bench/run_all.py`)"
    )
    head = (
        "# PgBackMan benchmarks\n\n"
        "Generated by bench/run_all.py; do not edit by hand (analysis: bench/NOTES.md, included "
        "below). Targets come from issues 8 and 16; they are goals for the benchmark, not "
        "timed tests. Each section says when it was measured (`--only` replaces some "
        "sections and keeps the others).\n\n"
        f"* Last run: {mode}{' --only ' + a.only if a.only else ''}, {info['date']}, "
        f"{time.monotonic() - started:.0f} s in total"
        f"{', QUICK (small data sets): not the reference figures' if a.quick else ''}\n"
        f"* Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, "
        f"Linux {info['kernel']}, Python {info['python']}, {info['postgresql']}\n"
        "* Clusters: tests/support/pgcluster.py (initdb in /tmp, `fsync = off`, "
        "`synchronous_commit = off`), on the same machine as the programs: every figure "
        "includes the server side too. The machine may be shared with other work: see the "
        "min-max spreads.\n"
        "* Times are wall-clock around whole program runs (a new process each time, "
        "Python start-up included) unless said otherwise; `n` = measured runs after a warm-up.\n\n"
    )
    notes = (
        (BENCH / "NOTES.md").read_text(encoding="utf-8")
        if (BENCH / "NOTES.md").exists()
        else ""
    )
    out = Path(a.out)
    if a.only and out.exists():
        text = splice(out.read_text(encoding="utf-8"), head, parts, notes)
    else:
        text = head + "".join(parts.values()) + ("\n" + notes if notes else "")
    out.write_text(text, encoding="utf-8")
    log(
        f"wrote {a.out} in {time.monotonic() - started:.0f} s"
        + (f"; FAILED: {failed}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
