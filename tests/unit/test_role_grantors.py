"""Which roles a backup carries (core/rolegraph) and how their grantors are rendered
(archive/globalsfile), without PostgreSQL."""

from __future__ import annotations

from pgbackman.archive import globalsfile as G
from pgbackman.core.rolegraph import Edge, closure
from pgbackman.pgnode.globals import (
    AclItem,
    DatabaseGlobals,
    DatabaseInfo,
    Membership,
    RoleInfo,
)
from pgbackman.restore import plan

# 100 owner, 101 readers (privileges), 102 report (member of readers, granted by 105),
# 103 analyst (member of report), 104 team (report is a member of it), 105 admin,
# 106 outsider (member of team only), 107 deployer (member of owner), 6181 predefined.
EDGES = [
    Edge(101, 102, 105),
    Edge(102, 103, 10),
    Edge(104, 102, None),
    Edge(104, 106, 10),
    Edge(101, 105, 10),
    Edge(100, 107, 10),
    Edge(6181, 108, 10),
]


def test_closure_walks_members_down_and_groups_and_grantors_up() -> None:
    got = closure([100, 101, 6181], EDGES, predefined=[6181])
    assert got == {100, 101, 102, 103, 104, 105, 107, 6181}
    assert 106 not in got  # member of a group reached going up: not carried
    assert 108 not in got  # member of a predefined role: reaches every database
    assert 10 not in got  # the bootstrap superuser is never a carried grantor


def test_closure_adds_a_grantors_own_groups() -> None:
    edges = [Edge(1, 2, 3), Edge(4, 3, None)]
    assert closure([1], edges) == {1, 2, 3, 4}


def _globals(version_num: int, memberships: list[Membership]) -> DatabaseGlobals:
    names = sorted({m.role for m in memberships} | {m.member for m in memberships})
    return DatabaseGlobals(
        database=DatabaseInfo(
            "db",
            "own",
            "UTF8",
            "C",
            "C",
            acl=[
                AclItem("own", "CREATE"),
                AclItem("adm", "CREATE", True),
                AclItem("mem", "CREATE", False, grantor="adm"),
                AclItem(None, "CONNECT", False, grantor="own"),
            ],
        ),
        roles=[RoleInfo(n, 20000 + i) for i, n in enumerate(names)],
        memberships=memberships,
        server_version=str(version_num // 10000),
        server_version_num=version_num,
        passwords_readable=True,
    )


def test_pre_16_grantor_is_named_only_on_a_pre_16_server() -> None:
    g = _globals(
        150004,
        [
            Membership("grp", "adm", admin_option=True),
            Membership("grp", "mem", grantor="adm"),
            Membership("grp", "gone", grantor="not_in_file"),
        ],
    )
    text = G.render_roles_sql(g, node="n")
    assert "current_setting('server_version_num')::int < 160000" in text
    assert 'GRANT "grp" TO "mem" GRANTED BY "adm";' in text
    assert 'ELSE\n    GRANT "grp" TO "mem";' in text
    assert 'GRANT "grp" TO "gone";' in text and "not_in_file" not in text
    # A subset without the grantor restores the membership as the restoring superuser's.
    sub = G.render_roles_sql(g, node="n", roles=["grp", "mem"])
    assert 'GRANT "grp" TO "mem";' in sub and "GRANTED BY" not in sub


def test_16_grants_come_after_their_grantors_admin_option() -> None:
    g = _globals(
        160002,
        [
            Membership("grp", "mem", False, True, True, grantor="adm"),
            Membership("grp", "adm", True, False, True, grantor="boss"),
            Membership("grp", "boss", True, True, False),
            Membership("grp", "x", False, True, True, grantor="noadmin"),
            Membership("other", "noadmin", False, True, True),
        ],
    )
    lines = [ln for ln in G.render_roles_sql(g, node="n").splitlines() if "GRANT" in ln]
    assert lines == [
        'GRANT "grp" TO "boss" WITH ADMIN TRUE, INHERIT TRUE, SET FALSE;',
        'GRANT "other" TO "noadmin" WITH ADMIN FALSE, INHERIT TRUE, SET TRUE;',
        'GRANT "grp" TO "adm" WITH ADMIN TRUE, INHERIT FALSE, SET TRUE GRANTED BY "boss";',
        'GRANT "grp" TO "mem" WITH ADMIN FALSE, INHERIT TRUE, SET TRUE GRANTED BY "adm";',
        # noadmin never holds ADMIN OPTION on grp: PostgreSQL 16 would refuse it.
        'GRANT "grp" TO "x" WITH ADMIN FALSE, INHERIT TRUE, SET TRUE;',
    ]


def test_database_privileges_keep_their_grantor_and_order() -> None:
    text = G.render_dbconfig_sql(_globals(150004, []), node="n")
    grants = text[text.index("REVOKE ALL") :].splitlines()
    assert grants[2:9] == [
        'GRANT CREATE ON DATABASE :"target_db" TO "own";',
        'GRANT CREATE ON DATABASE :"target_db" TO "adm" WITH GRANT OPTION;',
        'SET ROLE "adm";',
        'GRANT CREATE ON DATABASE :"target_db" TO "mem";',
        "RESET ROLE;",
        'GRANT CONNECT ON DATABASE :"target_db" TO PUBLIC;',
        "",
    ]


def test_old_backups_without_grantors_still_load() -> None:
    g = _globals(150004, [Membership("grp", "mem", grantor="adm")])
    data = g.to_json_dict()
    for m in data["memberships"]:
        del m["grantor"]
    for a in data["database"]["acl"]:
        del a["grantor"]
    old = DatabaseGlobals.from_json_dict(data)
    assert old.memberships[0].grantor is None
    assert all(a.grantor is None for a in old.database.acl or [])


def test_privileges_restored_serially_after_a_parallel_restore() -> None:
    assert plan.separate_acl_pass("FULL", ["-j", "4"])
    assert not plan.separate_acl_pass("FULL", [])
    assert not plan.separate_acl_pass("FULL", ["-j", "4", "--no-acl"])
    assert not plan.separate_acl_pass("DATA", ["-j", "4"])
    listing = (
        ";\n; comment\n"
        "215; 1259 16392 TABLE app t own\n"
        "3383; 0 0 ACL - SCHEMA app own\n"
        "3385; 0 0 ACL app COLUMN t.id own\n"
        "2051; 826 16426 DEFAULT ACL app DEFAULT PRIVILEGES FOR TABLES own\n"
        "3361; 0 16392 TABLE DATA app t own\n"
    )
    assert plan.acl_entries(listing) == [
        "3383; 0 0 ACL - SCHEMA app own",
        "3385; 0 0 ACL app COLUMN t.id own",
        "2051; 826 16426 DEFAULT ACL app DEFAULT PRIVILEGES FOR TABLES own",
    ]
