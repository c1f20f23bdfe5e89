"""Case 23 — TLS enforced: a node cluster that rejects non-TLS connections (hostnossl
reject) with a certificate for 127.0.0.1 signed by a test CA. With sslmode=verify-full and a
wrong CA the catalog connection and the dump fail with a certificate error; with the right CA
both work, and the libpq settings really reach pg_dump (its /proc environ, sampled at a gate,
and the fact that the server accepts TLS connections only).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from rel_helpers import RelEnv, gated_bindir, proc_secrets, rewrite_config
from support.pgcluster import PgCluster

from pgbackman.catalog.connection import Catalog
from pgbackman.config import DatabaseConfig
from pgbackman.errors import CatalogUnavailableError


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(d: Path, name: str) -> None:
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.crt",
        cwd=d,
    )


@pytest.fixture(scope="module")
def tls(pg_base_dir: Path) -> Iterator[tuple[PgCluster, Path]]:
    c = PgCluster(pg_base_dir, "tlsnode")
    certs = c.dir / "certs"
    certs.mkdir(parents=True)
    _make_ca(certs, "goodca")
    _make_ca(certs, "wrongca")
    (certs / "san.cnf").write_text("subjectAltName = IP:127.0.0.1\n")
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        cwd=certs,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "goodca.crt",
        "-CAkey",
        "goodca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
        "-out",
        "server.crt",
        cwd=certs,
    )
    pw = pwd.getpwnam("postgres")
    for p in [certs, *certs.iterdir()]:
        os.chown(p, pw.pw_uid, pw.pw_gid)
    os.chmod(certs / "server.key", 0o600)
    c.init(
        f"ssl = on\nssl_cert_file = '{certs}/server.crt'\nssl_key_file = '{certs}/server.key'\n"
    )
    hba = c.datadir / "pg_hba.conf"
    hba.write_text("hostnossl all all 127.0.0.1/32 reject\n" + hba.read_text())
    c.start()
    c.psql("CREATE DATABASE tlsdb")
    c.psql(
        "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 100) g",
        dbname="tlsdb",
    )
    yield c, certs
    c.destroy()


def test_catalog_connection_verifies_the_certificate(
    tls: tuple[PgCluster, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster, certs = tls
    cfg = DatabaseConfig(
        host="127.0.0.1",
        port=cluster.port,
        dbname="postgres",
        user="postgres",
        connect_timeout=5,
        sslmode="verify-full",
    )
    monkeypatch.setenv("PGSSLROOTCERT", str(certs / "wrongca.crt"))
    with pytest.raises(CatalogUnavailableError, match="certificate verify failed"):
        Catalog(cfg).connect()
    monkeypatch.setenv("PGSSLROOTCERT", str(certs / "goodca.crt"))
    with Catalog(cfg) as cat:
        assert (
            cat.scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            is True
        )


def test_dump_verifies_the_certificate_and_pg_dump_gets_the_settings(
    rel: RelEnv, tls: tuple[PgCluster, Path], tmp_path: Path
) -> None:
    cluster, certs = tls
    rows = rel.pgb.su_query(
        "SELECT register_pgsql_node(%s, %s, %s, %s, %s, %s)",
        ("127", "0.0.1", cluster.port, "postgres", "RUNNING", "tls node"),
    )
    def_id = rel.define("tlsdb", node_id=int(rows[0][0]))
    # Node TLS comes from the libpq environment of the job; the catalog (no TLS in this test)
    # keeps its own explicit setting from the config file, which wins over PGSSLMODE.
    rewrite_config(rel.pgb.config_path, "pgbackman_database", sslmode="prefer")
    env = dict(
        rel.pgb.env, PGSSLMODE="verify-full", PGSSLROOTCERT=str(certs / "wrongca.crt")
    )
    res = rel.dump(def_id, env=env)
    assert res.returncode == 1
    [row] = rel.rows(def_id)
    assert "certificate verify failed" in row["error_message"], row["error_message"]

    env["PGSSLROOTCERT"] = str(certs / "goodca.crt")
    gate = gated_bindir(rel, tmp_path)
    proc = rel.popen("pgbackman_dump", "--def-id", str(def_id), env=env)
    try:
        _cmdline, environ = proc_secrets(gate.pid())
        gate.open()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert b"PGSSLMODE=verify-full\0" in environ
    assert f"PGSSLROOTCERT={certs / 'goodca.crt'}\0".encode() in environ
    assert [r["execution_status"] for r in rel.rows(def_id)] == ["ERROR", "SUCCEEDED"]
