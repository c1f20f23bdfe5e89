"""Offsite upload of a 1 GB dump with flat memory (issue 18).

A real ``pgbackman_dump`` of a database holding random bytes (``--compress=0``: the dump is
as large as its data, about 1 GiB; a 100 MiB one is the comparison) on a server whose
``offsite_url`` points at a real S3 API server on this machine (moto in server mode,
tests/support/s3server.py). The measured run is the maintenance pass that uploads the copy
(``pgbackman_maintenance --once`` under bench/rss_wrap.py: VmHWM of the Python process), then
``--verify --offsite`` (every object read back and hashed). Memory must not grow with the
dump: the upload reads the file through a non-seekable hashing reader (at most
``max_concurrency + 2`` parts of ``chunk_size_mb`` buffered), the reads stream 1 MiB pieces.

    .venv/bin/python bench/run_all.py --only offsite
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from common import (
    BENCH,
    VENV_BIN,
    cleanup,
    cmdline,
    fmt_mib,
    fmt_s,
    log,
    make_base,
    setup_env,
    start_cluster,
)
from support.s3server import S3Server

BUCKET = "pgbackman-bench"
MiB = 1024 * 1024


def _random_database(node: object, name: str, mib: int) -> None:
    """``mib`` MiB of random bytes in 1 MiB bytea rows (pg_dump writes them as hex text)."""
    node.psql(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    node.psql(  # type: ignore[attr-defined]
        "CREATE TABLE blob (id int PRIMARY KEY, b bytea);"
        "INSERT INTO blob SELECT i, (SELECT decode(string_agg(md5(random()::text || i || g), ''), 'hex')"
        "  FROM generate_series(1, 65536) g) FROM generate_series(1, %d) i;" % mib,
        dbname=name,
    )


def _wrapped(env: object, out: Path, *args: str) -> tuple[float, int, int]:
    import subprocess

    argv = [
        str(VENV_BIN / "python"),
        str(BENCH / "rss_wrap.py"),
        str(out),
        "pgbackman.programs.maintenance",
        *args,
    ]
    t0 = time.monotonic()
    res = subprocess.run(argv, env=env.env, capture_output=True, text=True, check=False)  # type: ignore[attr-defined]
    seconds = time.monotonic() - t0
    if res.returncode != 0:
        raise RuntimeError(f"{cmdline(argv)} failed: {res.stderr[-500:]}")
    data = json.loads(out.read_text())
    return seconds, int(data["self_maxrss_kib"]), res.returncode


def run(quick: bool) -> str:
    sizes = (
        (16, 64) if quick else (100, 520)
    )  # MiB of random data -> dumps of ~2x as hex
    base = make_base()
    env = node = None
    s3 = None
    try:
        env = setup_env(base)
        node = start_cluster(base, "node")
        s3 = S3Server(base / "moto.log").start()
        s3.create_bucket(BUCKET)
        env.env.update(s3.aws_env())
        env.env["AWS_CONFIG_FILE"] = str(base / "no-aws-config")
        env.env["AWS_SHARED_CREDENTIALS_FILE"] = str(base / "no-aws-creds")
        with open(env.config_path, "a", encoding="utf-8") as fh:
            fh.write(
                f"\n[pgbackman_offsite]\nallowed_urls = s3://{BUCKET}/bench\n"
                f"allowed_endpoints = {s3.url}\n"
            )
        for parameter, value in (
            ("offsite_url", f"s3://{BUCKET}/bench"),
            ("offsite_endpoint_url", s3.url),
        ):
            env.q(
                "SELECT update_backup_server_config(%s, %s, %s)",
                (env.server_id, parameter, value),
            )
        node_id = int(
            env.q(
                "SELECT register_pgsql_node('127', '0.0.1', %s, 'postgres', 'RUNNING', 'bench')",
                (node.port,),
            )[0][0]
        )
        rows = []
        for mib in sizes:
            db = f"offsite_{mib}"
            log(f"offsite: creating {db} ({mib} MiB of random bytes)")
            _random_database(node, db, mib)
            def_id = int(
                env.q(
                    "SELECT register_backup_definition(%s, %s, %s, '0', '3', '*', '*', '*',"
                    " 'FULL', false, '7 days', 1, '--compress=0', 'ACTIVE', 'bench')",
                    (env.server_id, node_id, db),
                )[0][0]
            )
            import subprocess

            log(f"offsite: pgbackman_dump of {db}")
            dump = subprocess.run(
                [env.prog("pgbackman_dump"), "--def-id", str(def_id)],
                env=env.env,
                capture_output=True,
                text=True,
                check=False,
            )
            if dump.returncode != 0:
                raise RuntimeError(f"pgbackman_dump failed: {dump.stderr[-500:]}")
            bck_id, size = env.q(
                "SELECT bck_id, pg_dump_file_size + pg_dump_roles_file_size"
                " + pg_dump_dbconfig_file_size FROM backup_catalog WHERE def_id = %s",
                (def_id,),
            )[0]
            log(f"offsite: uploading bck_id {bck_id} ({size / MiB:.0f} MiB)")
            up_s, up_kib, _ = _wrapped(env, base / f"up{mib}.json", "--once")
            status = env.q(
                "SELECT offsite_status FROM backup_catalog WHERE bck_id = %s", (bck_id,)
            )[0][0]
            if status != "UPLOADED":
                raise RuntimeError(f"bck_id {bck_id}: offsite status {status}")
            log(f"offsite: --verify --offsite of bck_id {bck_id}")
            ver_s, ver_kib, _ = _wrapped(
                env,
                base / f"ver{mib}.json",
                "--verify",
                "--offsite",
                "--bck-id",
                str(bck_id),
            )
            rows.append(
                f"| {size / MiB:.0f} MiB | {fmt_s(up_s)} | {size / MiB / up_s:.0f} MiB/s "
                f"| {fmt_mib(up_kib)} | {fmt_s(ver_s)} | {fmt_mib(ver_kib)} |"
            )
        return (
            "A real `pgbackman_dump` (`--compress=0` of random bytes: the dump is as large as "
            "its data) on a server with `offsite_url` set, uploaded by the next "
            "`pgbackman_maintenance --once` to moto in server mode on this machine (the "
            "network is loopback: the figures are the client's cost, and moto's own "
            "in-memory store, not a real link). Defaults of `[pgbackman_offsite]`: "
            "`chunk_size_mb = 8`, `max_concurrency = 4`, no bandwidth limit. Memory = peak "
            "RSS (VmHWM) of the maintenance process (bench/rss_wrap.py).\n\n"
            "| dump size | upload (whole pass) | throughput | upload peak RSS "
            "| --verify --offsite | verify peak RSS |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
            "Commands: `.venv/bin/python bench/rss_wrap.py OUT.json "
            "pgbackman.programs.maintenance --once`, then `... --verify --offsite --bck-id N`.\n"
        )
    finally:
        if s3 is not None:
            s3.kill()
        cleanup(
            base, [c for c in (node, env.catalog if env else None) if c is not None]
        )
