"""PgBackMan 1.x USERS and DBCONFIG files read into DatabaseGlobals (archive/legacy.py),
then rendered by this software's own renderers: the texts are what 1.x wrote from
pg_dumpall of PostgreSQL 9.6 and of PostgreSQL 11+ (where CREATE DATABASE lost its OWNER)."""

from __future__ import annotations

import pytest

from pgbackman.archive.globalsfile import render_dbconfig_sql, render_roles_sql
from pgbackman.archive.legacy import LegacyFormatError, read_legacy_globals, tokenize
from pgbackman.pgnode.globals import AclItem, Membership

USERS_96 = """--
-- PgBackMan
--
-- Roles statements needed by the database:
-- shop@db1.example.org
--

BEGIN;

CREATE ROLE shop_owner;
ALTER ROLE shop_owner WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'md5e5e28d0f8b3cd3f9dd5e3e5b1a0f1c3a' VALID UNTIL '2030-01-01 00:00:00+00';
ALTER ROLE shop_owner SET search_path TO 'shop', '$user', 'public';
ALTER ROLE shop_owner SET work_mem TO '64MB';
CREATE ROLE "Shop Readers";
ALTER ROLE "Shop Readers" WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5;
COMMENT ON ROLE "Shop Readers" IS 'read-only people''s role';
CREATE ROLE web;
ALTER ROLE web WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;
ALTER ROLE web IN DATABASE shop SET statement_timeout TO '30s';
ALTER ROLE web IN DATABASE other SET statement_timeout TO '1s';
GRANT "Shop Readers" TO web GRANTED BY postgres;
GRANT shop_owner TO web WITH ADMIN OPTION GRANTED BY postgres;

COMMIT;

--
-- PgBackMan roles dump completed
--
"""

DBCONFIG_96 = """--
-- PgBackMan
--
-- Database attributes needed by the database:
-- shop@db1.example.org
--

BEGIN;

CREATE DATABASE shop WITH TEMPLATE = template0 OWNER = shop_owner ENCODING = 'LATIN1' LC_COLLATE = 'de_DE.ISO-8859-1' LC_CTYPE = 'de_DE.ISO-8859-1' CONNECTION LIMIT = 20;
ALTER DATABASE shop SET default_transaction_isolation TO 'serializable';
REVOKE ALL ON DATABASE shop FROM PUBLIC;
REVOKE ALL ON DATABASE shop FROM shop_owner;
GRANT ALL ON DATABASE shop TO shop_owner;
GRANT CONNECT ON DATABASE shop TO web;
GRANT TEMPORARY ON DATABASE shop TO "Shop Readers" WITH GRANT OPTION;
GRANT CONNECT ON DATABASE shop10 TO nobody;
COMMENT ON DATABASE shop IS 'the shop';

COMMIT;
"""

DBCONFIG_15 = """BEGIN;

CREATE DATABASE app1 WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';
COMMENT ON DATABASE app1 IS 'the app';
ALTER DATABASE app1 SET work_mem TO '8MB';
REVOKE CONNECT,TEMPORARY ON DATABASE app1 FROM PUBLIC;
GRANT CONNECT ON DATABASE app1 TO app_user;

COMMIT;
"""


def test_tokens_unquote_identifiers_and_literals() -> None:
    toks = tokenize("COMMENT ON ROLE \"a \"\"b\"\"\" IS E'x\\ny' 'it''s';")
    assert [(t.kind, t.text) for t in toks] == [
        ("word", "COMMENT"),
        ("word", "ON"),
        ("word", "ROLE"),
        ("ident", 'a "b"'),
        ("word", "IS"),
        ("str", "x\ny"),
        ("str", "it's"),
        ("punct", ";"),
    ]


def test_roles_of_a_96_users_file() -> None:
    g = read_legacy_globals(USERS_96, DBCONFIG_96, "shop", default_owner="postgres")
    roles = {r.name: r for r in g.roles}
    assert sorted(roles) == ["Shop Readers", "shop_owner", "web"]
    owner = roles["shop_owner"]
    assert owner.canlogin and owner.inherit and not owner.superuser
    assert owner.password == "md5e5e28d0f8b3cd3f9dd5e3e5b1a0f1c3a"
    assert owner.valid_until == "2030-01-01 00:00:00+00"
    assert owner.settings == ['search_path=shop, "$user", public', "work_mem=64MB"]
    readers = roles["Shop Readers"]
    assert not readers.canlogin and not readers.inherit and readers.connlimit == 5
    assert readers.comment == "read-only people's role"
    assert g.memberships == [
        Membership("Shop Readers", "web"),
        Membership("shop_owner", "web", admin_option=True),
    ]
    assert g.passwords_readable
    # Only the settings for this database; pg_dumpall's quoting is undone.
    assert g.database.role_settings == {"web": ["statement_timeout=30s"]}

    sql = render_roles_sql(g, node="db9:5432", roles=["web", "Shop Readers"])
    assert 'CREATE ROLE "web" WITH NOSUPERUSER INHERIT' in sql
    assert 'CREATE ROLE "Shop Readers" WITH NOSUPERUSER NOINHERIT' in sql
    assert "CONNECTION LIMIT 5" in sql
    assert 'GRANT "Shop Readers" TO "web";' in sql
    assert "shop_owner" not in sql  # not asked for: left out with its membership


def test_database_of_a_96_dbconfig_file() -> None:
    g = read_legacy_globals(USERS_96, DBCONFIG_96, "shop", default_owner="postgres")
    d = g.database
    assert (d.name, d.owner, d.encoding, d.collate, d.ctype, d.connlimit) == (
        "shop",
        "shop_owner",
        "LATIN1",
        "de_DE.ISO-8859-1",
        "de_DE.ISO-8859-1",
        20,
    )
    assert d.settings == ["default_transaction_isolation=serializable"]
    assert d.comment == "the shop"
    assert sorted(d.acl or [], key=lambda a: (str(a.grantee), a.privilege)) == [
        AclItem("Shop Readers", "TEMPORARY", True),
        AclItem("shop_owner", "CONNECT"),
        AclItem("shop_owner", "CREATE"),
        AclItem("shop_owner", "TEMPORARY"),
        AclItem("web", "CONNECT"),
    ]
    sql = render_dbconfig_sql(g, node="db9:5432")
    assert "ENCODING = 'LATIN1'" in sql and "LC_COLLATE = 'de_DE.ISO-8859-1'" in sql
    assert 'ALTER DATABASE :"target_db" OWNER TO "shop_owner";' in sql
    assert 'ALTER DATABASE :"target_db" CONNECTION LIMIT 20;' in sql
    assert (
        'ALTER ROLE "web" IN DATABASE :"target_db" SET "statement_timeout" TO \'30s\';'
        in sql
    )
    assert (
        'GRANT TEMPORARY ON DATABASE :"target_db" TO "Shop Readers" WITH GRANT OPTION;'
        in sql
    )
    assert 'REVOKE ALL ON DATABASE :"target_db" FROM PUBLIC;' in sql
    assert "nobody" not in sql and "shop10" not in sql  # another database's line


def test_dbconfig_of_postgresql_11_and_later_has_no_owner() -> None:
    g = read_legacy_globals(None, DBCONFIG_15, "app1", default_owner="postgres")
    d = g.database
    assert (d.owner, d.encoding, d.collate, d.ctype, d.locale_provider) == (
        "postgres",
        "UTF8",
        "C.UTF-8",
        "C.UTF-8",
        "c",
    )
    assert "the owner of the database is not recorded: postgres owns it" in g.notes
    assert {(a.grantee, a.privilege) for a in d.acl or []} == {
        ("postgres", "CONNECT"),
        ("postgres", "CREATE"),
        ("postgres", "TEMPORARY"),
        ("app_user", "CONNECT"),
    }


def test_unreadable_files_are_clear_errors() -> None:
    with pytest.raises(LegacyFormatError, match="no CREATE DATABASE line for 'app1'"):
        read_legacy_globals(None, "BEGIN;\nCOMMIT;\n", "app1", default_owner="postgres")
    with pytest.raises(LegacyFormatError, match="unreadable roles statement"):
        read_legacy_globals(
            "ALTER ROLE x SET;\n", DBCONFIG_15, "app1", default_owner="postgres"
        )
