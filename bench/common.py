"""Shared plumbing of the benchmarks: throwaway clusters, a PgBackMan config, timing helpers.

Every benchmark starts its own PostgreSQL clusters with tests/support/pgcluster.py in a temp
dir (removed at the end), loads sql/pgbackman.sql, registers this host as a backup server and
writes a configuration file the same way tests/conftest.py's ``pgb_env`` fixture does. Timings
are wall-clock (time.monotonic) around a whole program run, start-up included; memory is the
peak RSS (``ru_maxrss``) reported by the kernel.
"""

from __future__ import annotations

import argparse
import compileall
import configparser
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
sys.path.insert(0, str(REPO / "tests"))

from support.pgcluster import PgCluster, find_bindir

SCHEMA = REPO / "sql" / "pgbackman.sql"
VENV_BIN = Path(sys.executable).parent
SERVER_HOST = "backup01"
SERVER_DOMAIN = "pgbackman.bench"
SERVER_FQDN = f"{SERVER_HOST}.{SERVER_DOMAIN}"


def compile_sources(*trees: Path) -> None:
    """Byte-compile the package (a real installation ships .pyc files; with
    PYTHONDONTWRITEBYTECODE set, every run would compile its modules again: +0.15 s)."""
    for tree in trees:
        compileall.compile_dir(str(tree / "pgbackman"), quiet=1)


def source_env(env: dict[str, str], src: Path | None) -> dict[str, str]:
    """``env`` that runs the code of another source tree (``--before DIR``: e.g.
    ``git archive main | tar -x -C DIR``) instead of this checkout's."""
    if src is None:
        return env
    out = dict(env)
    out["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(src), env.get("PYTHONPATH", "")) if p
    )
    return out


def config_for(cfg: Path, src: Path | None) -> Path:
    """``cfg`` as the code of ``src`` (``--before DIR``) reads it: without the keys that
    tree does not know (its config refuses unknown keys). A key is known when a field of
    that name is declared in its ``pgbackman/config.py``."""
    if src is None:
        return cfg
    declared = (src / "pgbackman" / "config.py").read_text(encoding="utf-8")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(cfg, encoding="utf-8")
    values = {
        section: {
            k: v
            for k, v in parser[section].items()
            if re.search(rf"^\s+{re.escape(k)}\s*:", declared, re.M)
        }
        for section in parser.sections()
    }
    out = cfg.with_name(f"{cfg.stem}-{src.name}.conf")
    write_config(out, values)
    return out


def main_with_before(run: Callable[[bool, Path | None], str]) -> None:
    """A bench script run alone: ``[--quick] [--before DIR]``, its section printed."""
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument(
        "--before", type=Path, help="source tree of the code to compare with"
    )
    a = p.parse_args()
    print(run(a.quick, a.before))


def log(msg: str) -> None:
    """Progress on stderr (the results go to RESULTS.md)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- statistics -------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def fmt_s(v: float) -> str:
    return f"{v:.3f} s" if v < 10 else f"{v:.1f} s"


def fmt_runs(values: Sequence[float]) -> str:
    """'0.123 s (n=5: 0.120-0.130)'."""
    return f"{fmt_s(median(values))} (n={len(values)}: {min(values):.3f}-{max(values):.3f})"


def fmt_mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


# -- running programs -------------------------------------------------------------------
@dataclass
class Run:
    """One finished program run."""

    argv: list[str]
    seconds: float
    returncode: int
    maxrss_kib: (
        int  # peak RSS of the process (and its waited-for descendants: see wait4(2))
    )
    stdout: bytes = b""
    stderr: bytes = b""


def run_timed(
    argv: Sequence[str],
    env: dict[str, str] | None = None,
    *,
    check: bool = True,
    keep_stdout: bool = True,
) -> Run:
    """Run ``argv`` (no shell), stdout/stderr to temp files; wall time + wait4 rusage.

    wait4's ru_maxrss is the larger of the child's own peak and that of its reaped
    descendants; bench/rss_wrap.py separates a Python program from its children.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(list(argv), env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - t0
        proc.returncode = rc = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
        stdout = b""
        if keep_stdout:
            out.seek(0)
            stdout = out.read()
    if check and rc != 0:
        raise RuntimeError(
            f"{shlex.join(argv)} exited {rc}:\n{stderr.decode(errors='replace')[-3000:]}"
            f"\n{stdout.decode(errors='replace')[-2000:]}"
        )
    return Run(list(argv), seconds, rc, int(usage.ru_maxrss), stdout, stderr)


TIME = "/usr/bin/time"


def time_v(argv: Sequence[str]) -> list[str]:
    """``argv`` under /usr/bin/time, which prints the program's peak RSS (KiB) last on stderr.

    A C parent matters: a child forked from a Python process is charged the Python image's
    pages in its ru_maxrss (they are resident at the fork), so wait4 from here would report
    the bench's own ~25 MiB for a small pg_dump."""
    if not os.path.exists(
        TIME
    ):  # Debian package "time"; without it wait4's (upper) figure
        return list(argv)
    return [TIME, "-f", "%M", *argv]


def time_v_kib(run: Run) -> int:
    if run.argv[0] != TIME:
        return run.maxrss_kib
    return int(run.stderr.decode().strip().splitlines()[-1])


def repeat(n: int, fn: Callable[[], float], warmup: int = 1) -> list[float]:
    """``fn`` returns one measurement; ``warmup`` extra runs are made first and dropped."""
    for _ in range(warmup):
        fn()
    return [fn() for _ in range(n)]


# -- machine ----------------------------------------------------------------------------
def machine_info(pg_bindir: str) -> dict[str, str]:
    mem_kib = 0
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    pgv = subprocess.run(
        [f"{pg_bindir}/postgres", "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu or platform.processor(),
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "postgresql": pgv,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


# -- clusters and a PgBackMan environment -------------------------------------------------
def make_base() -> Path:
    base = Path(tempfile.mkdtemp(prefix="pgbackman-bench-", dir="/tmp"))
    os.chmod(base, 0o755)
    return base


def start_cluster(base: Path, name: str, extra_conf: str = "") -> PgCluster:
    return PgCluster(base, name, find_bindir()).init(extra_conf).start()


@dataclass
class BenchEnv:
    """A catalog cluster with the schema loaded, this host registered and a config file."""

    base: Path
    catalog: PgCluster
    root: Path
    cron_dir: Path
    config_path: Path
    server_id: int
    env: dict[str, str] = field(default_factory=dict)
    dbname: str = "pgbackman"

    def q(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Superuser query on the catalog (set-up only, never a measured path)."""
        rows: list[tuple[Any, ...]] = self.catalog.query(
            sql, params, dbname=self.dbname
        )
        return rows

    def su(self, sql: str) -> str:
        return str(self.catalog.psql(sql, dbname=self.dbname))

    def prog(self, name: str) -> str:
        return str(VENV_BIN / name)


def write_config(path: Path, values: dict[str, dict[str, Any]]) -> None:
    lines = []
    for section, kv in values.items():
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {v}" for k, v in kv.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def setup_env(base: Path, catalog_conf: str = "", log_level: str = "INFO") -> BenchEnv:
    """Catalog cluster + schema + this host as backup server ``backup01.pgbackman.bench``."""
    catalog = start_cluster(base, "catalog", catalog_conf)
    res = catalog.psql_file(SCHEMA)
    if res.returncode != 0:
        raise RuntimeError(f"loading {SCHEMA} failed:\n{res.stderr}")
    root, cron_dir = base / "srv", base / "cron.d"
    root.mkdir(mode=0o700)
    cron_dir.mkdir()
    cfg = base / "pgbackman.conf"
    write_config(
        cfg,
        {
            "backup_server": {
                "backup_server": SERVER_FQDN,
                "root_backup_partition": str(root),
                # What this server's own file lets pgbackman_control touch (issue 11).
                "crontab_dir": str(cron_dir),
                "allow_root_backup_user": "ON",  # the bench runs as root
            },
            "pgbackman_database": {
                "host": catalog.host,
                "port": catalog.port,
                "dbname": "pgbackman",
                "user": "pgbackman_role_rw",
                "pg_connect_retry_interval": 1,
                "connect_timeout": 5,
            },
            "pgbackman_dump": {"tmp_dir": str(base)},
            "pgbackman_maintenance": {
                "maintenance_interval": 60,
                "pidfile": str(base / "maint.pid"),
            },
            "pgbackman_control": {"pidfile": str(base / "control.pid")},
            "logging": {
                "log_level": log_level,
                "log_file": str(base / "pgbackman.log"),
            },
        },
    )

    def q(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = catalog.query(sql, params, dbname="pgbackman")
        return rows

    q(
        "UPDATE backup_server_default_config SET value = %s WHERE parameter = 'root_backup_partition'",
        (str(root),),
    )
    for param, value in (
        ("pgbackman_dump", str(VENV_BIN / "pgbackman_dump")),
        ("pgbackman_restore", str(VENV_BIN / "pgbackman_restore")),
        ("backup_user", "root"),  # the bench runs as root, like the tests
    ):
        q(
            "UPDATE backup_server_default_config SET value = %s WHERE parameter = %s",
            (value, param),
        )
    q(
        "UPDATE pgsql_node_default_config SET value = %s WHERE parameter = 'pgnode_backup_partition'",
        (f"{root}/pgsql_node_%%pgnode%%",),
    )
    q(
        "UPDATE pgsql_node_default_config SET value = %s WHERE parameter = 'pgnode_crontab_file'",
        (f"{cron_dir}/pgsql_node_%%pgnode%%",),
    )
    server_id = int(
        q(
            "SELECT register_backup_server(%s, %s, 'RUNNING', 'bench server')",
            (SERVER_HOST, SERVER_DOMAIN),
        )[0][0]
    )
    env = dict(os.environ)
    env["PGBACKMAN_CONFIG"] = str(cfg)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    env.pop("PGPASSWORD", None)
    return BenchEnv(base, catalog, root, cron_dir, cfg, server_id, env)


def cleanup(base: Path, clusters: Sequence[PgCluster]) -> None:
    for c in clusters:
        try:
            c.destroy()
        except Exception as exc:  # noqa: BLE001 - clean up as much as possible
            log(f"could not stop cluster {c.name}: {exc}")
    shutil.rmtree(base, ignore_errors=True)


def self_rusage_children_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def cmdline(argv: Sequence[str]) -> str:
    """A command line for RESULTS.md with the temp dir abbreviated."""
    text = shlex.join(argv)
    text = text.replace(str(VENV_BIN) + "/", ".venv/bin/")
    return re.sub(r"/tmp/pgbackman-bench-[A-Za-z0-9_]+", "<tmp>", text)
