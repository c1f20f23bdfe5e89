"""Case 20 — disk full: the node's backup partition is a small tmpfs. A dump that does not fit
fails with ENOSPC as ONE ERROR row saying so, its partial output is removed (space
reclaimed), earlier good dumps are untouched, and once space is freed the next run succeeds.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rel_helpers import RelEnv, tree

BIG_DB = "rel_bigdb"


@pytest.fixture(scope="module")
def bigdb(node1: Any) -> Iterator[str]:
    """~6 MB of compressed pg_dump output (md5 text compresses about 2:1)."""
    node1.psql(f"DROP DATABASE IF EXISTS {BIG_DB}")
    node1.psql(f"CREATE DATABASE {BIG_DB}")
    node1.psql(
        "CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS v"
        " FROM generate_series(1, 200000) g",
        dbname=BIG_DB,
    )
    yield BIG_DB
    node1.psql(f"DROP DATABASE IF EXISTS {BIG_DB} WITH (FORCE)")


@pytest.fixture
def small_fs(pgb_env: Any) -> Iterator[Path]:
    # A second disk mounted inside the backup root: partitions live only inside it.
    mnt = pgb_env.root / "small"
    mnt.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", str(mnt)],
        check=True,
    )
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


@pytest.mark.slow
def test_disk_full_gives_one_error_reclaims_space_and_next_run_succeeds(
    rel: RelEnv, bigdb: str, small_fs: Path
) -> None:
    partition = small_fs / "node"
    rel.set_node_partition(partition)
    def_id = rel.define(bigdb)
    first = rel.dump(def_id)
    assert first.returncode == 0, first.stderr
    good = rel.rows(def_id)[0]
    good_files = [
        Path(good[c])
        for c in ("pg_dump_file", "pg_dump_manifest_file", "pg_dump_roles_file")
    ]
    dumped = sum(f.stat().st_size for f in Path(good["pg_dump_file"]).iterdir())
    assert dumped > 2 * 1024 * 1024, (
        dumped
    )  # the test needs a dump that cannot fit below

    # Fill the file system so that less than half a dump fits.
    filler = small_fs / "filler"
    with open(filler, "wb") as fh:
        fh.write(b"\0" * (_free(small_fs) - dumped // 3))
    before = _free(small_fs)
    entries_before = tree(partition / "dump")

    res = rel.dump(def_id)
    assert res.returncode == 1
    rows = rel.rows(def_id)
    assert [r["execution_status"] for r in rows] == ["SUCCEEDED", "ERROR"]
    assert "No space left on device" in rows[1]["error_message"], rows[1][
        "error_message"
    ]
    assert rows[1]["pg_dump_file"] is None
    # Nothing partial left, the space is back (only the small run log remains), the good
    # dump is untouched.
    assert tree(partition / "dump") == entries_before
    assert before - _free(small_fs) < 64 * 1024
    assert all(f.exists() for f in good_files)

    # A maintenance pass after the failure deletes nothing: no retention triggered.
    res_m = rel.run("pgbackman_maintenance", "--once")
    assert res_m.returncode == 0, res_m.stderr
    assert [r["bck_id"] for r in rel.rows(def_id)] == [r["bck_id"] for r in rows]
    assert all(f.exists() for f in good_files)

    # Completely full (not even the run log can be written): still one clean ERROR row.
    filler2 = small_fs / "filler2"
    with open(filler2, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    res = rel.dump(def_id)
    assert res.returncode == 1
    rows = rel.rows(def_id)
    assert [r["execution_status"] for r in rows] == ["SUCCEEDED", "ERROR", "ERROR"], (
        res.stderr[-3000:]
    )
    assert "No space left on device" in rows[2]["error_message"], rows[2][
        "error_message"
    ]
    assert tree(partition / "dump") == entries_before

    # Space freed: the next run succeeds.
    filler.unlink()
    filler2.unlink()
    res = rel.dump(def_id)
    assert res.returncode == 0, res.stderr
    assert [r["execution_status"] for r in rel.rows(def_id)] == [
        "SUCCEEDED",
        "ERROR",
        "ERROR",
        "SUCCEEDED",
    ]
