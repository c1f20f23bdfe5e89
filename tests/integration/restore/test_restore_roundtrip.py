"""The round trip a restore must survive: a database with group roles and their LOGIN members,
non-superuser grantors, default privileges, column grants, a policy and ``ALTER ROLE ... IN
DATABASE ... SET``, backed up with the real pgbackman_dump and restored with the real
pgbackman_restore onto a server that has none of its roles, is compared object by object:

* ``pg_dump --schema-only`` of source and restored database: identical;
* the lines of ``pg_dump --roles-only`` about the database's roles: identical (attributes,
  password hashes, comments, settings, memberships with ``GRANTED BY``);
* the membership grantors and the database ACL with its grantors: identical;
* the data: identical; and a role with no link to the database is not carried.

The test clusters run PostgreSQL 15: membership grantors are recorded there (and dumped by
pg_dumpall 15), though not checked before PostgreSQL 16 (docs/manual.rst, "Roles").
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

from restore_helpers import roles
from support.pgcluster import PgCluster
from support.richdb import (
    RichDb,
    add_group_policy,
    database_fingerprint,
    role_fingerprint,
    table_checksums,
)

_RESTRICT = re.compile(r"^\\(un)?restrict ")


def _client(cluster: PgCluster, program: str, *args: str) -> str:
    res = subprocess.run(
        [
            f"{cluster.bindir}/{program}",
            "-h",
            cluster.host,
            "-p",
            str(cluster.port),
            "-U",
            "postgres",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    # pg_dump >= 15.14 brackets its output with a random \restrict key.
    return "\n".join(ln for ln in res.stdout.splitlines() if not _RESTRICT.match(ln))


def _schema(cluster: PgCluster, dbname: str) -> str:
    return _client(cluster, "pg_dump", "--schema-only", "-d", dbname)


def _role_lines(cluster: PgCluster, r: RichDb) -> list[str]:
    text = _client(cluster, "pg_dumpall", "--roles-only")
    return [ln for ln in text.splitlines() if r.prefix in ln and r.outsider not in ln]


def _grants(cluster: PgCluster, r: RichDb) -> list[tuple[Any, ...]]:
    return cluster.query(
        "SELECT ro.rolname, m.rolname, g.rolname, am.admin_option"
        " FROM pg_auth_members am JOIN pg_roles ro ON ro.oid = am.roleid"
        " JOIN pg_roles m ON m.oid = am.member LEFT JOIN pg_roles g ON g.oid = am.grantor"
        " WHERE m.rolname LIKE %s ORDER BY 1, 2",
        (r.prefix + "%",),
    )


def _acl(cluster: PgCluster, dbname: str) -> list[tuple[Any, ...]]:
    return cluster.query(
        "SELECT pg_get_userbyid(a.grantor), coalesce(pg_get_userbyid(nullif(a.grantee, 0)),"
        " 'PUBLIC'), a.privilege_type, a.is_grantable"
        " FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = %s"
        " ORDER BY 2, 3",
        (dbname,),
    )


def test_round_trip_onto_a_server_without_the_roles(rst, rich: RichDb) -> None:  # type: ignore[no-untyped-def]
    add_group_policy(rst.node1, rich)
    assert not set(rich.roles) & roles(rst.node2)
    bck = rst.backup(rich.dbname, "FULL")
    # Every role the database needs is carried: the login members that reach it only
    # through a group (report, analyst through report), the owner's member (deployer) and
    # the grantor (admin); a role without a link to it is not.
    assert sorted(bck["role_list"]) == rich.roles
    assert rich.outsider not in bck["role_list"]
    rdef = rst.define(
        bck["bck_id"], rich.dbname, roles=list(bck["role_list"]), extra="-j 2"
    )
    res = rst.restore(rdef)
    assert res.returncode == 0, res.stderr
    assert rst.one_row(rdef)["execution_status"] == "SUCCEEDED"
    assert rich.outsider not in roles(rst.node2)

    source, restored = rst.node1, rst.node2
    assert _schema(restored, rich.dbname) == _schema(source, rich.dbname)
    role_lines = _role_lines(source, rich)
    assert _role_lines(restored, rich) == role_lines
    assert f"GRANT {rich.readers} TO {rich.report} GRANTED BY {rich.admin};" in (
        role_lines
    )
    grants = _grants(source, rich)
    assert _grants(restored, rich) == grants
    assert (rich.readers, rich.report, rich.admin, False) in grants
    acl = _acl(source, rich.dbname)
    assert _acl(restored, rich.dbname) == acl
    assert (rich.admin, rich.report, "CREATE", False) in acl
    assert role_fingerprint(restored, rich.roles) == role_fingerprint(
        source, rich.roles
    )
    assert database_fingerprint(restored, rich.dbname) == database_fingerprint(
        source, rich.dbname
    )
    assert table_checksums(restored, rich.dbname) == table_checksums(
        source, rich.dbname
    )
