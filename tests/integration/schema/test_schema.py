"""sql/pgbackman.sql against a real PostgreSQL: triggers, NOTIFY channels, job queue,
default configuration, validation and retention semantics.

Every test works in its own clone of the catalog (``catalog_db``) as superuser unless the
test is about privileges (see test_schema_install.py).
"""

from __future__ import annotations

import select
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import psycopg2.errors
import pytest

NODE_CHANNELS = (
    "channel_pgsql_node_running",
    "channel_pgsql_node_stopped",
    "channel_pgsql_node_deleted",
    "channel_snapshot_defined",
    "channel_restore_defined",
)


# ---------------------------------------------------------------------------- helpers
@pytest.fixture
def su(catalog_cluster: Any, catalog_db: str) -> Iterator[Any]:
    conn = catalog_cluster.connect(catalog_db)  # autocommit, superuser
    yield conn
    conn.close()


@pytest.fixture
def listener(catalog_cluster: Any, catalog_db: str) -> Iterator[Any]:
    conn = catalog_cluster.connect(catalog_db)
    yield conn
    conn.close()


def q(conn: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def one(conn: Any, sql: str, params: Any = None) -> Any:
    return q(conn, sql, params)[0][0]


def listen(conn: Any, *channels: str) -> None:
    with conn.cursor() as cur:
        for ch in channels:
            cur.execute(f'LISTEN "{ch}"')


def received(
    conn: Any, expect: set[str] | None = None, timeout: float = 5.0
) -> set[str]:
    """Channel names notified on ``conn`` (waits until ``expect`` arrived or ``timeout``)."""
    got: set[str] = set()
    deadline = time.monotonic() + timeout
    while True:
        conn.poll()
        got |= {n.channel for n in conn.notifies}
        conn.notifies.clear()
        remaining = deadline - time.monotonic()
        if (expect is not None and expect <= got) or remaining <= 0:
            return got
        select.select([conn], [], [], min(remaining, 0.5))


def add_server(su: Any, host: str = "backup01") -> int:
    return int(
        one(
            su,
            "SELECT register_backup_server(%s, %s, %s, %s)",
            (host, "pgbackman.test", "RUNNING", ""),
        )
    )


def add_node(
    su: Any, port: int = 5432, status: str = "RUNNING", host: str = "db1"
) -> int:
    return int(
        one(
            su,
            "SELECT register_pgsql_node(%s, %s, %s, %s, %s, %s)",
            (host, "example.org", port, "postgres", status, "node"),
        )
    )


def add_def(
    su: Any, srv: int, node: int, dbname: str = "app1", minutes: str = "10", **kw: Any
) -> int:
    args = {
        "hours": "02",
        "dom": "*",
        "mon": "*",
        "dow": "*",
        "code": "FULL",
        "period": "7 days",
        "redundancy": 1,
        "extra": "",
        "status": "ACTIVE",
    }
    args.update(kw)
    return int(
        one(
            su,
            "SELECT register_backup_definition(%s,%s,%s,%s,%s,%s,%s,%s,%s,false,%s::interval,%s,%s,%s,%s)",
            (
                srv,
                node,
                dbname,
                minutes,
                args["hours"],
                args["dom"],
                args["mon"],
                args["dow"],
                args["code"],
                args["period"],
                args["redundancy"],
                args["extra"],
                args["status"],
                "r",
            ),
        )
    )


def add_catalog(
    su: Any,
    srv: int,
    node: int,
    def_id: int | None,
    status: str,
    age: str,
    snapshot_id: int | None = None,
    run: uuid.UUID | None = None,
    checksum: str | None = "ab" * 32,
) -> int:
    """Register one catalog row (via register_backup_catalog) finished ``age`` ago; a
    SUCCEEDED row with a checksum is recorded INTACT (as pgbackman_dump's rows are)."""
    return int(
        one(
            su,
            "SELECT register_backup_catalog(%s,%s,%s,%s,%s, now() - %s::interval - interval '1 minute',"
            " now() - %s::interval, NULL, %s,%s,%s, NULL,NULL,NULL, NULL,NULL,NULL, %s,%s,%s,%s, %s,"
            " %s::text[], %s,%s, %s::uuid, NULL, %s, %s)",
            (
                def_id,
                4242,
                srv,
                node,
                "app1",
                age,
                age,
                "/dump/app1",
                100,
                "/log/app1",
                "/var/log/pgbackman.log",
                status,
                "CRON" if def_id else "AT",
                None if status == "SUCCEEDED" else "boom",
                snapshot_id,
                [],
                "15",
                "15",
                str(run or uuid.uuid4()),
                checksum if status == "SUCCEEDED" else None,
                "/dump/app1-MANIFEST.sha256" if status == "SUCCEEDED" else None,
            ),
        )
    )


# ---------------------------------------------------------------------------- triggers / NOTIFY
def test_node_insert_running_notifies(su: Any, listener: Any) -> None:
    listen(listener, *NODE_CHANNELS)
    add_node(su, status="RUNNING")
    assert "channel_pgsql_node_running" in received(
        listener, {"channel_pgsql_node_running"}
    )


def test_node_stop_notifies_and_updating_a_stopped_node_works(
    su: Any, listener: Any
) -> None:
    node = add_node(su, status="RUNNING")
    listen(listener, *NODE_CHANNELS)
    q(su, "UPDATE pgsql_node SET status = 'STOPPED' WHERE node_id = %s", (node,))
    assert "channel_pgsql_node_stopped" in received(
        listener, {"channel_pgsql_node_stopped"}
    )
    assert (
        one(
            su,
            "SELECT count(*) FROM pgsql_node_stopped WHERE pgsql_node_id = %s",
            (node,),
        )
        == 1
    )

    # Upstream bug: this update failed with a PK violation on pgsql_node_stopped.
    q(
        su,
        "SELECT update_pgsql_node(%s, %s, %s, %s, %s)",
        (node, 5432, "postgres", "STOPPED", "still down"),
    )
    q(
        su,
        "UPDATE pgsql_node SET status = 'STOPPED', remarks = 'x' WHERE node_id = %s",
        (node,),
    )
    assert one(su, "SELECT remarks FROM pgsql_node WHERE node_id = %s", (node,)) == "x"
    # No real status change -> no notification.
    assert received(listener, timeout=0.5) == set()

    q(su, "UPDATE pgsql_node SET status = 'RUNNING' WHERE node_id = %s", (node,))
    assert "channel_pgsql_node_running" in received(
        listener, {"channel_pgsql_node_running"}
    )
    assert (
        one(
            su,
            "SELECT count(*) FROM pgsql_node_stopped WHERE pgsql_node_id = %s",
            (node,),
        )
        == 0
    )


def test_node_registered_stopped_is_tracked(su: Any, listener: Any) -> None:
    listen(listener, *NODE_CHANNELS)
    node = add_node(su, status="STOPPED")
    assert "channel_pgsql_node_stopped" in received(
        listener, {"channel_pgsql_node_stopped"}
    )
    assert (
        one(
            su,
            "SELECT count(*) FROM pgsql_node_stopped WHERE pgsql_node_id = %s",
            (node,),
        )
        == 1
    )


def test_node_delete_notifies_and_queues_cleanup_for_every_server(
    su: Any, listener: Any
) -> None:
    s1, s2 = add_server(su, "backup01"), add_server(su, "backup02")
    node = add_node(su, status="STOPPED")
    listen(listener, *NODE_CHANNELS)
    q(su, "SELECT delete_pgsql_node(%s)", (node,))
    assert "channel_pgsql_node_deleted" in received(
        listener, {"channel_pgsql_node_deleted"}
    )
    rows = q(
        su,
        "SELECT backup_server_id FROM pgsql_node_to_delete WHERE pgsql_node_id = %s ORDER BY 1",
        (node,),
    )
    assert [r[0] for r in rows] == [s1, s2]
    assert (
        one(
            su,
            "SELECT count(*) FROM pgsql_node_stopped WHERE pgsql_node_id = %s",
            (node,),
        )
        == 0
    )
    assert (
        one(su, "SELECT count(*) FROM pgsql_node_config WHERE node_id = %s", (node,))
        == 0
    )


def test_snapshot_and_restore_definitions_notify(su: Any, listener: Any) -> None:
    srv, node = add_server(su), add_node(su)
    listen(listener, *NODE_CHANNELS)
    snap = one(
        su,
        "SELECT register_snapshot_definition(%s,%s,%s,now(),%s,%s::interval,%s,%s,%s)",
        (srv, node, "app1", "FULL", "7 days", "", "tag1", "15"),
    )
    assert "channel_snapshot_defined" in received(
        listener, {"channel_snapshot_defined"}
    )
    bck = add_catalog(su, srv, node, None, "SUCCEEDED", "1 hour", snapshot_id=snap)
    one(
        su,
        "SELECT register_restore_definition(now(), %s, %s, %s, %s, %s, %s, %s::text[])",
        (srv, node, bck, "app1_copy", "", "", ["app_owner"]),
    )
    assert "channel_restore_defined" in received(listener, {"channel_restore_defined"})


def test_definition_changes_notify_server_node_channel(su: Any, listener: Any) -> None:
    srv, node = add_server(su), add_node(su)
    channel = f"channel_bs{srv}_pg{node}"
    assert channel in {
        r[0] for r in q(su, "SELECT get_listen_channel_names(%s)", (srv,))
    }
    listen(listener, channel)

    def_id = add_def(su, srv, node)
    assert channel in received(listener, {channel})
    assert [r[0] for r in q(su, "SELECT pop_job_queue(%s)", (srv,))] == [node]

    q(
        su,
        "SELECT update_backup_definition(%s,%s,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)",
        (def_id, "20"),
    )
    assert channel in received(listener, {channel})
    assert [r[0] for r in q(su, "SELECT pop_job_queue(%s)", (srv,))] == [node]

    q(su, "SELECT delete_backup_definition_id(%s)", (def_id,))
    assert channel in received(listener, {channel})
    assert one(su, "SELECT get_next_crontab_id_to_generate(%s)", (srv,)) == node
    assert one(su, "SELECT get_next_crontab_id_to_generate(%s)", (srv,)) is None


def test_moving_a_definition_queues_both_servers(su: Any, listener: Any) -> None:
    s1, s2, node = add_server(su, "backup01"), add_server(su, "backup02"), add_node(su)
    def_id = add_def(su, s1, node)
    q(su, "DELETE FROM job_queue")
    listen(listener, f"channel_bs{s1}_pg{node}", f"channel_bs{s2}_pg{node}")
    q(
        su,
        "UPDATE backup_definition SET backup_server_id = %s WHERE def_id = %s",
        (s2, def_id),
    )
    assert received(
        listener, {f"channel_bs{s1}_pg{node}", f"channel_bs{s2}_pg{node}"}
    ) == {
        f"channel_bs{s1}_pg{node}",
        f"channel_bs{s2}_pg{node}",
    }
    assert sorted(q(su, "SELECT backup_server_id, pgsql_node_id FROM job_queue")) == [
        (s1, node),
        (s2, node),
    ]


def test_job_queue_deduplicates(su: Any) -> None:
    srv, node = add_server(su), add_node(su)
    add_def(su, srv, node, "app1")
    add_def(su, srv, node, "app2")
    assert q(su, "SELECT backup_server_id, pgsql_node_id FROM job_queue") == [
        (srv, node)
    ]
    assert [r[0] for r in q(su, "SELECT pop_job_queue(%s)", (srv,))] == [node]
    assert q(su, "SELECT pop_job_queue(%s)", (srv,)) == []


def test_node_config_change_queues_every_server_with_definitions(
    su: Any, listener: Any
) -> None:
    s1, s2, s3, node = (
        add_server(su, "b1"),
        add_server(su, "b2"),
        add_server(su, "b3"),
        add_node(su),
    )
    add_def(su, s1, node)
    add_def(su, s2, node)
    q(su, "DELETE FROM job_queue")
    listen(listener, f"channel_bs{s1}_pg{node}", f"channel_bs{s2}_pg{node}")
    q(
        su,
        "SELECT update_pgsql_node_config(%s, %s, %s)",
        (node, "pgnode_crontab_file", "/etc/cron.d/x_1"),
    )
    assert (
        len(
            received(listener, {f"channel_bs{s1}_pg{node}", f"channel_bs{s2}_pg{node}"})
        )
        == 2
    )
    assert sorted(q(su, "SELECT backup_server_id FROM job_queue")) == [(s1,), (s2,)]
    assert s3 not in [r[0] for r in q(su, "SELECT backup_server_id FROM job_queue")]


def test_crontab_rows_only_for_active_definitions_of_running_nodes(su: Any) -> None:
    srv, node = add_server(su), add_node(su)
    d1 = add_def(su, srv, node, "app1", "5")
    add_def(su, srv, node, "app2", "6", status="STOPPED")
    assert q(su, "SELECT * FROM get_crontab_backup_jobs(%s, %s)", (srv, node)) == [
        (d1, "5", "02", "*", "*", "*")
    ]
    q(su, "SELECT update_pgsql_node(%s, 0, '', 'STOPPED', NULL)", (node,))
    assert q(su, "SELECT * FROM get_crontab_backup_jobs(%s, %s)", (srv, node)) == []


# ---------------------------------------------------------------------------- integrity
def test_deleting_a_node_with_definitions_fails_clearly(su: Any) -> None:
    srv, node = add_server(su), add_node(su)
    add_def(su, srv, node)
    with pytest.raises(psycopg2.Error) as exc:
        q(su, "SELECT delete_pgsql_node(%s)", (node,))
    assert (
        exc.value.diag.message_primary
        == f"PgSQL node {node} still has backup definitions; delete them first"
    )
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        q(su, "DELETE FROM pgsql_node WHERE node_id = %s", (node,))
    assert one(su, "SELECT count(*) FROM pgsql_node WHERE node_id = %s", (node,)) == 1


def test_default_configs_are_copied_on_registration(su: Any) -> None:
    q(
        su,
        "UPDATE pgsql_node_default_config SET value = %s WHERE parameter = 'pgnode_crontab_file'",
        ("/tmp/c/pgsql_node_%%pgnode%%",),
    )
    srv, node = add_server(su), add_node(su)
    defaults = dict(q(su, "SELECT parameter, value FROM pgsql_node_default_config"))
    copied = dict(
        q(
            su,
            "SELECT parameter, value FROM pgsql_node_config WHERE node_id = %s",
            (node,),
        )
    )
    assert copied.keys() == defaults.keys()
    assert copied["pgnode_crontab_file"] == f"/tmp/c/pgsql_node_{node}"
    assert copied["pgnode_backup_partition"] == f"/srv/pgbackman/pgsql_node_{node}"
    assert not any("%%pgnode%%" in v for v in copied.values())

    server_cfg = dict(
        q(
            su,
            "SELECT parameter, value FROM backup_server_config WHERE server_id = %s",
            (srv,),
        )
    )
    assert server_cfg == dict(
        q(su, "SELECT parameter, value FROM backup_server_default_config")
    )
    for major in range(12, 19):
        assert server_cfg[f"pgsql_bin_{major}"] == f"/usr/lib/postgresql/{major}/bin"
    assert server_cfg["backup_user"] == "pgbackman"
    assert server_cfg["pgbackman_dump"] == "/usr/bin/pgbackman_dump"


def test_generic_config_updates_validate(su: Any) -> None:
    srv, node = add_server(su), add_node(su)
    q(
        su,
        "SELECT update_backup_server_config(%s, 'pgsql_bin_15', '/opt/pg15/bin')",
        (srv,),
    )
    assert (
        one(su, "SELECT get_backup_server_config_value(%s, 'pgsql_bin_15')", (srv,))
        == "/opt/pg15/bin"
    )
    q(su, "SELECT update_pgsql_node_config(%s, 'retention_redundancy', '3')", (node,))
    assert (
        one(
            su,
            "SELECT get_pgsql_node_config_value(%s, 'retention_redundancy')",
            (node,),
        )
        == "3"
    )
    bad = [
        (
            "update_backup_server_config",
            srv,
            "no_such_parameter",
            "x",
            "Unknown backup server parameter",
        ),
        (
            "update_backup_server_config",
            srv,
            "root_backup_partition",
            "relative/dir",
            "absolute path",
        ),
        (
            "update_pgsql_node_config",
            node,
            "no_such_parameter",
            "x",
            "Unknown PgSQL node parameter",
        ),
        (
            "update_pgsql_node_config",
            node,
            "retention_redundancy",
            "0",
            "retention_redundancy",
        ),
        (
            "update_pgsql_node_config",
            node,
            "retention_period",
            "soon",
            "retention_period",
        ),
        ("update_pgsql_node_config", node, "backup_code", "CONFIG", "does not exist"),
        (
            "update_pgsql_node_config",
            node,
            "backup_minutes_interval",
            "50-10",
            "backup_minutes_interval",
        ),
        (
            "update_pgsql_node_config",
            node,
            "pgsql_node_status",
            "DOWN",
            "Invalid PgSQL node status",
        ),
    ]
    for func, obj, param, value, msg in bad:
        with pytest.raises(psycopg2.errors.RaiseException) as exc:
            q(su, f"SELECT {func}(%s, %s, %s)", (obj, param, value))
        assert msg in exc.value.diag.message_primary
        assert "\n" not in exc.value.diag.message_primary


def test_node_lookup_by_fqdn_and_port(su: Any) -> None:
    n1 = add_node(su, port=5432)
    assert one(su, "SELECT get_pgsql_node_id('db1.example.org')") == n1
    n2 = add_node(su, port=5433)
    assert one(su, "SELECT get_pgsql_node_id('db1.example.org:5433')") == n2
    assert one(su, "SELECT get_pgsql_node_id('nope.example.org')") is None
    with pytest.raises(psycopg2.errors.RaiseException, match="ambiguous"):
        q(su, "SELECT get_pgsql_node_id('db1.example.org')")


@pytest.mark.parametrize(
    "field,value",
    [
        ("minutes", "61"),
        ("minutes", "*/0"),
        ("minutes", "1-"),
        ("minutes", "a"),
        ("minutes", "1;touch x"),
        ("hours", "24"),
        ("dom", "0"),
        ("mon", "13"),
        ("dow", "8"),
        ("minutes", ""),
    ],
)
def test_cron_validation_rejects_bad_fields(su: Any, field: str, value: str) -> None:
    srv, node = add_server(su), add_node(su)
    kw = {
        "minutes": "10",
        "hours": "02",
        "dom": "*",
        "mon": "*",
        "dow": "*",
        field: value,
    }
    if value == "":
        # empty means "pick from the node's interval" in the function; use a direct write instead
        with pytest.raises(psycopg2.errors.CheckViolation):
            q(
                su,
                "INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname, minutes_cron,"
                " backup_code, job_status) VALUES (%s, %s, 'x', '', 'FULL', 'ACTIVE')",
                (srv, node),
            )
        return
    minutes = kw.pop("minutes")
    with pytest.raises(psycopg2.errors.RaiseException, match="cron field"):
        add_def(su, srv, node, "app1", minutes, **kw)
    col = {
        "minutes": "minutes_cron",
        "hours": "hours_cron",
        "dom": "day_month_cron",
        "mon": "month_cron",
        "dow": "weekday_cron",
    }[field]
    with pytest.raises(psycopg2.errors.CheckViolation):
        q(
            su,
            f"INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname, {col},"
            " backup_code, job_status) VALUES (%s, %s, 'x', %s, 'FULL', 'ACTIVE')",
            (srv, node, value),
        )
    assert one(su, "SELECT count(*) FROM backup_definition") == 0


@pytest.mark.parametrize(
    "minutes,hours,dom,mon,dow",
    [
        ("*", "*", "*", "*", "*"),
        ("*/15", "1-5", "1,15", "jan", "mon"),
        ("0-59/5", "23", "31", "1-12/3", "0,7"),
        ("05", "01", "*", "*", "1-5"),
    ],
)
def test_cron_validation_accepts_good_fields(
    su: Any, minutes: str, hours: str, dom: str, mon: str, dow: str
) -> None:
    srv, node = add_server(su), add_node(su)
    def_id = add_def(
        su, srv, node, "app1", minutes, hours=hours, dom=dom, mon=mon, dow=dow
    )
    assert q(
        su,
        "SELECT minutes_cron, hours_cron, day_month_cron, month_cron, weekday_cron"
        " FROM backup_definition WHERE def_id = %s",
        (def_id,),
    ) == [(minutes, hours, dom, mon, dow)]


def test_register_backup_definition_fills_minutes_from_interval(su: Any) -> None:
    srv, node = add_server(su), add_node(su)
    def_id = one(
        su,
        "SELECT register_backup_definition(%s,%s,'app1',NULL,NULL,NULL,NULL,NULL,NULL,"
        "NULL,NULL,NULL,NULL,NULL,NULL)",
        (srv, node),
    )
    minute, hour = q(
        su,
        "SELECT minutes_cron, hours_cron FROM backup_definition WHERE def_id = %s",
        (def_id,),
    )[0]
    assert 1 <= int(minute) <= 59 and 1 <= int(hour) <= 6


@pytest.mark.parametrize(
    "bad", ["app\n* * * * * root touch /x", "app\rx", "app\x7f", "app\x01"]
)
def test_control_characters_rejected_in_dbname(su: Any, bad: str) -> None:
    srv, node = add_server(su), add_node(su)
    with pytest.raises(psycopg2.errors.RaiseException, match="control characters"):
        add_def(su, srv, node, bad)
    with pytest.raises(psycopg2.errors.CheckViolation):
        q(
            su,
            "INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname, backup_code, job_status)"
            " VALUES (%s, %s, %s, 'FULL', 'ACTIVE')",
            (srv, node, bad),
        )
    with pytest.raises(psycopg2.errors.RaiseException, match="control characters"):
        add_def(su, srv, node, "app1", extra=f"--jobs=2 {bad}")
    with pytest.raises(psycopg2.errors.CheckViolation):
        q(su, "UPDATE pgsql_node SET remarks = %s WHERE node_id = %s", (bad, node))


# ---------------------------------------------------------------------------- catalog / retention
def test_register_backup_catalog_is_idempotent_on_run_uuid(su: Any) -> None:
    srv, node = add_server(su), add_node(su)
    def_id = add_def(su, srv, node)
    run = uuid.uuid4()
    first = add_catalog(su, srv, node, def_id, "SUCCEEDED", "1 hour", run=run)
    assert add_catalog(su, srv, node, def_id, "SUCCEEDED", "1 hour", run=run) == first
    assert one(su, "SELECT count(*) FROM backup_catalog") == 1
    assert (
        one(su, "SELECT backup_code FROM backup_catalog WHERE bck_id = %s", (first,))
        == "FULL"
    )


def deleted(su: Any, bck_id: int) -> bool:
    """Retention's deletion of one row; False when the catalog refuses it."""
    try:
        q(su, "SELECT delete_backup_catalog(%s)", (bck_id,))
    except psycopg2.errors.RaiseException:
        return False
    return True


def integrity(su: Any, bck_id: int) -> str | None:
    return one(su, "SELECT integrity FROM backup_catalog WHERE bck_id = %s", (bck_id,))


def test_registered_backups_carry_their_integrity(su: Any) -> None:
    srv, node = add_server(su), add_node(su)
    def_id = add_def(su, srv, node)
    good = add_catalog(su, srv, node, def_id, "SUCCEEDED", "1 hour")
    bad = add_catalog(su, srv, node, def_id, "ERROR", "1 hour")
    unchecked = add_catalog(su, srv, node, def_id, "SUCCEEDED", "1 hour", checksum=None)
    assert (integrity(su, good), integrity(su, bad), integrity(su, unchecked)) == (
        "INTACT",
        None,
        "UNVERIFIED",
    )
    with pytest.raises(psycopg2.errors.RaiseException, match="run_uuid is required"):
        q(
            su,
            "SELECT register_backup_catalog(%s, 1, %s, %s, 'app1', now(), now(), NULL, NULL,"
            " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '/l', 'SUCCEEDED', 'CRON', NULL,"
            " NULL, NULL, NULL, NULL, NULL)",
            (def_id, srv, node),
        )
    # Only rows without run_uuid (imported from upstream) can be LEGACY; none can be INTACT
    # without a checksum.
    with pytest.raises(psycopg2.errors.RaiseException, match="cannot be LEGACY"):
        q(su, "SELECT record_backup_integrity(%s, 'LEGACY', '')", (good,))
    with pytest.raises(psycopg2.errors.RaiseException, match="cannot be INTACT"):
        q(su, "SELECT record_backup_integrity(%s, 'INTACT', '')", (unchecked,))
    q(su, "SELECT record_backup_integrity(%s, 'CORRUPT', 'MISMATCH x')", (good,))
    assert integrity(su, good) == "CORRUPT"


def test_catalog_never_deletes_the_newest_intact_backup(su: Any) -> None:
    """delete_backup_catalog is retention's floor in the catalog, whoever calls it."""
    srv, node = add_server(su), add_node(su)
    def_id = add_def(su, srv, node, period="7 days", redundancy=1)
    old_good = add_catalog(su, srv, node, def_id, "SUCCEEDED", "30 days")
    old_error = add_catalog(su, srv, node, def_id, "ERROR", "29 days")
    # Nothing newer is intact: neither the old good backup nor the failure after it goes.
    assert not deleted(su, old_good) and not deleted(su, old_error)
    newer = add_catalog(su, srv, node, def_id, "SUCCEEDED", "20 days")
    newest = add_catalog(su, srv, node, def_id, "SUCCEEDED", "1 hour")
    # A newer backup found corrupt protects nothing; the newest one is still intact.
    q(su, "SELECT record_backup_integrity(%s, 'CORRUPT', 'MISMATCH x')", (newest,))
    assert deleted(su, old_error) and deleted(su, old_good)
    # newer is now the newest intact backup: kept although it is past its period.
    assert not deleted(su, newer)
    assert not deleted(su, newest)  # younger than the period
    assert one(su, "SELECT count(*) FROM backup_catalog") == 2


def test_snapshot_rows_and_definitions_go_only_when_expired(su: Any) -> None:
    srv, node = add_server(su), add_node(su)
    snap = one(
        su,
        "SELECT register_snapshot_definition(%s,%s,'app1',now() - interval '9 days','FULL',"
        "'7 days'::interval,'','',NULL)",
        (srv, node),
    )
    q(su, "SELECT update_snapshot_status(%s, 'DEFINED')", (snap,))
    old = add_catalog(su, srv, node, None, "SUCCEEDED", "8 days", snapshot_id=snap)
    young = add_catalog(su, srv, node, None, "SUCCEEDED", "1 day", snapshot_id=snap)
    with pytest.raises(psycopg2.errors.RaiseException, match="still has backups"):
        q(su, "SELECT delete_snapshot_definition(%s)", (snap,))
    assert deleted(su, old) and not deleted(su, young)


@pytest.mark.parametrize("value", ["1000000 years", "101 years", "0", "-1 day"])
def test_retention_intervals_out_of_range_are_refused(su: Any, value: str) -> None:
    srv, node = add_server(su), add_node(su)
    with pytest.raises(psycopg2.errors.RaiseException, match="at most 100 years"):
        add_def(su, srv, node, period=value)
    with pytest.raises(psycopg2.errors.RaiseException, match="at most 100 years"):
        q(
            su,
            "SELECT register_snapshot_definition(%s,%s,'app1',now(),'FULL',%s::interval,"
            "'','',NULL)",
            (srv, node, value),
        )
    for parameter in ("retention_period", "automatic_deletion_retention"):
        with pytest.raises(psycopg2.errors.RaiseException, match="at most 100 years"):
            q(
                su,
                "SELECT update_pgsql_node_config(%s, %s, %s)",
                (node, parameter, value),
            )
    def_id = add_def(su, srv, node, period="100 years")
    with pytest.raises(psycopg2.errors.RaiseException, match="at most 100 years"):
        q(
            su,
            "SELECT update_backup_definition(%s, NULL, NULL, NULL, NULL, NULL, %s::interval,"
            " NULL, NULL, NULL, NULL)",
            (def_id, value),
        )
    # The table refuses it too (a hand-written UPDATE).
    with pytest.raises(psycopg2.errors.CheckViolation):
        q(
            su,
            "UPDATE backup_definition SET retention_period = %s::interval WHERE def_id = %s",
            (value, def_id),
        )


def test_retention_cutoff_cannot_overflow(su: Any) -> None:
    assert one(su, "SELECT retention_cutoff('1000000 years') = '-infinity'") is True
    assert one(su, "SELECT retention_cutoff(NULL) = '-infinity'") is True
    assert (
        one(su, "SELECT retention_cutoff('7 days') = now() - interval '7 days'") is True
    )
    assert one(su, "SELECT safe_interval('not an interval')") is None
