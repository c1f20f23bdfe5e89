"""Benchmark: pgbackman_restore of a FULL backup vs bare createdb + pg_restore.

    .venv/bin/python bench/bench_restore.py [--quick] [--before DIR]

One pgbench database (``-s 20`` + 500 small tables; ``--quick``: ``-s 2``) is backed up once
with the real pgbackman_dump. Then, interleaved (ours, bare, ours, bare, ...) into new
databases of the same cluster, for ``-j 1`` and ``-j 2``:

* ours: ``pgbackman_restore --restore-def N`` of a restore definition (checksum manifest
  verification, roles, database settings, pg_restore into a temporary database, rename);
* bare: ``createdb -T template0 X`` then ``pg_restore --exit-on-error -d X [-j 2] DIR``;
* with ``--before DIR``: the pgbackman_restore of another source tree, same backup.

Target (issue 16): at most 1.05 x bare.

Prints Markdown on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dump import NODE_CONF, SMALL_TABLES, define, make_database
from common import (
    main_with_before,
    BENCH,
    REPO,
    VENV_BIN,
    BenchEnv,
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

TARGET = 1.05  # issue 16: at most 1.05 x bare createdb + pg_restore


def restore_def(
    env: BenchEnv, node_id: int, bck_id: int, target: str, extra: str
) -> int:
    rows = env.q(
        "SELECT register_restore_definition(now(), %s, %s, %s, %s, NULL, %s, %s)",
        (env.server_id, node_id, bck_id, target, extra, ["app_owner", "app_ro"]),
    )
    return int(rows[0][0])


def drop(node: PgCluster, dbname: str) -> None:
    node.psql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def run_ours(
    env: BenchEnv,
    node: PgCluster,
    node_id: int,
    bck_id: int,
    target: str,
    extra: str,
    src: Path | None = None,
) -> dict[str, Any]:
    rdef = restore_def(env, node_id, bck_id, target, extra)
    out = env.base / "rss.json"
    argv = [
        str(VENV_BIN / "python"),
        str(BENCH / "rss_wrap.py"),
        str(out),
        "pgbackman.programs.restore",
        "--restore-def",
        str(rdef),
        "--config",
        str(config_for(env.config_path, src)),
    ]
    r = run_timed(argv, source_env(env.env, src))
    got = env.q(
        "SELECT execution_status, error_message FROM restore_catalog WHERE restore_def = %s",
        (rdef,),
    )
    if not got or got[0][0] != "SUCCEEDED":
        raise RuntimeError(f"pgbackman_restore --restore-def {rdef}: {got}")
    n = int(node.query("SELECT count(*) FROM pgbench_accounts", dbname=target)[0][0])
    drop(node, target)
    data = json.loads(out.read_text())
    return {
        "s": r.seconds,
        "self": data["self_maxrss_kib"],
        "child": data["children_maxrss_kib"],
        "rows": n,
    }


def bare_argvs(
    node: PgCluster, target: str, dump_dir: str, jobs: int
) -> list[list[str]]:
    conn = ["-h", node.host, "-p", str(node.port), "-U", "postgres", "--no-password"]
    j = ["-j", str(jobs)] if jobs > 1 else []
    return [
        [f"{node.bindir}/createdb", *conn, "-T", "template0", target],
        [
            f"{node.bindir}/pg_restore",
            *conn,
            "--exit-on-error",
            *j,
            "-d",
            target,
            dump_dir,
        ],
    ]


def run_bare(node: PgCluster, target: str, dump_dir: str, jobs: int) -> dict[str, Any]:
    total, peak = 0.0, 0
    for argv in bare_argvs(node, target, dump_dir, jobs):
        r = run_timed(time_v(argv))
        total += r.seconds
        peak = max(peak, time_v_kib(r))
    drop(node, target)
    return {"s": total, "child": peak}


def run(quick: bool, before: Path | None = None) -> str:
    scale = 2 if quick else 20
    n = 3 if quick else 5
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
        db = f"pgbench_s{scale}"
        log(f"restore: creating {db}")
        size = make_database(node, db, scale)
        def_id = define(env, node_id, db, "")
        run_timed(
            [
                str(VENV_BIN / "pgbackman_dump"),
                "--def-id",
                str(def_id),
                "--config",
                str(env.config_path),
            ],
            env.env,
        )
        bck_id, dump_dir = env.q(
            "SELECT bck_id, pg_dump_file FROM backup_catalog WHERE def_id = %s AND execution_status = 'SUCCEEDED'",
            (def_id,),
        )[0]
        rows, mem, cmds = [], [], []
        for jobs in (1, 2):
            extra = "" if jobs == 1 else f"-j {jobs}"
            ours, bare, old = [], [], []
            for i in range(n + 1):  # round 0 warms the page cache and is dropped
                o = run_ours(env, node, node_id, bck_id, f"r_ours_{jobs}_{i}", extra)
                b = run_bare(node, f"r_bare_{jobs}_{i}", dump_dir, jobs)
                w = (
                    run_ours(
                        env, node, node_id, bck_id, f"r_old_{jobs}_{i}", extra, before
                    )
                    if before is not None
                    else None
                )
                log(
                    f"restore j{jobs} round {i}: ours {o['s']:.2f}s, bare {b['s']:.2f}s"
                    + (f", before {w['s']:.2f}s" if w else "")
                    + f"; python {o['self'] / 1024:.0f} MiB"
                )
                if i:
                    ours.append(o)
                    bare.append(b)
                    if w:
                        old.append(w)
            mo, mb = median([x["s"] for x in ours]), median([x["s"] for x in bare])
            label = f"-s {scale} ({size}, +{SMALL_TABLES} tables), -j {jobs}"
            verdict = "met" if mo / mb <= TARGET else "missed"
            cells = [
                label,
                fmt_runs([x["s"] for x in bare]),
                fmt_runs([x["s"] for x in ours]),
                f"**{mo / mb:.2f}** ({verdict})",
            ]
            if before is not None:
                mw = median([x["s"] for x in old])
                cells += [fmt_runs([x["s"] for x in old]), f"**{mw / mb:.2f}**"]
            rows.append("| " + " | ".join(cells) + " |")
            mem.append(
                f"| {label} | {fmt_mib(max(x['self'] for x in ours))} | "
                f"{fmt_mib(max(x['child'] for x in bare))} |"
            )
            cmds.append(f"# -j {jobs}: extra_restore_parameters '{extra}'")
            cmds.append(
                cmdline(
                    [
                        "pgbackman_restore",
                        "--restore-def",
                        "<N>",
                        "--config",
                        "<tmp>/pgbackman.conf",
                    ]
                )
            )
            cmds += [
                cmdline(a) for a in bare_argvs(node, "<target>", "<dump dir>", jobs)
            ]
        head = ["database", "bare createdb + pg_restore", "pgbackman_restore"]
        head.append(f"ratio (target <= {TARGET})")
        if before is not None:
            head += [f"pgbackman_restore before (`{before.name}`)", "ratio"]
        return (
            f"Restore of one FULL backup into a new database of the same cluster, medians of {n} "
            "interleaved rounds after one warm-up round.\n\n"
            "| "
            + " | ".join(head)
            + " |\n|"
            + "---|" * len(head)
            + "\n"
            + "\n".join(rows)
            + "\n\n"
            "Peak RSS: pgbackman_restore = the Python process itself (VmHWM, bench/rss_wrap.py; children "
            "excluded); pg_restore = the larger of createdb / pg_restore in the bare runs "
            "(/usr/bin/time).\n\n"
            "| database | pgbackman_restore (Python) | pg_restore |\n|---|---|---|\n"
            + "\n".join(mem)
            + "\n\nCommand lines:\n\n```\n"
            + "\n".join(cmds)
            + "\n```\n"
        )
    finally:
        cleanup(
            base, [c for c in (node, env.catalog if env else None) if c is not None]
        )


def main() -> None:
    main_with_before(run)


if __name__ == "__main__":
    main()
