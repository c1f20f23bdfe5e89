"""Benchmark: pgbackman_dump of a FULL definition vs bare pg_dump -Fd + pg_dumpall --roles-only.

    .venv/bin/python bench/bench_dump.py [--quick] [--before DIR]

A node cluster gets pgbench databases: ``-s 10`` alone, and ``-s 10``, ``-s 50`` and
``-s 200`` with 500 small tables each (``--quick``: 2 and 5). For each database and each of
``-j 1`` / ``-j 2`` the sides run interleaved, round by round, so that they see the same
machine load; the first round warms the page cache and is dropped:

* ours: ``pgbackman_dump --def-id N`` (the console script's code, run through
  bench/rss_wrap.py to read the Python process's own peak RSS apart from pg_dump's), with
  the read-back check (the default);
* bare: ``pg_dump -Fd -f DIR DB`` then ``pg_dumpall --roles-only -f FILE`` (the same libpq
  connection settings; pg_dump's default compression and its own fsync);
* ours without the read-back check (``[pgbackman_dump] read_back_check = false``);
* with ``--before DIR``: the pgbackman_dump of another source tree (``git archive main |
  tar -x -C DIR``) on the same definitions, for before/after figures in one run.

Targets (issue 16): at most 1.05 x bare at -s 50 and -s 200, 1.10 x at -s 10, with the
read-back check on. Prints Markdown on stdout.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    main_with_before,
    BENCH,
    REPO,
    BenchEnv,
    VENV_BIN,
    cleanup,
    cmdline,
    compile_sources,
    fmt_mib,
    fmt_runs,
    log,
    make_base,
    median,
    run_timed,
    config_for,
    source_env,
    time_v,
    time_v_kib,
    setup_env,
    start_cluster,
)
from support.pgcluster import PgCluster

SMALL_TABLES = 500
NODE_CONF = "shared_buffers = 256MB\nmax_wal_size = 4GB\ncheckpoint_timeout = 30min\n"
# (pgbench scale, small tables, measured rounds)
PLAN = (
    (10, 0, 5),
    (10, SMALL_TABLES, 5),
    (50, SMALL_TABLES, 5),
    (200, SMALL_TABLES, 3),
)
QUICK_PLAN = ((2, 0, 3), (2, SMALL_TABLES, 3), (5, SMALL_TABLES, 3))


def target(scale: int) -> float:
    """Issue 16: 1.10 at -s 10 (fixed costs weigh most), 1.05 from -s 50 up."""
    return 1.10 if scale <= 10 else 1.05


def make_database(
    node: PgCluster, dbname: str, scale: int, tables: int = SMALL_TABLES
) -> str:
    """pgbench tables at ``scale`` + ``tables`` tables of 20 rows; returns its size."""
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
          FOR i IN 1..{tables} LOOP
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


def define(
    env: BenchEnv, node_id: int, dbname: str, extra: str, minute: int = 0
) -> int:
    """A FULL definition (never started by cron: the bench runs it); ``minute`` tells
    otherwise identical definitions apart (the catalog refuses duplicates)."""
    rows = env.q(
        "SELECT register_backup_definition(%s, %s, %s, %s, '3', '*', '*', '*', 'FULL', false,"
        " '7 days', 1, %s, 'ACTIVE', 'bench')",
        (env.server_id, node_id, dbname, str(minute), extra),
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
    env: BenchEnv,
    cfg: Path,
    def_id: int,
    partition: Path,
    keep: bool = False,
    src: Path | None = None,
) -> dict[str, Any]:
    """One pgbackman_dump run (its files are removed unless ``keep``); ``src``: the code
    of another source tree (``--before``)."""
    out = env.base / "rss.json"
    argv = [
        str(VENV_BIN / "python"),
        str(BENCH / "rss_wrap.py"),
        str(out),
        "pgbackman.programs.dump",
        "--def-id",
        str(def_id),
        "--config",
        str(config_for(cfg, src)),
    ]
    r = run_timed(argv, source_env(env.env, src))
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


def _ratio_cell(runs: list[dict[str, Any]], bare: float, goal: float | None) -> str:
    m = median([x["s"] for x in runs]) / bare
    if goal is None:
        return f"**{m:.2f}**"
    return f"**{m:.2f}** ({'met' if m <= goal else 'missed'})"


def run(quick: bool, before: Path | None = None) -> str:
    plan = QUICK_PLAN if quick else PLAN
    largest = plan[-1][0]
    base = make_base()
    env = node = None
    compile_sources(REPO, *([before] if before else []))
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
        for scale, tables, n in plan:
            db = f"pgbench_s{scale}_t{tables}"
            log(f"dump: creating {db}")
            size = make_database(node, db, scale, tables)
            for jobs in (1, 2):
                extra = "" if jobs == 1 else f"-j {jobs}"
                # One definition per side of ours: a second run of one definition within
                # the same second would wait for the next second (its file names hold it).
                defs = {
                    side: define(env, node_id, db, extra, minute)
                    for minute, side in enumerate(("ours", "nocheck", "before"))
                    if side != "before" or before is not None
                }
                sides: dict[str, list[dict[str, Any]]] = {
                    "ours": [],
                    "bare": [],
                    "nocheck": [],
                    "before": [],
                }
                for i in range(n + 1):  # round 0 warms the page cache and is dropped
                    got = {
                        "ours": run_ours(env, env.config_path, defs["ours"], partition),
                        "bare": run_bare(node, db, base / "bare", jobs),
                        "nocheck": run_ours(
                            env, cfg_nocheck, defs["nocheck"], partition
                        ),
                    }
                    if before is not None:
                        got["before"] = run_ours(
                            env, env.config_path, defs["before"], partition, src=before
                        )
                    log(
                        f"dump s{scale} t{tables} j{jobs} round {i}: "
                        + ", ".join(f"{k} {v['s']:.2f}s" for k, v in got.items())
                        + f"; python {got['ours']['self'] / 1024:.0f} MiB"
                    )
                    if i:
                        for k, v in got.items():
                            sides[k].append(v)
                mb = median([x["s"] for x in sides["bare"]])
                what = f"+{tables} tables" if tables else "pgbench only"
                label = f"-s {scale} ({size}, {what}), -j {jobs}"
                cells = [
                    label,
                    fmt_runs([x["s"] for x in sides["bare"]]),
                    fmt_runs([x["s"] for x in sides["ours"]]),
                    _ratio_cell(sides["ours"], mb, target(scale)),
                ]
                if before is not None:
                    cells += [
                        fmt_runs([x["s"] for x in sides["before"]]),
                        _ratio_cell(sides["before"], mb, None),
                    ]
                cells += [
                    fmt_runs([x["s"] for x in sides["nocheck"]]),
                    _ratio_cell(sides["nocheck"], mb, None),
                ]
                rows.append("| " + " | ".join(cells) + " |")
                mem.append(
                    f"| {label} | {fmt_mib(max(x['self'] for x in sides['ours'] + sides['nocheck']))} | "
                    f"{fmt_mib(max(x['child'] for x in sides['bare']))} |"
                )
                if scale == largest:
                    cmds.append(f"# -j {jobs}: extra_backup_parameters '{extra}'")
                    cmds.append(
                        cmdline(
                            [
                                "pgbackman_dump",
                                "--def-id",
                                str(defs["ours"]),
                                "--config",
                                "<tmp>/pgbackman.conf",
                            ]
                        )
                    )
                    cmds += [
                        cmdline(a)
                        for a in bare_argvs(node, db, Path("<tmp>/bare"), jobs)
                    ]
        head = [
            "database",
            "bare pg_dump -Fd + pg_dumpall --roles-only",
            "pgbackman_dump FULL (read-back check on)",
            "ratio (target: 1.10 at -s 10, 1.05 above)",
        ]
        if before is not None:
            head += ["pgbackman_dump before (same check)", "ratio"]
        head += ["pgbackman_dump, read_back_check = false", "ratio"]
        body = (
            "Wall time of one backup: medians of n interleaved rounds (ours, bare, ours "
            "without the check"
            + (", the code before" if before is not None else "")
            + ") after one warm-up round (page cache warm for every side)."
            + (
                f" *Before* = the pgbackman_dump of `{before.name}` (another source tree "
                "run with the same catalog, clusters and definitions)."
                if before is not None
                else ""
            )
            + "\n\n| "
            + " | ".join(head)
            + " |\n|"
            + "---|" * len(head)
            + "\n"
            + "\n".join(rows)
            + "\n\n"
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
    main_with_before(run)


if __name__ == "__main__":
    main()
