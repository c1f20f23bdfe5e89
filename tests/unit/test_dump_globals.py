"""archive/globalsfile.py rendering (quoting, list GUCs, subsets) and backup/recovery.py decisions."""

from __future__ import annotations

import pytest

from pgbackman.archive import globalsfile as G
from pgbackman.backup.recovery import should_pause, should_resume
from pgbackman.pgnode.globals import (
    AclItem,
    DatabaseGlobals,
    DatabaseInfo,
    Membership,
    RoleInfo,
)


def test_quoting() -> None:
    assert G.quote_ident('a"b') == '"a""b"'
    assert G.quote_literal("it's") == "'it''s'"
    assert G.quote_literal("a\\b'") == "E'a\\\\b'''"
    assert G.psql_quote_arg("we'ird\\ `x` \n") == "'we''ird\\\\ `x` \\n'"
    with pytest.raises(ValueError):
        G.quote_ident("a\x00")


@pytest.mark.parametrize(
    "value,items",
    [
        ('"$user", public', ["$user", "public"]),
        ('app, "Weird Schema", public', ["app", "Weird Schema", "public"]),
        ('"a""b",c', ['a"b', "c"]),
        ("", []),
    ],
)
def test_split_guc_list(value: str, items: list[str]) -> None:
    assert G.split_guc_list(value) == items


def test_render_setting() -> None:
    assert G.render_setting("search_path=app, public") == (
        '"search_path"',
        "'app', 'public'",
    )
    assert G.render_setting("work_mem=16MB") == ('"work_mem"', "'16MB'")
    assert G.render_setting("DateStyle=SQL, DMY") == ('"DateStyle"', "'SQL, DMY'")


def _globals() -> DatabaseGlobals:
    return DatabaseGlobals(
        database=DatabaseInfo(
            name="d'b",
            owner="own",
            encoding="UTF8",
            collate="C",
            ctype="C",
            settings=["work_mem=8MB"],
            role_settings={"r$1": ["search_path=x"]},
            acl=[AclItem(None, "CONNECT"), AclItem("r$1", "TEMPORARY", True)],
            comment="c'",
        ),
        roles=[
            RoleInfo(
                "own",
                20000,
                canlogin=True,
                password="SCRAM-SHA-256$x",
                settings=["work_mem=1MB"],
            ),
            RoleInfo("r$1", 20001, comment="$pgb_"),
            RoleInfo("pg_read_all_data", 6181, predefined=True),
        ],
        memberships=[
            Membership("r$1", "own", admin_option=True),
            Membership("pg_read_all_data", "own"),
        ],
        server_version="15.1",
        server_version_num=150001,
        passwords_readable=True,
    )


def test_roles_file_shape_and_subset() -> None:
    g = _globals()
    text = G.render_roles_sql(g, node="n:1")
    assert text.count("CREATE ROLE") == 2 and 'pg_read_all_data" WITH' not in text
    assert 'GRANT "r$1" TO "own" WITH ADMIN OPTION;' in text
    assert (
        "IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pg_read_all_data')"
        in text
    )
    assert "PASSWORD 'SCRAM-SHA-256$x'" in text
    assert g.role_list == ["own", "r$1"]
    sub = G.render_roles_sql(g, node="n:1", roles=["own"])
    assert sub.count("CREATE ROLE") == 1 and 'GRANT "r$1"' not in sub
    assert DatabaseGlobals.from_json_dict(g.to_json_dict()) == g


def test_dbconfig_file_shape() -> None:
    text = G.render_dbconfig_sql(_globals(), node="n:1")
    assert "\\set target_db 'd''b'" in text
    assert 'ALTER DATABASE :"target_db" OWNER TO "own";' in text
    assert (
        'ALTER ROLE "r$1" IN DATABASE :"target_db" SET "search_path" TO \'x\';' in text
    )
    assert 'GRANT CONNECT ON DATABASE :"target_db" TO PUBLIC;' in text
    assert (
        'GRANT TEMPORARY ON DATABASE :"target_db" TO "r$1" WITH GRANT OPTION;' in text
    )
    assert "COMMENT ON DATABASE :\"target_db\" IS 'c''';" in text


def test_recovery_decisions() -> None:
    assert should_pause(True, True, False)
    assert not should_pause(False, True, False)
    assert not should_pause(True, False, False)
    assert not should_pause(True, True, True)
    assert should_resume(True, True, True, 0)
    assert not should_resume(
        True, True, True, 1
    )  # another dump still running: it resumes
    assert not should_resume(True, True, False, 0)
    assert not should_resume(True, False, True, 0)
