"""The catalog side of offsite copies: the server config values (shell and SQL refuse the
same bad values and change nothing), the status function's transitions, rows that outlive
their local files, and what the shell shows."""

from __future__ import annotations

from typing import Any

import pytest
from support.shell import Shell

from pgbackman.errors import CatalogError, PgBackManError


def _config(pgb: Any) -> dict[str, str]:
    rows = pgb.su_query(
        "SELECT parameter, value FROM backup_server_config WHERE server_id = %s"
        " AND parameter LIKE 'offsite%%'",
        (pgb.server_id,),
    )
    return dict(rows)


def _shell(pgb: Any, command: str) -> Any:
    return Shell(pgb).cmd(command)


def test_defaults_shell_update_and_refusals(pgb_env: Any) -> None:
    assert _config(pgb_env) == {
        "offsite_url": "",
        "offsite_endpoint_url": "",
        "offsite_retention_period": "90 days",
    }
    empty9 = '"" "" "" "" "" "" "" "" ""'  # bindirs, root, recipients
    res = _shell(
        pgb_env,
        f"update_backup_server_config {pgb_env.server_id} {empty9} "
        '"s3://bkt/a/b/" "https://minio.example.org:9000/" "30 days"',
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert _config(pgb_env) == {
        "offsite_url": "s3://bkt/a/b",
        "offsite_endpoint_url": "https://minio.example.org:9000",
        "offsite_retention_period": "30 days",
    }
    for url, endpoint, period, message in (
        ("s3://Bad_Bucket", "", "", "bucket name"),
        ("", "https://key:secret@minio:9000", "", "no user or password"),
        ("", "", "0 days", "more than 0"),
        ("s3://bkt/../x", "", "", "prefix segment"),
    ):
        res = _shell(
            pgb_env,
            f'update_backup_server_config {pgb_env.server_id} {empty9} "{url}" "{endpoint}" "{period}"',
        )
        assert res.returncode == 1 and message in res.stdout + res.stderr, res.stdout
        assert _config(pgb_env)["offsite_url"] == "s3://bkt/a/b"  # nothing changed
    # "none" clears a value: offsite copies off, back to AWS.
    res = _shell(
        pgb_env,
        f'update_backup_server_config {pgb_env.server_id} {empty9} none none ""',
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (
        _config(pgb_env)["offsite_url"] == ""
        and _config(pgb_env)["offsite_endpoint_url"] == ""
    )


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("offsite_url", "s3://x"),
        ("offsite_url", "s3://bkt/a b"),
        ("offsite_url", "s3://a..b/c"),
        ("offsite_endpoint_url", "http://user:pw@host:9000"),
        ("offsite_retention_period", "200 years"),
        ("offsite_retention_period", "-1 day"),
    ],
)
def test_sql_refuses_what_python_refuses(
    pgb_env: Any, parameter: str, value: str
) -> None:
    with pytest.raises(CatalogError):
        pgb_env.operator.call(
            "update_backup_server_config", pgb_env.server_id, parameter, value
        )


def _succeeded_row(pgb: Any, node_id: int) -> int:
    def_id = pgb.su_query(
        "SELECT register_backup_definition(%s, %s, 'app1', '0', '3', '*', '*', '*', 'FULL',"
        " false, '7 days', 1, '', 'ACTIVE', '')",
        (pgb.server_id, node_id),
    )[0][0]
    return int(
        pgb.su_query(
            "SELECT register_backup_catalog(%s, 1, %s, %s, 'app1', now(), now(), NULL,"
            " '/x/app1-DATABASE', 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '/log', 'SUCCEEDED',"
            " 'CRON', NULL, NULL, '{}', '16', '16', gen_random_uuid(), 'FULL', %s, '/x/M.sha256')",
            (def_id, pgb.server_id, node_id, "0" * 64),
        )[0][0]
    )


def test_status_transitions_and_rows_outliving_local_files(
    pgb_env: Any, node1: Any
) -> None:
    node_id = pgb_env.register_node(node1)
    pgb_env.operator.call(
        "update_backup_server_config", pgb_env.server_id, "offsite_url", "s3://bkt/p"
    )
    bck = _succeeded_row(pgb_env, node_id)
    status = lambda: pgb_env.su_query(
        "SELECT offsite_status, offsite_error, local_deleted_at IS NOT NULL"
        " FROM backup_catalog WHERE bck_id = %s",
        (bck,),
    )
    assert status() == [("PENDING", None, False)]
    call = pgb_env.cat.call
    with pytest.raises(PgBackManError, match="cannot become EXPIRED"):
        call("set_backup_offsite_status", bck, "EXPIRED", None, None, None)
    with pytest.raises(PgBackManError, match="needs its s3:// location"):
        call("set_backup_offsite_status", bck, "UPLOADED", None, None, None)
    with pytest.raises(PgBackManError, match="Invalid offsite status"):
        call("set_backup_offsite_status", bck, "DONE", None, None, None)
    call("set_backup_offsite_status", bck, "ERROR", None, None, "line1\nline2")
    assert status() == [("ERROR", "line1 line2", False)]
    call("set_backup_offsite_status", bck, "UPLOADED", "s3://bkt/p/x/", "", None)
    assert status() == [("UPLOADED", None, False)]
    # Local retention removes the files of an expired backup that a newer intact one
    # follows (delete_backup_catalog's floor): the row stays while its copy lives.
    pgb_env.su_query(
        "UPDATE backup_catalog SET finished = now() - interval '30 days',"
        " started = now() - interval '30 days' WHERE bck_id = %s",
        (bck,),
    )
    pgb_env.su_query(
        "SELECT register_backup_catalog(def_id, 1, backup_server_id, pgsql_node_id, 'app1',"
        " now(), now(), NULL, '/x/app1-DATABASE', 1, NULL, NULL, NULL, NULL, NULL, NULL,"
        " NULL, '/log', 'SUCCEEDED', 'CRON', NULL, NULL, '{}', '16', '16', gen_random_uuid(),"
        " 'FULL', %s, '/x/M2.sha256') FROM backup_catalog WHERE bck_id = %s",
        ("1" * 64, bck),
    )
    call("delete_backup_catalog", bck)
    assert status() == [("UPLOADED", None, True)]
    # The shell shows it.
    res = _shell(pgb_env, f"show_backup_details {bck}")
    assert "Offsite status" in res.stdout and "UPLOADED" in res.stdout
    assert "offsite copy kept" in res.stdout and "s3://bkt/p/x/" in res.stdout
    res = Shell(pgb_env).cmd("show_backup_catalog all all all all all", "json")
    listed = res.json()["backup_catalog"]
    assert [r["offsite"] for r in listed if r["bckid"] == bck] == ["UPLOADED"]
    # Offsite retention expires the copy: nothing is left anywhere, the row goes.
    assert call("set_backup_offsite_status", bck, "EXPIRED", None, None, None) is None
    assert status() == []
