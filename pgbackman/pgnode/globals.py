"""SQL against a PgSQL NODE: the roles a database needs and the database's own settings.

This replaces upstream's text scraping of ``pg_dump -s`` / ``pg_dumpall -r`` / ``pg_dumpall -s``
output (substring matching, a whole-cluster schema dump per backup) by reading the node's
catalogs directly, connected to the database being dumped:

* roles owning an object or holding a privilege in the database (``pg_shdepend``: owners,
  ACLs incl. default ACLs and column privileges, policies, initial privileges), the database
  owner, grantees and grantors of the database ACL, roles with ``ALTER ROLE ... IN DATABASE
  ... SET``;
* their members (a LOGIN role that reaches the database only through a group), the roles
  they all belong to, and the grantors of those memberships, transitively
  (:func:`pgbackman.core.rolegraph.closure` over ``pg_auth_members``);
* their attributes, password hashes (only when ``pg_authid`` is readable), comments and
  ``ALTER ROLE ... SET`` settings; each membership with its options and its grantor;
* the database's encoding/locale, owner, connection limit, settings, ACL (in its own order,
  each privilege with its grantor) and comment.

Grantors: PostgreSQL records who granted a membership (``pg_auth_members.grantor``) and a
privilege (the ACL item's grantor). Before PostgreSQL 16 a membership grantor is recorded
but neither checked nor tracked: a superuser may name any role, and a dropped grantor leaves
a dangling OID (read here as "no grantor", with a note). A grant made by the bootstrap
superuser (and, from 16 on, by any superuser) is read as "no grantor": it is restored as
made by the restoring superuser.

The result is plain data (:class:`DatabaseGlobals`, JSON-serialisable); the SQL files written
beside a dump are rendered from it by :mod:`pgbackman.archive.globalsfile`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from pgbackman.core import rolegraph
from pgbackman.errors import NodeUnavailableError

FIRST_NORMAL_OID = 16384
BOOTSTRAP_SUPERUSER_OID = 10


@dataclass
class RoleInfo:
    name: str
    oid: int
    superuser: bool = False
    inherit: bool = True
    createrole: bool = False
    createdb: bool = False
    canlogin: bool = False
    replication: bool = False
    bypassrls: bool = False
    connlimit: int = -1
    valid_until: str | None = None
    password: str | None = (
        None  # hash as stored in pg_authid; None: none or not readable
    )
    comment: str | None = None
    settings: list[str] = field(
        default_factory=list
    )  # "name=value", as in pg_db_role_setting
    predefined: bool = False  # pg_* roles that exist in every cluster: never created

    @property
    def builtin(self) -> bool:
        return self.predefined


@dataclass
class Membership:
    role: str  # the role granted
    member: str
    admin_option: bool = False
    inherit_option: bool | None = None  # PostgreSQL >= 16 only
    set_option: bool | None = None
    grantor: str | None = (
        None  # None: the (restoring) superuser; see the module docstring
    )


@dataclass
class AclItem:
    grantee: str | None  # None = PUBLIC
    privilege: str  # CONNECT, CREATE, TEMPORARY
    grantable: bool = False
    grantor: str | None = None  # None = the database owner


@dataclass
class DatabaseInfo:
    name: str
    owner: str
    encoding: str
    collate: str
    ctype: str
    locale_provider: str | None = None  # 'c' libc, 'i' icu (PostgreSQL >= 15)
    icu_locale: str | None = None
    icu_rules: str | None = None
    connlimit: int = -1
    tablespace: str = "pg_default"
    is_template: bool = False
    allow_conn: bool = True
    comment: str | None = None
    settings: list[str] = field(default_factory=list)
    role_settings: dict[str, list[str]] = field(default_factory=dict)
    acl: list[AclItem] | None = None  # None = default privileges (datacl IS NULL)
    size: int | None = None


@dataclass
class DatabaseGlobals:
    database: DatabaseInfo
    roles: list[RoleInfo]
    memberships: list[Membership]
    server_version: str
    server_version_num: int
    passwords_readable: bool
    notes: list[str] = field(default_factory=list)

    @property
    def role_list(self) -> list[str]:
        """Roles the restore must provide (predefined roles excluded), sorted."""
        return sorted(r.name for r in self.roles if not r.predefined)

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["role_list"] = self.role_list
        d["format"] = "pgbackman-globals-1"
        return d

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> DatabaseGlobals:
        db = dict(d["database"])
        acl = db.get("acl")
        db["acl"] = None if acl is None else [AclItem(**a) for a in acl]
        return cls(
            database=DatabaseInfo(**db),
            roles=[RoleInfo(**r) for r in d["roles"]],
            memberships=[Membership(**m) for m in d["memberships"]],
            server_version=d["server_version"],
            server_version_num=int(d["server_version_num"]),
            passwords_readable=bool(d["passwords_readable"]),
            notes=list(d.get("notes", [])),
        )


_NEEDED_ROLES = """
WITH db AS (SELECT oid, datdba, datacl FROM pg_catalog.pg_database
            WHERE datname = pg_catalog.current_database())
SELECT DISTINCT x.oid
FROM (
    SELECT s.refobjid AS oid
      FROM pg_catalog.pg_shdepend s, db
     WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
       AND s.deptype <> 't'
       AND (s.dbid = db.oid
            OR (s.dbid = 0 AND s.classid = 'pg_catalog.pg_database'::pg_catalog.regclass
                AND s.objid = db.oid))
    UNION SELECT datdba FROM db
    UNION SELECT a.grantee FROM db, pg_catalog.aclexplode(db.datacl) a
    UNION SELECT a.grantor FROM db, pg_catalog.aclexplode(db.datacl) a
    UNION SELECT s.setrole FROM pg_catalog.pg_db_role_setting s, db
     WHERE s.setdatabase = db.oid
) x
WHERE x.oid <> 0
"""

# Every membership edge of the cluster (a grantor that no longer exists reads as NULL).
_EDGES = """
SELECT m.roleid::bigint AS role, m.member::bigint AS member,
       g.oid::bigint AS grantor
  FROM pg_catalog.pg_auth_members m
  LEFT JOIN pg_catalog.pg_roles g ON g.oid = m.grantor
"""


def _rows(
    conn: psycopg2.extensions.connection, q: str, params: Any = None
) -> list[dict[str, Any]]:
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(q, params)
            return [dict(r) for r in cur.fetchall()]
    except psycopg2.Error as exc:
        msg = (
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        )
        raise NodeUnavailableError(
            f"Reading roles/database settings on the node failed: {msg}"
        ) from None


def read_database_globals(conn: psycopg2.extensions.connection) -> DatabaseGlobals:
    """Everything a 100% restore of the connected database needs besides pg_dump's archive."""
    notes: list[str] = []
    ver = _rows(
        conn,
        "SELECT current_setting('server_version') AS v, "
        "current_setting('server_version_num')::int AS n, "
        "has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS authid",
    )[0]
    version_num = int(ver["n"])
    readable = bool(ver["authid"])
    needed = [int(r["oid"]) for r in _rows(conn, _NEEDED_ROLES)]
    edges = [
        rolegraph.Edge(
            int(r["role"]),
            int(r["member"]),
            None if r["grantor"] is None else int(r["grantor"]),
        )
        for r in _rows(conn, _EDGES)
    ]
    predefined = {o for e in edges for o in (e.role, e.member) if _is_predefined(o)} | {
        o for o in needed if _is_predefined(o)
    }
    oids = sorted(rolegraph.closure(needed, edges, predefined))
    roles = _read_roles(conn, oids, readable)
    if not readable:
        notes.append(
            "pg_authid is not readable (not a superuser): role passwords are not included"
        )
    memberships, dangling = _read_memberships(conn, oids, version_num)
    if dangling:
        notes.append(
            f"{dangling} membership(s) name a grantor that no longer exists (PostgreSQL "
            "< 16 does not track grantors): restored as granted by the restoring superuser"
        )
    database = _read_database(conn)
    return DatabaseGlobals(
        database=database,
        roles=roles,
        memberships=memberships,
        server_version=str(ver["v"]),
        server_version_num=version_num,
        passwords_readable=readable,
        notes=notes,
    )


def _read_roles(
    conn: psycopg2.extensions.connection, oids: list[int], readable: bool
) -> list[RoleInfo]:
    if not oids:
        return []
    source = "pg_catalog.pg_authid" if readable else "pg_catalog.pg_roles"
    pw = "r.rolpassword" if readable else "NULL::text"
    q = f"""
    SELECT r.oid::bigint AS oid, r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole,
           r.rolcreatedb, r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit,
           CASE WHEN r.rolvaliduntil IS NULL THEN NULL
                WHEN r.rolvaliduntil = 'infinity' THEN 'infinity'
                ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS+00')
           END AS valid_until,
           {pw} AS password,
           pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment,
           COALESCE((SELECT s.setconfig FROM pg_catalog.pg_db_role_setting s
                      WHERE s.setrole = r.oid AND s.setdatabase = 0), '{{}}') AS settings
      FROM {source} r
     WHERE r.oid = ANY(%s)
     ORDER BY r.rolname
    """  # noqa: S608 - only two fixed alternatives are interpolated, never data
    out = []
    for r in _rows(conn, q, (oids,)):
        oid = int(r["oid"])
        name = str(r["rolname"])
        out.append(
            RoleInfo(
                name=name,
                oid=oid,
                superuser=bool(r["rolsuper"]),
                inherit=bool(r["rolinherit"]),
                createrole=bool(r["rolcreaterole"]),
                createdb=bool(r["rolcreatedb"]),
                canlogin=bool(r["rolcanlogin"]),
                replication=bool(r["rolreplication"]),
                bypassrls=bool(r["rolbypassrls"]),
                connlimit=int(r["rolconnlimit"]),
                valid_until=r["valid_until"],
                password=r["password"],
                comment=r["comment"],
                settings=list(r["settings"] or []),
                predefined=oid < FIRST_NORMAL_OID and oid != BOOTSTRAP_SUPERUSER_OID,
            )
        )
    return out


def _is_predefined(oid: int) -> bool:
    return oid < FIRST_NORMAL_OID and oid != BOOTSTRAP_SUPERUSER_OID


def _read_memberships(
    conn: psycopg2.extensions.connection, oids: list[int], version_num: int
) -> tuple[list[Membership], int]:
    """Memberships between ``oids`` (PostgreSQL 16 may hold one per grantor: each is kept),
    and how many of them name a grantor that no longer exists."""
    if not oids:
        return [], 0
    extra = (
        "m.inherit_option, m.set_option"
        if version_num >= 160000
        else "NULL::boolean AS inherit_option, NULL::boolean AS set_option"
    )
    q = f"""
    SELECT pg_catalog.pg_get_userbyid(m.roleid) AS role,
           pg_catalog.pg_get_userbyid(m.member) AS member,
           m.admin_option, {extra},
           CASE WHEN m.grantor = {BOOTSTRAP_SUPERUSER_OID} THEN NULL ELSE g.rolname END
             AS grantor,
           (g.oid IS NULL AND m.grantor <> 0) AS dangling
      FROM pg_catalog.pg_auth_members m
      LEFT JOIN pg_catalog.pg_roles g ON g.oid = m.grantor
     WHERE m.member = ANY(%s) AND m.roleid = ANY(%s)
     ORDER BY 1, 2, 6 NULLS FIRST
    """  # noqa: S608 - fixed alternatives and a constant only
    rows = _rows(conn, q, (oids, oids))
    out = [
        Membership(
            role=str(r["role"]),
            member=str(r["member"]),
            admin_option=bool(r["admin_option"]),
            inherit_option=r["inherit_option"],
            set_option=r["set_option"],
            grantor=None if r["grantor"] is None else str(r["grantor"]),
        )
        for r in rows
    ]
    return out, sum(1 for r in rows if r["dangling"])


def _read_database(conn: psycopg2.extensions.connection) -> DatabaseInfo:
    row = _rows(
        conn,
        """
        SELECT to_jsonb(d.*) - 'datacl' AS d,
               pg_catalog.pg_get_userbyid(d.datdba) AS owner,
               pg_catalog.pg_encoding_to_char(d.encoding) AS encoding,
               t.spcname AS tablespace,
               pg_catalog.shobj_description(d.oid, 'pg_database') AS comment,
               d.datacl IS NULL AS default_acl,
               pg_catalog.pg_database_size(d.oid) AS size,
               COALESCE((SELECT s.setconfig FROM pg_catalog.pg_db_role_setting s
                          WHERE s.setdatabase = d.oid AND s.setrole = 0), '{}') AS settings
          FROM pg_catalog.pg_database d
          JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace
         WHERE d.datname = pg_catalog.current_database()
        """,
    )[0]
    d = row["d"]
    role_settings: dict[str, list[str]] = {}
    for r in _rows(
        conn,
        """
        SELECT pg_catalog.pg_get_userbyid(s.setrole) AS role, s.setconfig
          FROM pg_catalog.pg_db_role_setting s
          JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
         WHERE d.datname = pg_catalog.current_database() AND s.setrole <> 0
         ORDER BY 1
        """,
    ):
        role_settings[str(r["role"])] = list(r["setconfig"] or [])
    acl: list[AclItem] | None = None
    if not row["default_acl"]:
        # In the ACL's own order: a grant made by a role holding the grant option comes
        # after the grant that gave it the option, and is replayed in that order.
        acl = [
            AclItem(
                grantee=r["grantee"],
                privilege=str(r["privilege_type"]),
                grantable=bool(r["is_grantable"]),
                grantor=r["grantor"],
            )
            for r in _rows(
                conn,
                """
                SELECT CASE WHEN a.grantee = 0 THEN NULL
                            ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee,
                       a.privilege_type, a.is_grantable,
                       CASE WHEN a.grantor = d.datdba THEN NULL
                            ELSE pg_catalog.pg_get_userbyid(a.grantor) END AS grantor
                  FROM pg_catalog.pg_database d,
                       pg_catalog.aclexplode(d.datacl)
                         WITH ORDINALITY AS a(grantor, grantee, privilege_type,
                                              is_grantable, n)
                 WHERE d.datname = pg_catalog.current_database()
                 ORDER BY a.n
                """,
            )
        ]
    provider = d.get("datlocprovider")
    return DatabaseInfo(
        name=str(d["datname"]),
        owner=str(row["owner"]),
        encoding=str(row["encoding"]),
        collate=str(d.get("datcollate") or ""),
        ctype=str(d.get("datctype") or ""),
        locale_provider=str(provider) if provider else None,
        icu_locale=d.get("daticulocale")
        or (d.get("datlocale") if provider == "i" else None),
        icu_rules=d.get("daticurules"),
        connlimit=int(d.get("datconnlimit", -1)),
        tablespace=str(row["tablespace"]),
        is_template=bool(d.get("datistemplate", False)),
        allow_conn=bool(d.get("datallowconn", True)),
        comment=row["comment"],
        settings=list(row["settings"] or []),
        role_settings=role_settings,
        acl=acl,
        size=int(row["size"]) if row["size"] is not None else None,
    )


# -- standby recovery pause (upstream §4.6, with the PostgreSQL 10 function names) -------------


def recovery_state(conn: psycopg2.extensions.connection) -> tuple[bool, bool]:
    """(in_recovery, replay_paused) of the node."""
    r = _rows(
        conn,
        "SELECT pg_catalog.pg_is_in_recovery() AS rec, "
        "CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_is_wal_replay_paused() "
        "ELSE false END AS paused",
    )[0]
    return bool(r["rec"]), bool(r["paused"])


def pause_replay(conn: psycopg2.extensions.connection) -> None:
    _rows(conn, "SELECT pg_catalog.pg_wal_replay_pause() IS NULL AS done")


def resume_replay(conn: psycopg2.extensions.connection) -> None:
    _rows(conn, "SELECT pg_catalog.pg_wal_replay_resume() IS NULL AS done")


def other_dumpers(conn: psycopg2.extensions.connection, application_name: str) -> int:
    """Sessions of other pgbackman_dump runs on this node (ourselves excluded)."""
    r = _rows(
        conn,
        "SELECT count(*) AS n FROM pg_catalog.pg_stat_activity "
        "WHERE application_name = %s AND pid <> pg_catalog.pg_backend_pid()",
        (application_name,),
    )[0]
    return int(r["n"])


def database_size(conn: psycopg2.extensions.connection) -> int:
    return int(
        _rows(
            conn,
            "SELECT pg_catalog.pg_database_size(pg_catalog.current_database()) AS s",
        )[0]["s"]
    )
