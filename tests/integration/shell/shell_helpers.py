"""Catalog facts for the shell tests: backup rows written directly (pgbackman_dump is not
under test there), the definitions as stored, and the argument line of
register_backup_definition. The shell itself is driven by tests/support/shell.py."""

from __future__ import annotations

from typing import Any

from support.pgbenv import PgbEnv


def add_backup(
    pgb: PgbEnv,
    node_id: int,
    dbname: str,
    def_id: int | None = None,
    snapshot_id: int | None = None,
    status: str = "SUCCEEDED",
    roles: list[str] | None = None,
    code: str = "FULL",
    finished: str = "2026-01-02 03:04:05+00",
) -> int:
    """A backup_catalog row written directly (pgbackman_dump is not under test here)."""
    rows = pgb.su_query(
        "INSERT INTO backup_catalog (def_id, snapshot_id, procpid, backup_server_id, pgsql_node_id,"
        " dbname, started, finished, duration, pg_dump_file, pg_dump_file_size, pg_dump_log_file,"
        " global_log_file, execution_status, execution_method, role_list, pgsql_node_release,"
        " pg_dump_release, backup_code)"
        " VALUES (%s, %s, 4242, %s, %s, %s, %s::timestamptz - interval '65 seconds', %s, "
        " interval '65 seconds', %s, 123456, %s, '/tmp/global.log', %s, %s, %s, '15', '15', %s)"
        " RETURNING bck_id",
        (
            def_id,
            snapshot_id,
            pgb.server_id,
            node_id,
            dbname,
            finished,
            finished,
            f"/srv/dump/{dbname}.dump",
            f"/srv/log/{dbname}.log",
            status,
            "CRON" if def_id else "AT",
            roles if roles is not None else ["postgres"],
            code,
        ),
    )
    return int(rows[0][0])


def definitions(pgb: PgbEnv) -> list[tuple[Any, ...]]:
    """Every backup_definition row, ordered, with the columns tests look at."""
    return pgb.su_query(
        "SELECT def_id, backup_server_id, pgsql_node_id, dbname, minutes_cron, hours_cron,"
        " day_month_cron, month_cron, weekday_cron, backup_code, encryption,"
        " retention_period::text, retention_redundancy, extra_backup_parameters, job_status,"
        " remarks FROM backup_definition ORDER BY def_id"
    )


def reg(
    node: Any,
    db: str,
    *,
    exc: str = "",
    mins: str = "41",
    hours: str = "01",
    dom: str = "*",
    mon: str = "*",
    dow: str = "*",
    code: str = "FULL",
    enc: str = "false",
    ret: str = "7 days",
    red: str = "1",
    extra: str = "",
    status: str = "ACTIVE",
    remarks: str = "",
) -> str:
    vals = [
        "",
        str(node),
        db,
        exc,
        mins,
        hours,
        dom,
        mon,
        dow,
        code,
        enc,
        ret,
        red,
        extra,
        status,
        remarks,
    ]
    return "register_backup_definition " + " ".join(f"'{v}'" for v in vals)
