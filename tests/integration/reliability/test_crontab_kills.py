"""Case 11 — atomic crontab install under SIGKILL: pgbackman_control regenerates a node's
cron.d file again and again (a definition toggled between ACTIVE and STOPPED before each run)
and is killed at random moments. After every kill the file is the complete old or the
complete new content (never empty, never cut, mode 0644); after a restart the dot-temp files
left by killed runs are swept.
"""

from __future__ import annotations

import pytest

import random
import signal
import stat
import time
from pathlib import Path

from rel_helpers import RelEnv

from pgbackman.core.cron import parse_job_lines, same_content

KILLS = 50


def _toggle(rel: RelEnv, def_id: int, status: str) -> None:
    rel.pgb.su_query(
        "UPDATE backup_definition SET job_status = %s WHERE def_id = %s",
        (status, def_id),
    )


def _once(rel: RelEnv) -> None:
    res = rel.run("pgbackman_control", "--once", timeout=60)
    assert res.returncode == 0, res.stderr


def _check(path: Path, refs: list[str]) -> None:
    text = path.read_text()
    assert text.endswith("\n") and text.startswith(f"# File: {path}\n"), repr(
        text[-200:]
    )
    assert any(same_content(text, r) for r in refs), text
    assert len(parse_job_lines(text)) in {len(parse_job_lines(r)) for r in refs}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.slow
def test_kill_9_during_regenerations_never_leaves_a_partial_crontab(
    rel: RelEnv,
) -> None:
    defs = [
        rel.define(db, code)
        for db, code in (("app1", "FULL"), ("app2", "FULL"), ("app1", "SCHEMA"))
    ]
    path = rel.pgb.cron_dir / f"pgsql_node_{rel.node_id}"
    refs = []
    for status in ("STOPPED", "ACTIVE"):
        _toggle(rel, defs[0], status)
        t0 = time.monotonic()
        _once(rel)
        duration = time.monotonic() - t0
        refs.append(path.read_text())
    assert len(parse_job_lines(refs[0])) == 2 and len(parse_job_lines(refs[1])) == 3

    rng = random.Random(11)
    status = "ACTIVE"
    killed_mid_run = 0
    for _ in range(KILLS):
        status = "STOPPED" if status == "ACTIVE" else "ACTIVE"
        _toggle(rel, defs[0], status)
        proc = rel.popen("pgbackman_control", "--once")
        time.sleep(rng.uniform(0.2, 0.9) * duration)
        if proc.poll() is None:
            killed_mid_run += 1
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        _check(path, refs)
    assert (
        killed_mid_run >= KILLS // 5
    )  # most kills hit running regenerations (load-dependent)

    # Restart: stale temp files (older than the sweep's 2 s guard) are removed, and the
    # file matches the catalog again.
    stray = path.parent / f".{path.name}.abcd1234.tmp"
    stray.write_text("# File: half written")
    other = path.parent / ".someone-else.tmp"
    other.write_text("not ours")
    time.sleep(2.1)
    _once(rel)
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == [
        other.name
    ]
    assert not [
        p for p in (rel.pgb.root / "cache_dir").iterdir() if p.name.endswith(".tmp")
    ]
    _check(path, refs)
    assert same_content(path.read_text(), refs[1 if status == "ACTIVE" else 0])
