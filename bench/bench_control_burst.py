"""Benchmark: how long pgbackman_control takes to turn a burst of backup definitions
(inserted in ONE statement) into complete crontab files.

    .venv/bin/python bench/bench_control_burst.py [--defs 1000 --nodes 10] [--defs ...]

Starts a throwaway catalog cluster (tests/support/pgcluster.py), a running
``pgbackman_control --foreground``, inserts the definitions and polls the crontab files until
every node's file has all its lines. Prints one Markdown table row per run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.pgcluster import PgCluster

from pgbackman.core.cron import parse_job_lines

VENV_BIN = Path(sys.executable).parent


def setup(base: Path) -> tuple[PgCluster, Path, Path, int]:
    cluster = PgCluster(base, "catalog").init().start()
    res = cluster.psql_file(REPO / "sql" / "pgbackman.sql")
    if res.returncode != 0:
        raise SystemExit(res.stderr)
    root, cron = base / "srv", base / "cron.d"
    root.mkdir(mode=0o700)
    cron.mkdir()
    q = lambda s, p=None: cluster.query(s, p, dbname="pgbackman")
    q(
        "UPDATE backup_server_default_config SET value = %s WHERE parameter = 'root_backup_partition'",
        (str(root),),
    )
    q(
        "UPDATE backup_server_default_config SET value = 'root' WHERE parameter = 'backup_user'"
    )
    q(
        "UPDATE pgsql_node_default_config SET value = %s WHERE parameter = 'pgnode_backup_partition'",
        (f"{root}/pgsql_node_%%pgnode%%",),
    )
    q(
        "UPDATE pgsql_node_default_config SET value = %s WHERE parameter = 'pgnode_crontab_file'",
        (f"{cron}/pgsql_node_%%pgnode%%",),
    )
    server_id = int(
        q("SELECT register_backup_server('bench', 'example.org', 'RUNNING', '')")[0][0]
    )
    conf = base / "pgbackman.conf"
    conf.write_text(
        "[backup_server]\nbackup_server = bench.example.org\n"
        f"root_backup_partition = {root}\ncrontab_dir = {cron}\n"
        "allow_root_backup_user = ON\n"
        f"[pgbackman_database]\nhost = {cluster.host}\nport = {cluster.port}\n"
        "dbname = pgbackman\nuser = pgbackman_role_rw\npg_connect_retry_interval = 1\n"
        f"[pgbackman_control]\npidfile = {base}/control.pid\n"
        f"[logging]\nlog_level = INFO\nlog_file = {base}/pgbackman.log\n"
    )
    return cluster, conf, cron, server_id


def run(defs: int, nodes: int) -> tuple[float, float]:
    base = Path(tempfile.mkdtemp(prefix="pgbackman-bench-"))
    os.chmod(base, 0o755)
    cluster, conf, cron, server_id = setup(base)
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    proc = subprocess.Popen(
        [str(VENV_BIN / "pgbackman_control"), "--foreground", "--config", str(conf)],
        env=env,
    )
    try:
        q = lambda s, p=None: cluster.query(s, p, dbname="pgbackman")
        ids = [
            int(
                q(
                    "SELECT register_pgsql_node('n', 'example.org', %s, 'postgres', 'RUNNING', '')",
                    (30000 + i,),
                )[0][0]
            )
            for i in range(nodes)
        ]
        time.sleep(1.0)
        t0 = time.monotonic()
        q(
            "INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname, minutes_cron,"
            " hours_cron, backup_code, job_status) SELECT %s, (%s::bigint[])[1 + g %% %s], 'db' || g,"
            " (g %% 60)::text, '01', 'FULL', 'ACTIVE' FROM generate_series(1, %s) g",
            (server_id, ids, nodes, defs),
        )
        t_insert = time.monotonic() - t0

        def count() -> int:
            total = 0
            for n in ids:
                try:
                    total += len(
                        parse_job_lines((cron / f"pgsql_node_{n}").read_text())
                    )
                except FileNotFoundError:
                    pass
            return total

        while count() < defs:
            if time.monotonic() - t0 > 300:
                raise SystemExit("timeout")
            time.sleep(0.05)
        return t_insert, time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(30)
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


def run_markdown(quick: bool) -> str:
    """The section of bench/RESULTS.md (bench/run_all.py)."""
    cases = [(1000, 10)] if quick else [(1000, 10), (10000, 100)]
    lines = [
        "| definitions | nodes | INSERT (s), median of 3 | INSERT -> all crontab lines (s), "
        "median of 3 (min-max) |",
        "|---:|---:|---:|---:|",
    ]
    for defs, nodes in cases:
        runs = [run(defs, nodes) for _ in range(3)]
        ins = sorted(r[0] for r in runs)
        tot = sorted(r[1] for r in runs)
        lines.append(
            f"| {defs} | {nodes} | {ins[1]:.2f} | {tot[1]:.2f} ({tot[0]:.2f}-{tot[2]:.2f}) |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--defs", type=int, action="append")
    p.add_argument("--nodes", type=int, action="append")
    a = p.parse_args()
    cases = list(zip(a.defs or [1000, 10000], a.nodes or [10, 100], strict=False))
    print("| definitions | nodes | INSERT (s) | INSERT -> all crontab lines (s) |")
    print("|---:|---:|---:|---:|")
    for defs, nodes in cases:
        t_insert, t_all = run(defs, nodes)
        print(f"| {defs} | {nodes} | {t_insert:.2f} | {t_all:.2f} |", flush=True)


if __name__ == "__main__":
    main()
