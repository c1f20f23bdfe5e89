"""raise_alert(): the one way to record trouble; episodes, the failed-dump trigger, and alerts
spooled while the catalog is down (ingested exactly once by pgbackman_maintenance)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from support.pgbenv import PgbEnv
from pgbackman.catalog import alerts, jobs
from pgbackman.errors import CatalogError
from pgbackman.infra import spool


def _alert_rows(pgb_env: PgbEnv) -> list[tuple[Any, ...]]:
    return pgb_env.su_query(
        "SELECT alert_type, pgsql_node_id, dbname, ref_id, error_message, sendto, alert_sent"
        " FROM alerts ORDER BY alert_id"
    )


def test_alert_is_recorded_with_the_node_recipient(pgb_env: PgbEnv, node1: Any) -> None:
    node_id = pgb_env.register_node(node1)
    pgb_env.su_query(
        "SELECT update_pgsql_node_config(%s, 'logs_email', 'dba@example.net')",
        (node_id,),
    )
    alert_id = alerts.raise_alert(
        pgb_env.cat,
        alerts.Alert(
            alerts.LOCKED, pgb_env.server_id, "still running", node_id=node_id, ref_id=7
        ),
    )
    assert alert_id is not None
    assert _alert_rows(pgb_env) == [
        ("Backup-locked", node_id, None, 7, "still running", "dba@example.net", False)
    ]


def test_server_wide_alert_has_no_recipient_node(pgb_env: PgbEnv) -> None:
    alerts.raise_alert(
        pgb_env.cat, alerts.Alert(alerts.MAINTENANCE, pgb_env.server_id, "disk")
    )
    assert _alert_rows(pgb_env) == [
        ("Maintenance", None, None, None, "disk", None, False)
    ]


def test_one_alert_per_episode_until_it_ends(pgb_env: PgbEnv) -> None:
    def stale() -> int | None:
        return alerts.raise_alert(
            pgb_env.cat,
            alerts.Alert(
                alerts.STALE, pgb_env.server_id, "stale", episode_key="stale:def:1"
            ),
        )

    assert stale() is not None
    assert stale() is None and stale() is None
    assert len(_alert_rows(pgb_env)) == 1
    assert alerts.end_episode(pgb_env.cat, "stale:def:1") is True
    assert alerts.end_episode(pgb_env.cat, "stale:def:1") is False
    assert stale() is not None
    assert len(_alert_rows(pgb_env)) == 2


def test_unknown_alert_type_is_refused(pgb_env: PgbEnv) -> None:
    with pytest.raises(CatalogError, match="Unknown alert type"):
        alerts.raise_alert(
            pgb_env.cat, alerts.Alert("No-such-type", pgb_env.server_id, "x")
        )
    assert _alert_rows(pgb_env) == []


def test_failed_dump_row_raises_a_backup_alert(pgb_env: PgbEnv, node1: Any) -> None:
    node_id = pgb_env.register_node(node1)
    def_id = pgb_env.su_query(
        "INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname,"
        " minutes_cron, hours_cron, weekday_cron, month_cron, day_month_cron,"
        " backup_code, encryption, retention_period, retention_redundancy,"
        " extra_backup_parameters, job_status, remarks)"
        " VALUES (%s, %s, 'app1', '0', '1', '*', '*', '*', 'FULL', false,"
        " '7 days', 1, '', 'ACTIVE', '') RETURNING def_id",
        (pgb_env.server_id, node_id),
    )[0][0]
    pgb_env.su_query(
        "INSERT INTO backup_catalog (def_id, backup_server_id, pgsql_node_id, dbname,"
        " global_log_file, execution_status, backup_code, error_message)"
        " VALUES (%s, %s, %s, 'app1', '/x.log', 'ERROR', 'FULL', 'node down')",
        (def_id, pgb_env.server_id, node_id),
    )
    rows = _alert_rows(pgb_env)
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ("Backup-def", node_id, "app1", def_id, "node down")
    ]


def test_alert_spooled_while_catalog_down_is_ingested_once(pgb_env: PgbEnv) -> None:
    alert = alerts.Alert(alerts.CONFIG_REFUSED, pgb_env.server_id, "bad crontab file")
    path = spool.write_pending(pgb_env.root, "alert", alert.to_record())
    assert jobs.ingest_pending(pgb_env.cat, pgb_env.root) == (1, 0)
    assert not path.exists()
    # Killed between the INSERT and the unlink: the same file again changes nothing.
    spool.write_pending(pgb_env.root, "alert", alert.to_record())
    assert jobs.ingest_pending(pgb_env.cat, pgb_env.root) == (1, 0)
    rows = _alert_rows(pgb_env)
    assert [(r[0], r[4]) for r in rows] == [("Config-refused", "bad crontab file")]


def test_raise_or_spool_spools_when_the_catalog_is_unreachable(pgb_env: PgbEnv) -> None:
    from pgbackman.catalog.connection import Catalog
    from pgbackman.config import Config

    cfg = Config.load(str(pgb_env.config_path))
    dead = Catalog(dataclasses.replace(cfg.database, port=1), "tests")
    alert = alerts.Alert(alerts.MAINTENANCE, pgb_env.server_id, "catalog was down")
    assert alerts.raise_or_spool(dead, pgb_env.root, alert) is None
    spooled = list(spool.iter_pending(pgb_env.root, "alert"))
    assert [r["message"] for _p, r in spooled if r] == ["catalog was down"]
    assert jobs.ingest_pending(pgb_env.cat, pgb_env.root) == (1, 0)
    assert [r[4] for r in _alert_rows(pgb_env)] == ["catalog was down"]


def test_failed_restore_raises_a_restore_alert_to_the_target_node(
    pgb_env: Any, node1: Any
) -> None:
    node_id = pgb_env.register_node(node1)
    pgb_env.su_query(
        "SELECT update_pgsql_node_config(%s, 'logs_email', 'restores@example.net')",
        (node_id,),
    )
    def_id = pgb_env.su_query(
        "SELECT register_backup_definition(%s, %s, 'app1', '0', '1', '*', '*', '*',"
        " 'FULL', false, '7 days', 1, '', 'ACTIVE', '')",
        (pgb_env.server_id, node_id),
    )[0][0]
    bck_id = pgb_env.su_query(
        "INSERT INTO backup_catalog (def_id, backup_server_id, pgsql_node_id, dbname,"
        " global_log_file, execution_status, backup_code)"
        " VALUES (%s, %s, %s, 'app1', '/x.log', 'SUCCEEDED', 'FULL') RETURNING bck_id",
        (def_id, pgb_env.server_id, node_id),
    )[0][0]
    restore_def = pgb_env.su_query(
        "INSERT INTO restore_definition (bck_id, backup_server_id, target_pgsql_node_id,"
        " target_dbname) VALUES (%s, %s, %s, 'app1_copy') RETURNING restore_def",
        (bck_id, pgb_env.server_id, node_id),
    )[0][0]
    args = (restore_def, 1, pgb_env.server_id, node_id, "app1", "app1_copy", None)
    times = (None, None, None, None, "/x.log")
    for status in ("SUCCEEDED", "ERROR"):
        pgb_env.cat.call(
            "register_restore_catalog",
            *args,
            *times,
            status,
            "pg_restore: could not connect" if status == "ERROR" else None,
            None,
            None,
            None,
        )
    rows = pgb_env.su_query(
        "SELECT alert_type, pgsql_node_id, dbname, ref_id, bck_id, execution_status,"
        " error_message, sendto FROM alerts ORDER BY alert_id"
    )
    assert rows == [
        (
            "Restore-def",
            node_id,
            "app1_copy",
            restore_def,
            bck_id,
            "ERROR",
            "Restore of app1 into app1_copy failed: pg_restore: could not connect",
            "restores@example.net",
        )
    ]
