"""Case 24 (node side) — the node role used for dumps need not be a superuser: with
pg_read_all_data (PG14+) a FULL dump (data, roles file, database settings) succeeds. (Without
SELECT on pg_authid the roles file carries no password hashes and the run log says so: see
pgnode/globals.py. Catalog-side privileges are tests/integration/test_schema_install.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rel_helpers import RelEnv

ROLE = "rel_dumper"


@pytest.fixture
def dumper(node1: Any) -> Iterator[str]:
    node1.psql(
        f"DROP ROLE IF EXISTS {ROLE}; CREATE ROLE {ROLE} LOGIN NOSUPERUSER;"
        f" GRANT pg_read_all_data TO {ROLE}"
    )
    yield ROLE
    node1.psql(f"DROP ROLE IF EXISTS {ROLE}")


def test_full_dump_as_a_non_superuser(rel: RelEnv, dumper: str) -> None:
    assert rel.node.query(
        "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (dumper,)
    ) == [(False,)]
    rel.pgb.su_query(
        "UPDATE pgsql_node SET admin_user = %s WHERE node_id = %s",
        (dumper, rel.node_id),
    )
    def_id = rel.define("app1")
    res = rel.dump(def_id)
    assert res.returncode == 0, res.stderr
    [row] = rel.rows(def_id)
    assert row["execution_status"] == "SUCCEEDED"
    assert (Path(row["pg_dump_file"]) / "toc.dat").is_file()
    assert (
        Path(row["pg_dump_roles_file"]).is_file()
        and Path(row["pg_dump_dbconfig_file"]).is_file()
    )
    assert "CREATE DATABASE" in Path(row["pg_dump_dbconfig_file"]).read_text()
