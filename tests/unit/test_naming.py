"""core/naming.py: safe file-name components and the names of one dump run."""

from __future__ import annotations

import datetime as dt

import pytest

from pgbackman.core import naming


@pytest.mark.parametrize(
    "name",
    [
        "we'ird db; $(touch X) %x",
        "a/b",
        "..",
        ".hidden",
        "ÆØÅ日本",
        "x\ny",
        "50%off",
        "",
        "-",
        "`id`",
    ],
)
def test_safe_component_only_safe_characters(name: str) -> None:
    out = naming.safe_component(name)
    assert set(out) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~"
    )
    assert "/" not in out and "%" not in out
    assert not out.startswith(".")


def test_safe_component_keeps_plain_names() -> None:
    assert naming.safe_component("app_1.db-x") == "app_1.db-x"
    assert naming.safe_component("a b") == "a_x20_b"
    assert naming.safe_component("é") == "_xC3__xA9_"


def test_safe_component_long_names_are_bounded_and_distinct() -> None:
    a = naming.safe_component("ø" * 63)
    b = naming.safe_component("ø" * 62 + "æ")
    assert len(a) <= 96 and len(b) <= 96
    assert a != b


def test_dump_names_database() -> None:
    ts = naming.run_timestamp(dt.datetime(2026, 1, 2, 3, 4, 5))
    assert ts == "20260102T030405"
    n = naming.dump_names(
        dbname="we'ird db",
        node_fqdn="pg1.example.org",
        release_tag="15",
        tag=naming.job_tag(7, None),
        backup_code="full",
        ts=ts,
    )
    assert (
        n.base == "we_x27_ird_x20_db-pg1.example.org-v15-defid7-cFULL-20260102T030405"
    )
    assert n.database.endswith("-DATABASE")
    assert n.users.endswith("-USERS.sql") and n.dbconfig.endswith("-DBCONFIG.sql")
    assert n.manifest.endswith("-MANIFEST.sha256") and n.log == n.base + ".log"
    assert not n.cluster


def test_dump_names_cluster_and_snapshot() -> None:
    n = naming.dump_names(
        dbname="",
        node_fqdn="pg1",
        release_tag="9_6",
        tag=naming.job_tag(None, 3),
        backup_code="CLUSTER",
        ts="20260102T030405",
    )
    assert n.cluster_file == "CLUSTER-pg1-v9_6-snapid3-cCLUSTER-20260102T030405.sql.gz"
    assert n.cluster


def test_dump_names_database_requires_dbname() -> None:
    with pytest.raises(ValueError):
        naming.dump_names(
            dbname="",
            node_fqdn="h",
            release_tag="15",
            tag="defid1",
            backup_code="FULL",
            ts="t",
        )


def test_job_tag_and_lock_names() -> None:
    with pytest.raises(ValueError):
        naming.job_tag(None, None)
    with pytest.raises(ValueError):
        naming.job_tag(1, 2)
    assert naming.lock_file_name(4, None) == ".backup-def4.lock"
    assert naming.lock_file_name(None, 9) == ".snapshot-9.lock"
    p = naming.partial_dir_name("defid4", 123, "20260101T000000")
    assert p.startswith(".partial-defid4-")
    import fnmatch

    assert fnmatch.fnmatch(p, naming.partial_glob("defid4"))
    assert not fnmatch.fnmatch(p, naming.partial_glob("defid40"))


def test_decrypted_copy_names() -> None:
    name = naming.decrypted_dir_name(12, 4321)
    assert name == ".decrypted-restoredef12-4321"
    assert naming.parse_decrypted_name(name) == naming.DecryptedName(12, 4321)
    for other in (
        ".decrypted-restoredef12-4321x",
        ".decrypted-restoredefNone-4321",
        ".decrypted-restoredef12-",
        "decrypted-restoredef12-4321",
        ".partial-defid1-2-20200101T000000",
        ".decrypted-restoredef1-2/../x",
    ):
        assert naming.parse_decrypted_name(other) is None, other


def test_run_base_pattern_is_the_regular_expression_it_replaces() -> None:
    """RunBase (two literals and two precompiled patterns) accepts exactly the names the
    expression <head>-<fqdn>-v<release>-<tag>-c<code>-<ts> does."""
    import re

    from pgbackman.core.naming import _RELEASE_RE, _TS_RE, run_base_pattern

    pat = run_base_pattern(
        dbname="app-1", node_fqdn="db.example.org", tag="defid7", backup_code="full"
    )
    regex = re.compile(
        r"app-1-db\.example\.org-v" + _RELEASE_RE + r"-defid7-cFULL-" + _TS_RE
    )
    names = [
        "app-1-db.example.org-v15-defid7-cFULL-20261202T101500",
        "app-1-db.example.org-v9_6-defid7-cFULL-20261202T101500",
        "app-1-db.example.org-v15_-defid7-cFULL-20261202T101500",
        "app-1-db.example.org-v-defid7-cFULL-20261202T101500",
        "app-1-db.example.org-v15-defid7-cFULL-20261202T101500x",
        "app-1-db.example.org-v15-defid77-cFULL-20261202T101500",
        "app-1-db.example.org-v15-defid7-cSCHEMA-20261202T101500",
        "app-1-db.example.org-v15-defid7-cFULL-2026120T101500",
        "app-2-db.example.org-v15-defid7-cFULL-20261202T101500",
        "app-1-db.example.org-v15-defid7-cFULL-20261202T101500-DATABASE",
        "",
    ]
    for name in names:
        assert pat.fullmatch(name) == bool(regex.fullmatch(name)), name
    assert pat.fullmatch(names[0]) and pat.fullmatch(names[1])
