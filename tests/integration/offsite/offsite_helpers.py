"""Helpers of the offsite tests: the real pgbackman_dump, pgbackman_maintenance and
pgbackman_restore as subprocesses against the test catalog and the moto S3 server."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg2 import sql
from support.pgcluster import PgCluster
from support.s3server import S3Server
from support.shell import Shell

VENV_BIN = Path(sys.executable).parent
PREFIX = "fleet/eu"
BUCKET = "pgbackman-offsite"


def run(argv: list[str], env: dict[str, str], timeout: float = 180) -> Any:
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass
class OffsiteEnv:
    pgb: Any
    node: PgCluster
    node_id: int
    s3: S3Server
    bucket: str

    def configure(self, local: str = "") -> None:
        """Offsite on for this server (through the shell, as an operator would), the AWS
        credentials in the programs' environment, [pgbackman_offsite] settings."""
        self.pgb.env.update(self.s3.aws_env())
        # Nothing of the developer's own AWS set-up may leak in.
        self.pgb.env["AWS_CONFIG_FILE"] = str(self.pgb.tmp / "no-aws-config")
        self.pgb.env["AWS_SHARED_CREDENTIALS_FILE"] = str(self.pgb.tmp / "no-aws-creds")
        res = self.shell(
            f'update_backup_server_config {self.pgb.server_id} "" "" "" "" "" "" "" "" "" '
            f'"s3://{self.bucket}/{PREFIX}/" "{self.s3.url}" "90 days"'
        )
        assert res.returncode == 0, res.stdout + res.stderr
        self.local_config(
            f"allowed_urls = s3://{self.bucket}/{PREFIX}\n"
            f"allowed_endpoints = {self.s3.url}\n{local}"
        )

    def local_config(self, section: str) -> None:
        """This server's [pgbackman_offsite] section (replacing an earlier one)."""
        text = self.pgb.config_path.read_text(encoding="utf-8")
        text = text.split("\n[pgbackman_offsite]\n")[0]
        self.pgb.config_path.write_text(
            f"{text}\n[pgbackman_offsite]\n{section}\n", encoding="utf-8"
        )

    def shell(self, command: str, fmt: str | None = None) -> Any:
        return Shell(self.pgb).cmd(command, fmt)

    def create_database(self, name: str, rows: int = 100) -> None:
        conn = self.node.connect("postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
            )
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.close()
        with self.node.connect(name) as conn:
            with conn.cursor() as cur:
                cur.execute(
                    "CREATE TABLE t (id int PRIMARY KEY, v text);"
                    "INSERT INTO t SELECT g, md5(g::text || random()::text)"
                    " FROM generate_series(1, %s) g",
                    (rows,),
                )
        conn.close()

    def fingerprint(self, cluster: PgCluster, name: str) -> str:
        with cluster.connect(name) as conn:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT count(*) || ':' || md5(string_agg(v, ',' ORDER BY id)) FROM t"
                )
                value = str(cur.fetchone()[0])
        conn.close()
        return value

    def define(
        self, dbname: str, server_id: int | None = None, encryption: bool = False
    ) -> int:
        return int(
            self.pgb.su_query(
                "SELECT register_backup_definition(%s, %s, %s, '0', '3', '*', '*', '*', 'FULL',"
                " %s, '7 days', 1, '', 'ACTIVE', 'offsite test')",
                (server_id or self.pgb.server_id, self.node_id, dbname, encryption),
            )[0][0]
        )

    def dump(self, def_id: int) -> dict[str, Any]:
        res = run(
            [str(VENV_BIN / "pgbackman_dump"), "--def-id", str(def_id)], self.pgb.env
        )
        assert res.returncode == 0, res.stderr
        rows = self.pgb.cat.query(
            "SELECT * FROM backup_catalog WHERE def_id = %s ORDER BY bck_id DESC",
            (def_id,),
        )
        return dict(rows[0])

    def maintenance(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return run(
            [str(VENV_BIN / "pgbackman_maintenance"), *(args or ("--once",))],
            env or self.pgb.env,
        )

    def row(self, bck_id: int) -> dict[str, Any] | None:
        r = self.pgb.cat.query_one(
            "SELECT * FROM backup_catalog WHERE bck_id = %s", (bck_id,)
        )
        return None if r is None else dict(r)

    def manifest_entries(self, row: dict[str, Any]) -> list[tuple[str, str]]:
        text = Path(row["pg_dump_manifest_file"]).read_text(encoding="utf-8")
        return [tuple(line.split("  ", 1)) for line in text.splitlines()]  # type: ignore[misc]

    def object_digests(self, location: str) -> dict[str, str]:
        """SHA-256 of every object under a backup's location, read back from the server."""
        prefix = location.removeprefix(f"s3://{self.bucket}/")
        return {
            key.removeprefix(prefix): hashlib.sha256(
                self.s3.get(self.bucket, key)
            ).hexdigest()
            for key in self.s3.keys(self.bucket, prefix)
        }
