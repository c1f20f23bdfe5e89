"""Benchmark: the control plane at fleet scale, and shell start-up.

    .venv/bin/python bench/bench_fleet.py [--quick] [--only control,shell,maintenance]
                                          [--before DIR]

Builds a catalog with bench/fleet.py, then measures:

* ``pgbackman_control --once`` writing every crontab file of the measured server;
* the running daemon: UPDATE of one definition -> its crontab file rewritten (10 ms polling);
* ``pgbackman -C "show_backup_catalog ..."`` / ``"show_backup_definitions all all all"``;
* ``pgbackman -C "show_backup_servers"`` (start-up dominated) and ``python -X importtime``;
* ``pgbackman_maintenance --dry-run`` / ``--once`` over the million rows (on copies of the
  catalog database, so every run starts from the same state), and the retention decision
  alone measured in-process.

``--only`` measures some parts (the fleet is built all the same); ``--before DIR`` also
runs the maintenance passes with the code of another source tree (``git archive <rev> | tar
-x -C DIR``), on copies of the same catalog, interleaved with this checkout's.

Prints Markdown on stdout (run_all.py puts it into RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet as fleetmod
from common import (
    SERVER_FQDN,
    BenchEnv,
    REPO,
    cleanup,
    cmdline,
    compile_sources,
    fmt_runs,
    fmt_s,
    log,
    make_base,
    median,
    run_timed,
    setup_env,
    source_env,
)

TARGETS = {
    "control_once": 5.0,
    "latency": 0.5,
    "shell": 0.3,
    "maintenance": 10.0,
    "maintenance_once": 5.0,  # issue 16: a pass deleting 8 000 expired backups
}


def verdict(value: float, target: float) -> str:
    return "met" if value < target else "**missed**"


def crontab_lines(path: Path) -> int:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return 0
    return sum(
        1
        for line in text.splitlines()
        if "--def-id" in line and not line.startswith("#")
    )


# -- control --once ---------------------------------------------------------------------
def bench_control_once(
    env: BenchEnv, fl: fleetmod.Fleet, n: int
) -> tuple[str, dict[str, Any]]:
    argv = [env.prog("pgbackman_control"), "--once", "--config", str(env.config_path)]
    expected = {
        int(node): int(cnt)
        for node, cnt in env.q(
            "SELECT pgsql_node_id, count(*) FROM backup_definition"
            " WHERE backup_server_id = %s AND job_status = 'ACTIVE' GROUP BY 1",
            (env.server_id,),
        )
    }
    first = run_timed(argv, env.env).seconds
    runs = [run_timed(argv, env.env).seconds for _ in range(n)]
    files = sorted(env.cron_dir.glob("pgsql_node_*"))
    bad = [
        f.name
        for f in files
        if crontab_lines(f) != expected.get(int(f.name.rsplit("_", 1)[1]), 0)
    ]
    if bad or len(files) != len(fl.nodes):
        raise RuntimeError(
            f"control --once wrote wrong crontab files: {bad[:5]} ({len(files)} files)"
        )
    total = sum(expected.values())
    med = median(runs)
    text = (
        f"| `pgbackman_control --once`, first run (creates {len(files)} node directories, "
        f"crontab and cache files) | {fmt_s(first)} | < {TARGETS['control_once']} s | "
        f"{verdict(first, TARGETS['control_once'])} |\n"
        f"| `pgbackman_control --once`, later runs ({total} job lines in {len(files)} files) | "
        f"{fmt_runs(runs)} | < {TARGETS['control_once']} s | {verdict(med, TARGETS['control_once'])} |\n"
    )
    return text, {
        "cmd": cmdline(argv),
        "first": first,
        "runs": runs,
        "lines": total,
        "files": len(files),
    }


# -- daemon latency ---------------------------------------------------------------------
def bench_latency(
    env: BenchEnv, fl: fleetmod.Fleet, n: int
) -> tuple[str, dict[str, Any]]:
    argv = [
        env.prog("pgbackman_control"),
        "--foreground",
        "--config",
        str(env.config_path),
    ]
    proc = subprocess.Popen(
        argv, env=env.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    lat: list[float] = []
    try:
        # Wait for the daemon's initial full resync (it logs a line when done), then a bit more.
        logf = env.base / "pgbackman.log"
        deadline = time.monotonic() + 120
        while "Connected to the catalog" not in (
            logf.read_text() if logf.exists() else ""
        ):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pgbackman_control --foreground did not start")
            time.sleep(0.05)
        time.sleep(3.0)
        defs = env.q(
            "SELECT def_id, pgsql_node_id, minutes_cron FROM backup_definition"
            " WHERE backup_server_id = %s AND job_status = 'ACTIVE' ORDER BY def_id LIMIT %s",
            (env.server_id, n + 1),
        )
        conn = env.catalog.connect("pgbackman")
        try:
            for i, (def_id, node_id, minutes) in enumerate(defs):
                new_min = str((int(minutes) + 17) % 60)
                cron = env.cron_dir / f"pgsql_node_{node_id}"
                pat = re.compile(rf"^{new_min} .*--def-id {def_id}$", re.M)
                t0 = time.monotonic()
                with conn.cursor() as cur:
                    cur.execute(
                        "UPDATE backup_definition SET minutes_cron = %s WHERE def_id = %s",
                        (new_min, def_id),
                    )
                while True:
                    try:
                        if pat.search(cron.read_text()):
                            break
                    except FileNotFoundError:
                        pass
                    if time.monotonic() - t0 > 30:
                        raise RuntimeError(
                            f"crontab of node {node_id} not rewritten in 30 s"
                        )
                    time.sleep(0.01)
                if i > 0:  # the first one is a warm-up
                    lat.append(time.monotonic() - t0)
                time.sleep(1.5)  # let the daemon go back to waiting
        finally:
            conn.close()
    finally:
        proc.terminate()
        proc.wait(30)
    med = median(lat)
    text = (
        f"| Running daemon: `UPDATE backup_definition` (one row) -> its crontab file rewritten "
        f"(10 ms polling) | {fmt_runs(lat)} | < {TARGETS['latency']} s | {verdict(med, TARGETS['latency'])} |\n"
    )
    return text, {"cmd": cmdline(argv), "runs": lat}


# -- shell ------------------------------------------------------------------------------
def shell_case(
    env: BenchEnv, command: str, n: int, label: str, extra: tuple[str, ...] = ()
) -> tuple[str, dict[str, Any]]:
    argv = [env.prog("pgbackman"), *extra, "-C", command]
    r = run_timed(argv, env.env)  # warm-up (page cache, catalog buffers)
    runs = [run_timed(argv, env.env).seconds for _ in range(n)]
    out = r.stdout
    med = median(runs)
    text = (
        f'| {label} (`pgbackman {" ".join(extra) + " " if extra else ""}-C "{command}"`): '
        f"{len(out.splitlines())} lines, {len(out) / 1024:.0f} KiB of output | {fmt_runs(runs)} | "
        f"< {TARGETS['shell']} s | {verdict(med, TARGETS['shell'])} |\n"
    )
    return text, {"cmd": cmdline(argv), "runs": runs, "bytes": len(out)}


def python_baselines(env: BenchEnv, n: int) -> str:
    py = env.prog("python")
    bare = [run_timed([py, "-c", "pass"], env.env).seconds for _ in range(n)]
    imp = [
        run_timed([py, "-c", "import pgbackman.programs.cli"], env.env).seconds
        for _ in range(n)
    ]
    psql = [
        run_timed(
            [
                f"{env.catalog.bindir}/psql",
                "-X",
                "-h",
                env.catalog.host,
                "-p",
                str(env.catalog.port),
                "-U",
                "postgres",
                "-d",
                "pgbackman",
                "-c",
                "SELECT * FROM show_backup_servers",
            ],
            env.env,
        ).seconds
        for _ in range(n)
    ]
    return (
        f"| reference: `python -c pass` (interpreter start-up) | {fmt_runs(bare)} | | |\n"
        f"| reference: `python -c 'import pgbackman.programs.cli'` (start-up + imports) | {fmt_runs(imp)} | | |\n"
        f"| reference: `psql -c 'SELECT * FROM show_backup_servers'` | {fmt_runs(psql)} | | |\n"
    )


def importtime_top(env: BenchEnv, k: int = 12) -> str:
    """The most expensive imports (cumulative us) of the shell's entry module."""
    r = run_timed(
        [env.prog("python"), "-X", "importtime", "-c", "import pgbackman.programs.cli"],
        env.env,
    )
    rows = []
    total = 0
    for line in r.stderr.decode().splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        depth = len(m.group(3)) // 2
        if m.group(4) == "pgbackman.programs.cli":
            total = int(m.group(2))
        if depth <= 2:
            rows.append((int(m.group(2)), m.group(4)))
    rows.sort(reverse=True)
    out = [
        f"`python -X importtime -c 'import pgbackman.programs.cli'`: {total / 1000:.0f} ms in total "
        "(one run; cumulative time of the heaviest top-level imports):\n",
        "| module | cumulative |",
        "|---|---:|",
    ]
    out += [f"| {name} | {us / 1000:.1f} ms |" for us, name in rows[:k]]
    return "\n".join(out) + "\n"


# -- maintenance ------------------------------------------------------------------------
def clone_db(env: BenchEnv, name: str) -> Path:
    env.catalog.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    env.catalog.psql(f"CREATE DATABASE {name} TEMPLATE pgbackman")
    env.catalog.psql(
        f"GRANT CONNECT, TEMPORARY ON DATABASE {name} TO pgbackman_role_rw"
    )
    # Nodes STOPPED in the copy: the dropped-database task would otherwise try to connect to
    # 200 hosts that do not exist (its cost is one connection per RUNNING node).
    env.catalog.query("UPDATE pgsql_node SET status = 'STOPPED'", dbname=name)
    env.catalog.query("ANALYZE", dbname=name)
    cfg = env.base / f"{name}.conf"
    text = env.config_path.read_text().replace("dbname = pgbackman", f"dbname = {name}")
    cfg.write_text(text)
    return cfg


def decision_in_process(cfg_path: Path) -> tuple[float, float, int, int]:
    """(query seconds, decide seconds, candidate rows, expired rows): the retention decision
    of maintenance task 2 without any deletion, in this process."""
    from itertools import groupby

    from pgbackman.catalog import maintenance as mcat
    from pgbackman.catalog import servers
    from pgbackman.catalog.connection import Catalog
    from pgbackman.config import Config
    from pgbackman.core.retention import RunRow, expired_backups

    cfg = Config.load(str(cfg_path))
    cat = Catalog(cfg.database, "bench")
    try:
        srv = servers.server_id_by_fqdn(cat, cfg.backup_server.fqdn)
        assert srv is not None
        now = mcat.now(cat)
        t0 = time.monotonic()
        rows = mcat.retention_candidates(cat, srv)
        t1 = time.monotonic()
        expired = 0
        for _def_id, group in groupby(rows, key=lambda r: r["def_id"]):
            history = list(group)
            first = history[0]
            expired += len(
                expired_backups(
                    [
                        RunRow(
                            int(r["bck_id"]), r["finished"], str(r["execution_status"])
                        )
                        for r in history
                    ],
                    first["retention_period"],
                    first["retention_redundancy"],
                    now,
                    # The rule alone: the reading of the files it relies on is in the
                    # whole-pass figures below.
                    intact=lambda _bck_id: True,
                )
            )
        t2 = time.monotonic()
    finally:
        cat.close()
    return t1 - t0, t2 - t1, len(rows), expired


def maintenance_run(
    env: BenchEnv, name: str, src: Path | None
) -> tuple[float, float, float, float, int, int]:
    """One measured pass pair on a fresh copy of the catalog, with the code of ``src``
    (None: this checkout): (query s, decide s, --dry-run s, --once s, candidates, deleted)."""
    cfg = clone_db(env, name)
    paths = fleetmod.expiring_paths(env, name, env.server_id)
    fleetmod.create_files(paths)
    protectors = fleetmod.make_protectors(env, name, env.server_id)
    log(f"maintenance {name}: {protectors} backups retention checks in full")
    qs, ds, cand, exp = decision_in_process(cfg)
    run_env = source_env(env.env, src)
    argv_dry = [env.prog("pgbackman_maintenance"), "--dry-run", "--config", str(cfg)]
    r = run_timed(argv_dry, run_env)
    would = sum(
        1
        for line in r.stdout.decode().splitlines()
        if line.startswith("WOULD DELETE backup")
    )
    argv_once = [env.prog("pgbackman_maintenance"), "--once", "--config", str(cfg)]
    count = "SELECT count(*) FROM backup_catalog"
    before = int(env.catalog.query(count, dbname=name)[0][0])
    once = run_timed(argv_once, run_env).seconds
    deleted = before - int(env.catalog.query(count, dbname=name)[0][0])
    if deleted != exp or would != exp:
        raise RuntimeError(
            f"maintenance ({name}) deleted {deleted}, dry run said {would}, decision {exp}"
        )
    left = sum(1 for p in paths if os.path.exists(p))
    log(
        f"maintenance {name}: decision {qs:.2f}+{ds:.2f}s, dry {r.seconds:.2f}s, "
        f"once {once:.2f}s, deleted {deleted} rows, {len(paths) - left} of {len(paths)} "
        f"files; load average {os.getloadavg()[0]:.2f}"
    )
    env.catalog.psql(f"DROP DATABASE {name} WITH (FORCE)")
    return qs, ds, r.seconds, once, cand, deleted


def bench_maintenance(
    env: BenchEnv, fl: fleetmod.Fleet, n: int, before: Path | None = None
) -> tuple[str, dict[str, Any]]:
    measured_rows = int(
        env.q(
            "SELECT count(*) FROM backup_catalog WHERE backup_server_id = %s",
            (env.server_id,),
        )[0][0]
    )
    sides: dict[str, list[tuple[float, float, float, float, int, int]]] = {
        "after": [],
        "before": [],
    }
    loads: list[float] = []
    for i in range(n):
        loads.append(os.getloadavg()[0])
        sides["after"].append(maintenance_run(env, f"pgbackman_m{i}", None))
        if before is not None:  # interleaved: both see the same machine
            sides["before"].append(maintenance_run(env, f"pgbackman_b{i}", before))
    runs = sides["after"]
    q_s, d_s = [r[0] for r in runs], [r[1] for r in runs]
    dry, once = [r[2] for r in runs], [r[3] for r in runs]
    cand, deleted = runs[-1][4], runs[-1][5]
    target = TARGETS["maintenance_once"]
    text = (
        f"| Retention decision only (in-process: the candidates query over {measured_rows} rows of the "
        f"measured server -> {cand} candidate rows, then core.retention -> {deleted} expired) | "
        f"query {fmt_runs(q_s)}; decide {fmt_runs(d_s)} | < {TARGETS['maintenance']} s | "
        f"{verdict(median(q_s) + median(d_s), TARGETS['maintenance'])} |\n"
        f"| `pgbackman_maintenance --dry-run` (whole pass, decides and prints {deleted} WOULD DELETE lines)"
        f" | {fmt_runs(dry)} | < {TARGETS['maintenance']} s | {verdict(median(dry), TARGETS['maintenance'])} |\n"
        f"| `pgbackman_maintenance --once` (whole pass, deletes {deleted} rows and their files) | "
        f"{fmt_runs(once)} | < {target} s | {verdict(median(once), target)} |\n"
    )
    if sides["before"]:
        b = sides["before"]
        text += (
            f"| before (`--before {before}`): `--dry-run` | {fmt_runs([r[2] for r in b])} | | |\n"
            f"| before: `--once` (deletes {b[-1][5]} rows) | {fmt_runs([r[3] for r in b])} "
            f"| < {target} s | {verdict(median([r[3] for r in b]), target)} |\n"
        )
    text += (
        f"\nLoad average (1 min) when each measured pair started: "
        f"{', '.join(f'{x:.2f}' for x in loads)} (2 CPUs, shared).\n"
    )
    return text, {"dry": dry, "once": once, "deleted": deleted, "rows": measured_rows}


# -- main -------------------------------------------------------------------------------
PARTS = ("control", "shell", "maintenance")


def run(quick: bool, before: Path | None = None, only: tuple[str, ...] = PARTS) -> str:
    nodes, defs, per_def = (50, 2000, 100) if quick else (200, 10000, 100)
    n_fast, n_slow = (3, 3) if quick else (5, 3)
    compile_sources(REPO, *([before] if before else []))
    base = make_base()
    env = None
    try:
        env = setup_env(
            base,
            catalog_conf="shared_buffers = 256MB\nwork_mem = 32MB\n",
            log_level="INFO",
        )
        t0 = time.monotonic()
        fl = fleetmod.build(env, nodes=nodes, definitions=defs, rows_per_def=per_def)
        load_s = time.monotonic() - t0
        log(f"fleet built in {load_s:.0f} s")
        parts: list[str] = []
        shell_parts: list[str] = []
        imports = ""
        cmds: list[str] = []
        if "control" in only:
            log("control --once")
            t, info = bench_control_once(env, fl, n_fast)
            parts.append(t)
            cmds.append(info["cmd"])
            log("daemon latency")
            t, info = bench_latency(env, fl, n_fast)
            parts.append(t)
            cmds.append(
                info["cmd"]
                + "   # then UPDATE backup_definition SET minutes_cron = ... WHERE def_id = ..."
            )
        if "shell" in only:
            shell_parts, imports, shell_cmds = bench_shell(env, fl, n_fast)
            cmds += shell_cmds
        if "maintenance" in only:
            log("maintenance")
            t, info = bench_maintenance(env, fl, n_slow, before)
            parts.append(t)
            for mode in ("--dry-run", "--once"):
                cmds.append(
                    cmdline(
                        [
                            env.prog("pgbackman_maintenance"),
                            mode,
                            "--config",
                            "<copy>.conf",
                        ]
                    )
                )
        servers_share = env.q(
            "SELECT count(*) FROM backup_definition WHERE backup_server_id = %s",
            (env.server_id,),
        )[0][0]
        head = (
            f"Catalog: {len(fl.servers)} backup servers, {len(fl.nodes)} PgSQL nodes, {fl.definitions} backup "
            f"definitions ({servers_share} on the measured server {SERVER_FQDN}), {fl.rows} backup_catalog "
            f"rows, generated by bench/fleet.py in {load_s:.0f} s (not a measured figure). Catalog cluster: "
            "`shared_buffers = 256MB`, `fsync = off` (tests/support/pgcluster.py). Medians; every "
            "program run is a new process, start-up included.\n\n"
        )
        if tuple(only) != PARTS:
            head += f"Measured alone: {', '.join(only)}.\n\n"
        table = "| measurement | result (median, n, min-max) | target | |\n|---|---|---|---|\n"
        body = head + "### Control plane\n\n" + table + "".join(parts) + "\n"
        if shell_parts:
            body += (
                "### Shell\n\n" + table + "".join(shell_parts) + "\n" + imports + "\n"
            )
        body += "Command lines:\n\n```\n" + "\n".join(cmds) + "\n```\n"
        return body
    finally:
        cleanup(base, [env.catalog] if env else [])


def bench_shell(
    env: BenchEnv, fl: fleetmod.Fleet, n_fast: int
) -> tuple[list[str], str, list[str]]:
    """(table rows, import times, command lines) of the shell figures."""
    log("shell")
    cmds: list[str] = []
    node = fl.nodes[0]
    db = env.q(
        "SELECT dbname FROM backup_definition WHERE backup_server_id = %s AND pgsql_node_id = %s"
        " ORDER BY def_id LIMIT 1",
        (env.server_id, node),
    )[0][0]
    shell_parts = []
    for command, label in (
        (
            f"show_backup_catalog {SERVER_FQDN} {node} {db} all all",
            "show_backup_catalog, one node and database",
        ),
        (
            "show_backup_definitions all all all",
            "show_backup_definitions, every definition",
        ),
        ("show_backup_servers", "Shell start-up: show_backup_servers"),
    ):
        t, info = shell_case(env, command, n_fast, label)
        shell_parts.append(t)
        cmds.append(info["cmd"])
    t, info = shell_case(
        env,
        "show_backup_definitions all all all",
        n_fast,
        "show_backup_definitions, every definition, CSV",
        ("-o", "csv"),
    )
    shell_parts.append(t)
    shell_parts.append(python_baselines(env, n_fast))
    return shell_parts, importtime_top(env), cmds


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", help="comma list of: " + ", ".join(PARTS))
    p.add_argument(
        "--before", type=Path, help="source tree to compare maintenance with"
    )
    a = p.parse_args()
    only = tuple(x for x in PARTS if x in a.only.split(",")) if a.only else PARTS
    print(run(a.quick, a.before, only))


if __name__ == "__main__":
    main()
