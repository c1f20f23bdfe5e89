"""A "rich" test database on a node cluster, and fingerprints to compare a source database
with its restored copy (shared by the dump and restore tests).

The database has several schemas (one with a space and capitals), non-ASCII data, a large
object, a view, a sequence, a function, an owner role with a password and ``ALTER ROLE ...
SET`` (incl. a list-valued search_path), a granted role chain (owner -> group -> base), a
reader with table privileges and an ``ALTER ROLE ... IN DATABASE ... SET``, a role that only
appears in default privileges, database-level settings, a restricted database ACL and a
comment. Role names carry a per-test prefix, so a restore into another cluster starts with
none of them.

It also has what most users' databases have and upstream lost: a group role holding
privileges (``readers``: table and column grants, the owner's default privileges, and with
:func:`add_group_policy` a row-level security policy) whose LOGIN members (``report``, and ``analyst`` through ``report``)
reach the database only through it; a LOGIN member of the owner role (``deployer``); and a
non-superuser ``admin`` who granted some of it (``GRANT readers TO report`` as the holder of
ADMIN OPTION, ``CREATE ON DATABASE`` and a column grant as the holder of the grant option).
``outsider`` exists on the cluster with no link to the database and must never be carried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg2
from psycopg2 import sql

from support.pgcluster import PgCluster


@dataclass(frozen=True)
class RichDb:
    dbname: str
    prefix: str

    @property
    def owner(self) -> str:
        return f"{self.prefix}_owner"

    @property
    def group(self) -> str:
        return f"{self.prefix}_group"

    @property
    def base(self) -> str:
        return f"{self.prefix}_base"

    @property
    def reader(self) -> str:
        return f"{self.prefix}_reader"

    @property
    def defacl(self) -> str:
        return f"{self.prefix}_defacl"

    @property
    def readers(self) -> str:
        return f"{self.prefix}_readers"

    @property
    def report(self) -> str:
        return f"{self.prefix}_report"

    @property
    def analyst(self) -> str:
        return f"{self.prefix}_analyst"

    @property
    def deployer(self) -> str:
        return f"{self.prefix}_deployer"

    @property
    def admin(self) -> str:
        return f"{self.prefix}_admin"

    @property
    def outsider(self) -> str:
        return f"{self.prefix}_outsider"

    @property
    def roles(self) -> list[str]:
        """Every role a backup of the database must carry (not ``outsider``)."""
        return sorted(
            [
                self.owner,
                self.group,
                self.base,
                self.reader,
                self.defacl,
                self.readers,
                self.report,
                self.analyst,
                self.deployer,
                self.admin,
            ]
        )


def _exec(conn: Any, q: Any, params: Any = None) -> None:
    with conn.cursor() as cur:
        cur.execute(q, params)


def create_rich_database(cluster: PgCluster, dbname: str, prefix: str) -> RichDb:
    """Create the roles and the database ``dbname`` on ``cluster`` (superuser connection)."""
    r = RichDb(dbname, prefix)
    I = sql.Identifier
    conn = cluster.connect("postgres")
    try:
        _exec(
            conn,
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s CONNECTION LIMIT 7").format(
                I(r.owner)
            ),
            (f"secret-{prefix}",),
        )
        _exec(conn, sql.SQL("ALTER ROLE {} SET work_mem = '16MB'").format(I(r.owner)))
        _exec(
            conn,
            sql.SQL(
                'ALTER ROLE {} SET search_path = app, "Weird Schema", public'
            ).format(I(r.owner)),
        )
        _exec(
            conn, sql.SQL("COMMENT ON ROLE {} IS %s").format(I(r.owner)), ("owner — ø",)
        )
        _exec(conn, sql.SQL("CREATE ROLE {} NOLOGIN CREATEDB").format(I(r.base)))
        _exec(conn, sql.SQL("CREATE ROLE {} NOLOGIN NOINHERIT").format(I(r.group)))
        _exec(conn, sql.SQL("GRANT {} TO {}").format(I(r.base), I(r.group)))
        _exec(
            conn,
            sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(I(r.group), I(r.owner)),
        )
        _exec(conn, sql.SQL("CREATE ROLE {} LOGIN").format(I(r.reader)))
        _exec(conn, sql.SQL("CREATE ROLE {} NOLOGIN").format(I(r.defacl)))
        for role, attrs in (
            (r.readers, "NOLOGIN"),
            (r.report, "LOGIN PASSWORD 'report-pw'"),
            (r.analyst, "LOGIN"),
            (r.deployer, "LOGIN"),
            (r.admin, "LOGIN"),
            (r.outsider, "LOGIN"),
        ):
            _exec(conn, sql.SQL("CREATE ROLE {} " + attrs).format(I(role)))
        _exec(conn, sql.SQL("GRANT {} TO {}").format(I(r.owner), I(r.deployer)))
        _exec(
            conn,
            sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(
                I(r.readers), I(r.admin)
            ),
        )
        # A non-superuser grants the membership: pg_auth_members records it as grantor.
        _exec(conn, sql.SQL("SET ROLE {}").format(I(r.admin)))
        _exec(conn, sql.SQL("GRANT {} TO {}").format(I(r.readers), I(r.report)))
        _exec(conn, "RESET ROLE")
        _exec(conn, sql.SQL("GRANT {} TO {}").format(I(r.report), I(r.analyst)))
        _exec(
            conn,
            sql.SQL(
                "CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING 'UTF8'"
            ).format(I(dbname), I(r.owner)),
        )
        _exec(
            conn,
            sql.SQL("ALTER DATABASE {} SET datestyle = 'SQL, DMY'").format(I(dbname)),
        )
        _exec(
            conn,
            sql.SQL("ALTER DATABASE {} SET statement_timeout = '42s'").format(
                I(dbname)
            ),
        )
        _exec(
            conn,
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET work_mem = '3MB'").format(
                I(r.reader), I(dbname)
            ),
        )
        _exec(conn, sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(I(dbname)))
        _exec(
            conn,
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                I(dbname), I(r.reader)
            ),
        )
        _exec(
            conn,
            sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {} WITH GRANT OPTION").format(
                I(dbname), I(r.group)
            ),
        )
        _exec(
            conn,
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                I(dbname), I(r.readers)
            ),
        )
        _exec(
            conn,
            sql.SQL("GRANT CREATE ON DATABASE {} TO {} WITH GRANT OPTION").format(
                I(dbname), I(r.admin)
            ),
        )
        _exec(conn, sql.SQL("SET ROLE {}").format(I(r.admin)))
        _exec(
            conn,
            sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(I(dbname), I(r.report)),
        )
        _exec(conn, "RESET ROLE")
        _exec(
            conn,
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET work_mem = '5MB'").format(
                I(r.report), I(dbname)
            ),
        )
        _exec(
            conn,
            sql.SQL("COMMENT ON DATABASE {} IS %s").format(I(dbname)),
            ("Rich test db — «ÆØÅ» 'q'",),
        )
    finally:
        conn.close()
    conn = cluster.connect(dbname)
    try:
        _exec(conn, sql.SQL("SET ROLE {}").format(I(r.owner)))
        _exec(
            conn,
            """
            CREATE SCHEMA app;
            CREATE SCHEMA "Weird Schema";
            CREATE TABLE app.customers (id serial PRIMARY KEY, name text NOT NULL, city text, data jsonb);
            INSERT INTO app.customers (name, city, data)
              SELECT 'Kunde ' || g || ' Ærø Ünïcødé 日本', CASE WHEN g % 3 = 0 THEN NULL ELSE 'Oslo' END,
                     jsonb_build_object('n', g, 'tag', 'ø' || g)
                FROM generate_series(1, 500) g;
            CREATE TABLE "Weird Schema"."Mixed Case" (k text PRIMARY KEY, b bytea, f float8);
            INSERT INTO "Weird Schema"."Mixed Case"
              SELECT 'k' || g, decode(md5(g::text), 'hex'), g / 7.0 FROM generate_series(1, 200) g;
            CREATE TABLE public.docs (id int PRIMARY KEY, lo oid);
            INSERT INTO public.docs VALUES (1, lo_from_bytea(0, convert_to('large object ø data', 'UTF8')));
            CREATE VIEW app.oslo AS SELECT id, name FROM app.customers WHERE city = 'Oslo';
            CREATE FUNCTION app.double(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i * 2';
            CREATE SEQUENCE app.counter START 100;
            SELECT nextval('app.counter');
        """,
        )
        _exec(conn, sql.SQL("GRANT USAGE ON SCHEMA app TO {}").format(I(r.reader)))
        _exec(
            conn,
            sql.SQL("GRANT SELECT ON app.customers, app.oslo TO {}").format(
                I(r.reader)
            ),
        )
        _exec(
            conn,
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO {}"
            ).format(I(r.defacl)),
        )
        _exec(
            conn,
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON SEQUENCES TO {}"
            ).format(I(r.readers)),
        )
        _exec(conn, sql.SQL("GRANT USAGE ON SCHEMA app TO {}").format(I(r.readers)))
        _exec(conn, sql.SQL("GRANT SELECT ON app.oslo TO {}").format(I(r.readers)))
        _exec(
            conn,
            sql.SQL(
                "GRANT SELECT (id, name), UPDATE (city) ON app.customers TO {}"
                " WITH GRANT OPTION"
            ).format(I(r.admin)),
        )
        _exec(conn, sql.SQL("GRANT SELECT ON app.customers TO {}").format(I(r.readers)))
        _exec(conn, "RESET ROLE")
        # A column grant made by the non-superuser holding the grant option.
        _exec(conn, sql.SQL("SET ROLE {}").format(I(r.admin)))
        _exec(
            conn,
            sql.SQL("GRANT SELECT (id, name) ON app.customers TO {}").format(
                I(r.report)
            ),
        )
        _exec(conn, "RESET ROLE")
    finally:
        conn.close()
    return r


def add_group_policy(cluster: PgCluster, r: RichDb) -> None:
    """A row-level security policy for the ``readers`` group (kept out of the base
    database: an RDS restore, which carries no roles, cannot restore a policy naming one
    before PostgreSQL 18's pg_restore --no-policies)."""
    conn = cluster.connect(r.dbname)
    try:
        _exec(conn, sql.SQL("SET ROLE {}").format(sql.Identifier(r.owner)))
        _exec(conn, "ALTER TABLE app.customers ENABLE ROW LEVEL SECURITY")
        _exec(
            conn,
            sql.SQL(
                "CREATE POLICY oslo_only ON app.customers FOR SELECT TO {}"
                " USING (city = 'Oslo')"
            ).format(sql.Identifier(r.readers)),
        )
    finally:
        conn.close()


def drop_rich_database(cluster: PgCluster, r: RichDb) -> None:
    """Remove the database and its roles from ``cluster`` (best effort, for cleanup)."""
    conn = cluster.connect("postgres")
    try:
        _exec(
            conn,
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(r.dbname)
            ),
        )
        for role in [
            r.analyst,
            r.report,
            r.readers,
            r.deployer,
            r.admin,
            r.outsider,
            r.reader,
            r.defacl,
            r.owner,
            r.group,
            r.base,
        ]:
            try:
                _exec(
                    conn,
                    sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)),
                )
            except psycopg2.Error:
                pass
            _exec(conn, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    finally:
        conn.close()


# -- fingerprints ------------------------------------------------------------------------------


def table_checksums(cluster: PgCluster, dbname: str) -> dict[str, tuple[int, str]]:
    """{schema.table: (row count, md5 of all rows in a stable order)} of user tables, plus
    large objects (``<large objects>``) and sequence values."""
    out: dict[str, tuple[int, str]] = {}
    conn = cluster.connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                " ORDER BY 1, 2"
            )
            for schema, table in cur.fetchall():
                cur.execute(
                    sql.SQL(
                        "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
                        " FROM {}.{} t"
                    ).format(sql.Identifier(schema), sql.Identifier(table))
                )
                n, digest = cur.fetchone()
                out[f"{schema}.{table}"] = (int(n), str(digest))
            cur.execute(
                "SELECT count(*), coalesce(md5(string_agg(oid::text || ':' || md5(lo_get(oid)), '|'"
                " ORDER BY oid)), '') FROM pg_largeobject_metadata"
            )
            n, digest = cur.fetchone()
            out["<large objects>"] = (int(n), str(digest))
            if _has(cur, "app.counter"):
                cur.execute("SELECT last_value FROM app.counter")
                out["<app.counter>"] = (int(cur.fetchone()[0]), "")
    finally:
        conn.close()
    return out


def _has(cur: Any, regclass: str) -> bool:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (regclass,))
    return bool(cur.fetchone()[0])


def role_fingerprint(cluster: PgCluster, roles: list[str]) -> dict[str, Any]:
    """Attributes, password hash, comment, global settings and memberships (with their
    grantors) of ``roles``."""
    rows = cluster.query(
        "SELECT a.rolname, a.rolsuper, a.rolinherit, a.rolcreaterole, a.rolcreatedb, a.rolcanlogin,"
        " a.rolreplication, a.rolbypassrls, a.rolconnlimit, a.rolpassword,"
        " shobj_description(a.oid, 'pg_authid'),"
        " (SELECT setconfig FROM pg_db_role_setting s WHERE s.setrole = a.oid AND s.setdatabase = 0)"
        " FROM pg_authid a WHERE a.rolname = ANY(%s) ORDER BY 1",
        (roles,),
    )
    members = cluster.query(
        "SELECT r.rolname, m.rolname, am.admin_option, g.rolname FROM pg_auth_members am"
        " JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member"
        " LEFT JOIN pg_roles g ON g.oid = am.grantor"
        " WHERE m.rolname = ANY(%s) ORDER BY 1, 2, 4",
        (roles,),
    )
    return {"roles": [tuple(r) for r in rows], "members": [tuple(m) for m in members]}


def database_fingerprint(cluster: PgCluster, dbname: str) -> dict[str, Any]:
    """Owner, encoding, settings (own and per role), ACL, comment, object privileges."""
    db = cluster.query(
        "SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype,"
        " d.datconnlimit, shobj_description(d.oid, 'pg_database') FROM pg_database d WHERE datname = %s",
        (dbname,),
    )[0]
    settings = cluster.query(
        "SELECT coalesce(pg_get_userbyid(nullif(s.setrole, 0)), ''), s.setconfig FROM pg_db_role_setting s"
        " JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = %s ORDER BY 1",
        (dbname,),
    )
    acl = cluster.query(
        "SELECT coalesce(pg_get_userbyid(nullif(a.grantee, 0)), 'PUBLIC'), a.privilege_type,"
        " a.is_grantable, pg_get_userbyid(a.grantor)"
        " FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a"
        " WHERE d.datname = %s ORDER BY 1, 2, 4",
        (dbname,),
    )
    objects = cluster.query(
        "SELECT n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner), coalesce(c.relacl::text, '')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1",
        dbname=dbname,
    )
    defacl = cluster.query(
        "SELECT pg_get_userbyid(defaclrole), defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2",
        dbname=dbname,
    )
    return {
        "db": tuple(db),
        "settings": [tuple(s) for s in settings],
        "acl": [tuple(a) for a in acl],
        "objects": [tuple(o) for o in objects],
        "default_acl": [tuple(d) for d in defacl],
    }
