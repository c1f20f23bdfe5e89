"""Benchmark: size and time of a backup per compression method, with and without
encryption (age), on pgbench data.

    .venv/bin/python bench/bench_compression.py [--quick]

A node cluster gets one pgbench database (``pgbench -i -s 20``; ``--quick``: 2). Each case
is one backup definition run by the real ``pgbackman_dump`` (through bench/rss_wrap.py for
the Python process's own peak RSS), the cases interleaved round by round so that they see
the same machine load; the first round warms the page cache and is dropped:

* FULL (pg_dump -Fd): gzip:1, gzip:6 (the default), gzip:9, none, and gzip:6 / none
  encrypted. zstd and lz4 need pg_dump 16+: the machine's PostgreSQL is 15, so they are
  measured on CLUSTER dumps, which PgBackMan compresses in Python whatever the release;
* CLUSTER (pg_dumpall compressed in Python): gzip:1, gzip:6, zstd:1, zstd:3, zstd:9, lz4:1,
  none, and zstd:3 / gzip:6 encrypted.

Every time includes the whole run: pg_dump, the data check, the read-back check
(pg_restore of the archive; for encrypted files every file decrypted back in a stream),
fsync, manifest, catalog. Size = the files on disk. Prints Markdown on stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dump import clear, run_ours
from common import (
    BenchEnv,
    cleanup,
    fmt_mib,
    fmt_runs,
    log,
    make_base,
    median,
    run_timed,
    setup_env,
    start_cluster,
)
from pyrage import x25519

NODE_CONF = "shared_buffers = 256MB\nmax_wal_size = 4GB\ncheckpoint_timeout = 30min\n"
CASES = [
    ("FULL", "gzip:1", False),
    ("FULL", "gzip:6", False),
    ("FULL", "gzip:9", False),
    ("FULL", "none", False),
    ("FULL", "gzip:6", True),
    ("FULL", "none", True),
    ("CLUSTER", "gzip:1", False),
    ("CLUSTER", "gzip:6", False),
    ("CLUSTER", "zstd:1", False),
    ("CLUSTER", "zstd:3", False),
    ("CLUSTER", "zstd:9", False),
    ("CLUSTER", "lz4:1", False),
    ("CLUSTER", "none", False),
    ("CLUSTER", "zstd:3", True),
    ("CLUSTER", "gzip:6", True),
]


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _define(
    env: BenchEnv, node_id: int, n: int, code: str, comp: str, enc: bool
) -> int:
    rows = env.q(
        "SELECT register_backup_definition(%s, %s, %s, %s, '3', '*', '*', '*', %s, %s,"
        " '7 days', 1, '', 'ACTIVE', 'bench', %s)",
        (
            env.server_id,
            node_id,
            "bench" if code != "CLUSTER" else "",
            str(n),
            code,
            enc,
            comp,
        ),
    )
    return int(rows[0][0])


def run(quick: bool) -> str:
    scale, rounds = (2, 2) if quick else (20, 3)
    base = make_base()
    env = node = None
    try:
        env = setup_env(base)
        node = start_cluster(base, "node", NODE_CONF)
        node_id = int(
            env.q(
                "SELECT register_pgsql_node('127', '0.0.1', %s, 'postgres', 'RUNNING', 'bench node')",
                (node.port,),
            )[0][0]
        )
        env.q(
            "SELECT update_backup_server_config(%s, 'encryption_recipients', %s)",
            (env.server_id, str(x25519.Identity.generate().to_public())),
        )
        node.psql('CREATE DATABASE "bench"')
        run_timed(
            [f"{node.bindir}/pgbench", "-i", "-q", "-s", str(scale), "-h", node.host,
             "-p", str(node.port), "-U", "postgres", "bench"]
        )  # fmt: skip
        node.psql("VACUUM ANALYZE; CHECKPOINT;", dbname="bench")
        db_size = str(
            node.psql("SELECT pg_size_pretty(pg_database_size('bench'))")
        ).strip()
        partition = env.root / f"pgsql_node_{node_id}"
        defs = [(case, _define(env, node_id, i, *case)) for i, case in enumerate(CASES)]
        results: dict[tuple[str, str, bool], list[dict[str, float]]] = {
            c: [] for c in CASES
        }
        for r in range(rounds + 1):
            for case, def_id in defs:
                out = run_ours(env, env.config_path, def_id, partition, keep=True)
                (row,) = env.q(
                    "SELECT pg_dump_file, pg_dump_roles_file, pg_dump_dbconfig_file"
                    " FROM backup_catalog WHERE def_id = %s ORDER BY bck_id DESC LIMIT 1",
                    (def_id,),
                )
                size = sum(_size(Path(p)) for p in row if p)
                clear(partition / "dump")
                log(f"compression {case} round {r}: {out['s']:.2f}s, {size} bytes")
                if r:
                    results[case].append({**out, "size": size})
        lines = []
        for code, comp, enc in CASES:
            runs = results[(code, comp, enc)]
            lines.append(
                f"| {code} | {comp} | {'age' if enc else 'no'} | "
                f"{median([x['size'] for x in runs]) / 1048576:.1f} MiB | "
                f"{fmt_runs([x['s'] for x in runs])} | "
                f"{fmt_mib(max(x['self'] for x in runs))} |"
            )
        return (
            f"pgbench `-s {scale}` database `bench` ({db_size} on disk in PostgreSQL), "
            f"PostgreSQL 15 (pg_dump 15: FULL backups take gzip or none). One definition per "
            f"case, {rounds} measured rounds after a warm-up round; medians.\n\n"
            "| code | compression | encrypted | size on disk | time of the whole run | "
            "Python peak RSS |\n|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n\n"
            "CLUSTER = every database of the node (pg_dumpall; here the pgbench database "
            "and the empty `postgres`); its size is one file, compressed (and encrypted) in "
            "the Python process on its way to disk. Encryption: one X25519 recipient plus "
            "the run's ephemeral one; the time includes decrypting every file back.\n"
        )
    finally:
        cleanup(
            base, [c for c in (node, env.catalog if env else None) if c is not None]
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    print(run(p.parse_args().quick))


if __name__ == "__main__":
    main()
