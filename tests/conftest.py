"""Shared fixtures: one catalog cluster and two PgSQL node clusters started by the suite,
a private catalog clone and PgBackMan installation per test (``pgb_env``, a
:class:`support.pgbenv.PgbEnv`) and the shell driver on it (``shell``).

There is no skip: PostgreSQL is a hard requirement of this suite (``make test`` installs it),
and under ``CI=true`` a skipped integration suite would look green.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg2 import sql

from support.pgbenv import PgbEnv, make_pgb_env
from support.pgcluster import PgCluster, find_bindir
from support.shell import Shell
from support.site import Site

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "sql" / "pgbackman.sql"

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_base_dir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="pgbackman-tests-", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _start_cluster(base: Path, name: str) -> PgCluster:
    try:
        bindir = find_bindir()
    except RuntimeError as exc:
        pytest.fail(
            f"PostgreSQL is required for the test-suite: {exc} (run `make test`)"
        )
    return PgCluster(base, name, bindir).init().start()


@pytest.fixture(scope="session")
def catalog_cluster(pg_base_dir: Path) -> Iterator[PgCluster]:
    """A cluster with sql/pgbackman.sql loaded (database ``pgbackman``, used as a template)."""
    cluster = _start_cluster(pg_base_dir, "catalog")
    res = cluster.psql_file(SCHEMA)
    if res.returncode != 0:
        cluster.destroy()
        pytest.fail(f"Loading {SCHEMA} failed:\n{res.stderr}")
    yield cluster
    cluster.destroy()


def _sample_databases(cluster: PgCluster, names: list[str]) -> None:
    for db in names:
        cluster.psql(f'CREATE DATABASE "{db}"')
        cluster.psql(
            "CREATE TABLE t (id int PRIMARY KEY, v text);"
            "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 100) g;",
            dbname=db,
        )


@pytest.fixture(scope="session")
def node1(pg_base_dir: Path) -> Iterator[PgCluster]:
    cluster = _start_cluster(pg_base_dir, "node1")
    _sample_databases(cluster, ["app1", "app2"])
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def node2(pg_base_dir: Path) -> Iterator[PgCluster]:
    cluster = _start_cluster(pg_base_dir, "node2")
    _sample_databases(cluster, ["app3"])
    yield cluster
    cluster.destroy()


def _databases(cluster: PgCluster) -> set[str]:
    return {str(r[0]) for r in cluster.query("SELECT datname FROM pg_database")}


@pytest.fixture(autouse=True)
def _node_databases_left_as_found(request: pytest.FixtureRequest) -> Iterator[None]:
    """Databases a test creates on the shared node clusters are dropped after it.

    node1/node2 live for the whole session; a database left behind would change what
    ``#all_databases#`` or a listing sees in a later test, i.e. make results depend on the
    order tests run in.
    """
    clusters = [
        request.getfixturevalue(name)
        for name in ("node1", "node2")
        if name in request.fixturenames
    ]
    before = {id(c): _databases(c) for c in clusters}
    yield
    for cluster in clusters:
        for name in sorted(_databases(cluster) - before[id(cluster)]):
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            _as_superuser(cluster, drop.format(sql.Identifier(name)))


def _as_superuser(cluster: PgCluster, *statements: str | sql.Composable) -> None:
    """Statements on the cluster's ``postgres`` database through one short connection (a
    psql process per statement costs more than cloning a catalog; a long-lived session
    would not survive the tests that restart the catalog cluster)."""
    conn = cluster.connect("postgres")
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def _clone_strategy(catalog_cluster: PgCluster) -> str:
    # FILE_COPY (PostgreSQL 15+) copies the small template faster than the default WAL_LOG;
    # the test clusters run with fsync off, so its checkpoint is cheap.
    conn = catalog_cluster.connect("postgres")
    try:
        return " STRATEGY FILE_COPY" if conn.server_version >= 150000 else ""
    finally:
        conn.close()


@pytest.fixture
def catalog_db(catalog_cluster: PgCluster, _clone_strategy: str) -> Iterator[str]:
    """A fresh copy of the loaded catalog, private to one test."""
    name = f"pgbackman_t{os.getpid()}_{next(_counter)}"
    _as_superuser(
        catalog_cluster,
        f"CREATE DATABASE {name} TEMPLATE pgbackman{_clone_strategy}",
        # Database-level privileges are not copied from a template.
        f"GRANT CONNECT, TEMPORARY ON DATABASE {name} TO pgbackman_role_rw",
        f"GRANT CONNECT ON DATABASE {name} TO pgbackman_role_ro, pgbackman_role_server",
    )
    yield name
    _as_superuser(catalog_cluster, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pgb_env(
    catalog_cluster: PgCluster, catalog_db: str, tmp_path: Path
) -> Iterator[PgbEnv]:
    """A catalog clone with this host registered as backup server, and a config file for it."""
    pe = make_pgb_env(catalog_cluster, catalog_db, tmp_path)
    yield pe
    pe.close()


@pytest.fixture
def shell(pgb_env: PgbEnv) -> Shell:
    """The real ``pgbackman`` shell on this test's catalog (tests/support/shell.py)."""
    return Shell(pgb_env)


@pytest.fixture
def site(pgb_env: PgbEnv, node1: PgCluster, node2: PgCluster) -> Site:
    """node1 and node2 registered on this test's catalog (tests/support/site.py)."""
    return Site(
        pgb_env,
        node1,
        node2,
        pgb_env.register_node(node1),
        pgb_env.register_node(node2),
    )
