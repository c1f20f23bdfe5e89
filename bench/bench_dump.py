"""Benchmark: pgbackman_dump of a FULL definition vs bare pg_dump -Fd + pg_dumpall --roles-only.

    .venv/bin/python bench/bench_dump.py [--quick]

A node cluster gets pgbench databases (``pgbench -i -s 10``, ``-s 50`` and ``-s 200``;
``--quick``: 2 and 5) plus 500 small tables each. For each database and each of ``-j 1`` / ``-j 2`` the sides
run interleaved (ours, bare, ours, bare, ...) so that they see the same machine load:

* ours: ``pgbackman_dump --def-id N`` (the console script's code, run through
  bench/rss_wrap.py to read the Python process's own peak RSS apart from pg_dump's);
* ours without the read-back check (``[pgbackman_dump] read_back_check = false``);
* bare: ``pg_dump -Fd -f DIR DB`` then ``pg_dumpall --roles-only -f FILE`` (the same libpq
  connection settings; pg_dump's default compression and fsync, like ours).

Prints Markdown on stdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH,
    BenchEnv,
    VENV_BIN,
    cleanup,
    cmdline,
    fmt_mib,
    fmt_runs,
    log,
    make_base,
    median,
    run_timed,
    time_v,
    time_v_kib,
    setup_env,
    start_cluster,
)
from support.pgcluster import PgCluster

SMALL_TABLES = 500
NODE_CONF = "shared_buffers = 256MB\nmax_wal_size = 4GB\ncheckpoint_timeout = 30min\n"


def make_database(node: PgCluster, dbname: str, scale: int) -> str:
    """pgbench tables at ``scale`` + SMALL_TABLES tables of 20 rows; returns its size."""
    node.psql(f'CREATE DATABASE "{dbname}"')
    run_timed(
        [
            f"{node.bindir}/pgbench",
            "-i",
            "-q",
            "-s",
            str(scale),
            "-h",
            node.host,
            "-p",
            str(node.port),
            "-U",
            "postgres",
            dbname,
        ],
    )
    node.psql(
        f"""
        DO $$
        BEGIN
          FOR i IN 1..{SMALL_TABLES} LOOP
            EXECUTE format('CREATE TABLE small_%s (id int PRIMARY KEY, name text, created timestamptz)', i);
            EXECUTE format('INSERT INTO small_%s SELECT g, md5(g::text), now() FROM generate_series(1, 20) g', i);
          END LOOP;
        END $$;
        VACUUM ANALYZE;
        """,
        dbname=dbname,
    )
    node.psql(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_owner') THEN
            CREATE ROLE app_owner LOGIN; CREATE ROLE app_ro;
          END IF;
        END $$;
        ALTER DATABASE "{dbname}" OWNER TO app_owner;
        ALTER DATABASE "{dbname}" SET work_mem = '8MB';
        CHECKPOINT;
        """
    )
    return str(
        node.psql(f"SELECT pg_size_pretty(pg_database_size('{dbname}'))")
    ).strip()


def define(env: BenchEnv, node_id: int, dbname: str, extra: str) -> int:
    rows = env.q(
        "SELECT register_backup_definition(%s, %s, %s, '0', '3', '*', '*', '*', 'FULL', false,"
        " '7 days', 1, %s, 'ACTIVE', 'bench')",
        (env.server_id, node_id, dbname, extra),
    )
    return int(rows[0][0])


def clear(path: Path) -> None:
    """Remove what a run wrote (keeps disk use and page cache comparable between runs)."""
    if path.exists():
        for child in path.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()


def run_ours(
    env: BenchEnv, cfg: Path, def_id: int, partition: Path, keep: bool = False
) -> dict[str, Any]:
    """One pgbackman_dump run (its files are removed unless ``keep``)."""
    out = env.base / "rss.json"
    argv = [
        str(VENV_BIN / "python"),
        str(BENCH / "rss_wrap.py"),
        str(out),
        "pgbackman.programs.dump",
        "--def-id",
        str(def_id),
        "--config",
        str(cfg),
    ]
    r = run_timed(argv, env.env)
    data = json.loads(out.read_text())
    got = env.q(
        "SELECT execution_status, error_message FROM backup_catalog WHERE def_id = %s"
        " ORDER BY bck_id DESC LIMIT 1",
        (def_id,),
    )
    if not got or got[0][0] != "SUCCEEDED":
        raise RuntimeError(f"pgbackman_dump --def-id {def_id}: {got}")
    if not keep:
        clear(partition / "dump")
    return {
        "s": r.seconds,
        "self": data["self_maxrss_kib"],
        "child": data["children_maxrss_kib"],
    }


def bare_argvs(
    node: PgCluster, dbname: str, outdir: Path, jobs: int
) -> list[list[str]]:
    conn = ["-h", node.host, "-p", str(node.port), "-U", "postgres", "--no-password"]
    j = ["-j", str(jobs)] if jobs > 1 else []
    return [
        [
            f"{node.bindir}/pg_dump",
            *conn,
            "-Fd",
            *j,
            "-f",
            str(outdir / "db.dump"),
            dbname,
        ],
        [
            f"{node.bindir}/pg_dumpall",
            *conn,
            "--roles-only",
            "-f",
            str(outdir / "roles.sql"),
        ],
    ]


def run_bare(node: PgCluster, dbname: str, outdir: Path, jobs: int) -> dict[str, Any]:
    outdir.mkdir(exist_ok=True)
    total, peak = 0.0, 0
    for argv in bare_argvs(node, dbname, outdir, jobs):
        r = run_timed(time_v(argv))
        total += r.seconds
        peak = max(peak, time_v_kib(r))
    clear(outdir)
    return {"s": total, "child": peak}


def run(quick: bool) -> str:
    # (scale, measured rounds): memory is compared between the sizes; the largest one gives
    # the ratio least dominated by the fixed cost of a run (start-up, catalog, globals).
    plan = ((2, 3), (5, 3)) if quick else ((10, 3), (50, 5), (200, 3))
    scales = tuple(s for s, _ in plan)
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
        partition = env.root / f"pgsql_node_{node_id}"
        cfg_nocheck = base / "nocheck.conf"
        cfg_nocheck.write_text(
            env.config_path.read_text().replace(
                "[pgbackman_dump]\n", "[pgbackman_dump]\nread_back_check = false\n"
            )
        )
        rows: list[str] = []
        cmds: list[str] = []
        mem: list[str] = []
        for scale, n in plan:
            db = f"pgbench_s{scale}"
            log(f"dump: creating {db}")
            size = make_database(node, db, scale)
            for jobs in (1, 2):
                extra = "" if jobs == 1 else f"-j {jobs}"
                def_id = define(env, node_id, db, extra)
                ours, ours_nc, bare = [], [], []
                for i in range(
                    n + 1
                ):  # the first round warms the page cache and is dropped
                    o = run_ours(env, env.config_path, def_id, partition)
                    b = run_bare(node, db, base / "bare", jobs)
                    c = run_ours(env, cfg_nocheck, def_id, partition)
                    log(
                        f"dump s{scale} j{jobs} round {i}: ours {o['s']:.2f}s, no-check {c['s']:.2f}s,"
                        f" bare {b['s']:.2f}s; python {o['self'] / 1024:.0f} MiB"
                    )
                    if i:
                        ours.append(o)
                        bare.append(b)
                        ours_nc.append(c)
                mo = median([x["s"] for x in ours])
                mc = median([x["s"] for x in ours_nc])
                mb = median([x["s"] for x in bare])
                label = f"-s {scale} ({size}, +{SMALL_TABLES} tables), -j {jobs}"
                rows.append(
                    f"| {label} | {fmt_runs([x['s'] for x in bare])} | {fmt_runs([x['s'] for x in ours])} | "
                    f"**{mo / mb:.2f}** | {fmt_runs([x['s'] for x in ours_nc])} | **{mc / mb:.2f}** |"
                )
                mem.append(
                    f"| {label} | {fmt_mib(max(x['self'] for x in ours + ours_nc))} | "
                    f"{fmt_mib(max(x['child'] for x in bare))} |"
                )
                if scale == scales[-1]:
                    cmds.append(f"# -j {jobs}: extra_backup_parameters '{extra}'")
                    cmds.append(
                        cmdline(
                            [
                                "pgbackman_dump",
                                "--def-id",
                                str(def_id),
                                "--config",
                                "<tmp>/pgbackman.conf",
                            ]
                        )
                    )
                    cmds += [
                        cmdline(a)
                        for a in bare_argvs(node, db, Path("<tmp>/bare"), jobs)
                    ]
        body = (
            "Wall time of one backup: medians of n interleaved rounds (ours, bare, ours without "
            "the check) after one warm-up round (page cache warm for both sides).\n\n"
            "| database | bare pg_dump -Fd + pg_dumpall --roles-only | pgbackman_dump FULL | ratio "
            "(target <= 1.05) | pgbackman_dump, read_back_check = false | ratio |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
            "Peak RSS (max over the runs). pgbackman_dump = the Python process itself "
            "(VmHWM read by bench/rss_wrap.py at exit, its children excluded); pg_dump = "
            "the larger of pg_dump / pg_dumpall in the bare runs, measured by /usr/bin/time "
            "(the same binaries pgbackman_dump runs, with the same arguments but the output "
            "directory).\n\n"
            "| database | pgbackman_dump (Python) | pg_dump / pg_dumpall |\n"
            "|---|---|---|\n" + "\n".join(mem) + "\n\n"
            "Command lines (largest database):\n\n```\n" + "\n".join(cmds) + "\n```\n"
        )
        return body
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
