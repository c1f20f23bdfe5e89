"""Benchmark: many small backup definitions fired at once, with and without the
max_parallel_backups limits (issue 16, item 2).

    .venv/bin/python bench/bench_concurrency.py [--quick] [--before DIR]

One node cluster is registered as 10 PgSQL nodes (127.0.0.1 ... 127.0.0.10: every loopback
address reaches it), each with 20 backup definitions of small databases (10 tables of 500
rows): 200 definitions (``--quick``: 4 nodes, 40). A round starts every definition's
``pgbackman_dump`` at the same moment, as cron does at the top of a minute, and waits for
all of them; the wall time is from the first start to the last exit. Rounds alternate:

* limits: the defaults (node ``max_parallel_backups`` = 4, backup server ``auto`` = 2 per
  CPU);
* no limits: both ``unlimited`` (every dump at once, as before issue 16);
* with ``--before DIR``: no limits, the pgbackman_dump of another source tree.

Every run must be SUCCEEDED (its catalog row); failures are counted and shown. The node
allows 500 connections and the catalog 300 so that the runs without limits can connect at
all (at PostgreSQL's default of 100 they fail with "too many clients"). Also shown: the
lowest MemAvailable of the machine during the round (sampled every 0.2 s), and the waits
recorded in the catalog. Prints Markdown on stdout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    main_with_before,
    REPO,
    BenchEnv,
    cleanup,
    compile_sources,
    fmt_runs,
    log,
    make_base,
    median,
    setup_env,
    source_env,
)
from support.pgcluster import PgCluster, find_bindir

NODE_CONF = "shared_buffers = 128MB\nmax_connections = 500\n"
CATALOG_CONF = "max_connections = 300\n"


def _mem_available_kib() -> int:
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


class _MemWatch(threading.Thread):
    """The lowest MemAvailable while a round runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.low = _mem_available_kib()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.low = min(self.low, _mem_available_kib())


def _start_node(base: Path, nodes: int) -> PgCluster:
    addrs = ",".join(f"127.0.0.{i}" for i in range(1, nodes + 1))
    node = PgCluster(base, "node", find_bindir()).init(
        NODE_CONF + f"listen_addresses = '{addrs}'\n"
    )
    with open(node.datadir / "pg_hba.conf", "a", encoding="utf-8") as fh:
        fh.write("host all all 127.0.0.0/8 trust\n")
    return node.start()


def _small_databases(node: PgCluster, n: int) -> list[str]:
    names = [f"small{i:02d}" for i in range(n)]
    for name in names:
        node.psql(f'CREATE DATABASE "{name}"')
        node.psql(
            """
            DO $$ BEGIN
              FOR i IN 1..10 LOOP
                EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i);
                EXECUTE format('INSERT INTO t%s SELECT g, md5(g::text) FROM generate_series(1, 500) g', i);
              END LOOP;
            END $$;
            """,
            dbname=name,
        )
    node.psql("CHECKPOINT")
    return names


def _configure(env: BenchEnv, node_ids: list[int], limits: bool) -> None:
    node_value = "4" if limits else "unlimited"
    server_value = "auto" if limits else "unlimited"
    for node_id in node_ids:
        env.q(
            "SELECT update_pgsql_node_config(%s, 'max_parallel_backups', %s)",
            (node_id, node_value),
        )
    env.q(
        "SELECT update_backup_server_config(%s, 'max_parallel_backups', %s)",
        (env.server_id, server_value),
    )


def _round(env: BenchEnv, def_ids: list[int], src: Path | None) -> dict[str, Any]:
    """Start every definition at once; wait for all."""
    last = int(env.q("SELECT coalesce(max(bck_id), 0) FROM backup_catalog")[0][0])
    run_env = source_env(env.env, src)
    watch = _MemWatch()
    before = watch.low
    watch.start()
    t0 = time.monotonic()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pgbackman.programs.dump",
                "--def-id",
                str(d),
                "--config",
                str(env.config_path),
            ],
            env=run_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for d in def_ids
    ]
    for p in procs:
        p.wait()
    seconds = time.monotonic() - t0
    watch.stop.set()
    watch.join()
    rows = env.q(
        "SELECT execution_status, extract(epoch FROM wait_duration), error_message"
        " FROM backup_catalog WHERE bck_id > %s",
        (last,),
    )
    ok = sum(1 for r in rows if r[0] == "SUCCEEDED")
    errors = sorted({str(r[2])[:80] for r in rows if r[0] != "SUCCEEDED"})
    waits = [float(r[1]) for r in rows if r[1] is not None]
    return {
        "s": seconds,
        "ok": ok,
        "failed": len(def_ids) - ok,
        "errors": errors,
        "exit_codes": sum(1 for p in procs if p.returncode != 0),
        "mem_mib": (before - watch.low) / 1024,
        "wait_median": median(waits) if waits else 0.0,
        "wait_max": max(waits) if waits else 0.0,
    }


def _clear_dumps(env: BenchEnv) -> None:
    for d in env.root.glob("pgsql_node_*/dump"):
        subprocess.run(["rm", "-rf", str(d)], check=True)


def run(quick: bool, before: Path | None = None) -> str:
    nodes, dbs, rounds = (4, 10, 2) if quick else (10, 20, 2)
    base = make_base()
    env = node = None
    compile_sources(REPO, *([before] if before else []))
    try:
        env = setup_env(base, catalog_conf=CATALOG_CONF, log_level="WARNING")
        node = _start_node(base, nodes)
        node_ids = [
            int(
                env.q(
                    "SELECT register_pgsql_node('127', %s, %s, 'postgres', 'RUNNING', 'bench')",
                    (f"0.0.{i}", node.port),
                )[0][0]
            )
            for i in range(1, nodes + 1)
        ]
        names = _small_databases(node, dbs)
        def_ids = [
            int(
                env.q(
                    "SELECT register_backup_definition(%s, %s, %s, '0', '3', '*', '*', '*',"
                    " 'FULL', false, '7 days', 1, '', 'ACTIVE', 'bench')",
                    (env.server_id, n, db),
                )[0][0]
            )
            for n in node_ids
            for db in names
        ]
        cpus = os.cpu_count() or 1
        sides: dict[str, list[dict[str, Any]]] = {"limits": [], "none": []}
        if before is not None:
            sides["before"] = []
        for r in range(rounds):
            for side in sides:
                _configure(env, node_ids, side == "limits")
                got = _round(env, def_ids, before if side == "before" else None)
                _clear_dumps(env)
                log(
                    f"concurrency round {r} {side}: {got['s']:.1f} s, {got['ok']} ok, "
                    f"{got['failed']} failed {got['errors'][:2]}, "
                    f"memory -{got['mem_mib']:.0f} MiB"
                )
                sides[side].append(got)
        labels = {
            "limits": f"limits: node 4, server auto (= {2 * cpus})",
            "none": "no limits (unlimited)",
            "before": f"no limits, pgbackman_dump before (`{before.name if before else ''}`)",
        }
        lines = []
        for side, runs in sides.items():
            errors = sorted({e for x in runs for e in x["errors"]})
            lines.append(
                f"| {labels[side]} | {fmt_runs([x['s'] for x in runs])} | "
                f"{sum(x['failed'] for x in runs)} of {len(def_ids) * len(runs)}"
                f"{' (' + '; '.join(errors[:2]) + ')' if errors else ''} | "
                f"{max(x['mem_mib'] for x in runs):.0f} MiB | "
                f"{median([x['wait_median'] for x in runs]):.1f} s / "
                f"{max(x['wait_max'] for x in runs):.1f} s |"
            )
        speed = median([x["s"] for x in sides["none"]]) / median(
            [x["s"] for x in sides["limits"]]
        )
        none_failed = sum(x["failed"] for x in sides["limits"]) == 0
        return (
            f"{len(def_ids)} FULL definitions of small databases (10 tables of 500 rows) on "
            f"{nodes} PgSQL nodes, every `pgbackman_dump` started at the same moment on "
            f"{cpus} CPUs; {rounds} rounds per side, alternating.\n\n"
            "| side | all done (wall time) | runs not SUCCEEDED | machine memory in use at the peak (MemAvailable drop) | wait for a slot, median / max |\n"
            "|---|---|---|---|---|\n" + "\n".join(lines) + "\n\n"
            f"With the limits the {len(def_ids)} runs finish **{speed:.2f}x** "
            f"{'sooner' if speed > 1 else 'later'} than without"
            f"{' and none fails' if none_failed else ''} "
            f"(target: sooner, none failing: {'met' if speed > 1 and none_failed else 'missed'}).\n"
        )
    finally:
        cleanup(
            base, [c for c in (node, env.catalog if env else None) if c is not None]
        )


def main() -> None:
    main_with_before(run)


if __name__ == "__main__":
    main()
