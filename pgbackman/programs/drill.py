"""``pgbackman_restore --drill N``: run one restore drill and record it.

Started by the at job pgbackman_control queues when the drill is due, or by hand (a run by
hand counts as the drill's last run too). The work is :class:`pgbackman.restore.drill.
DrillRun`; this module resolves the drill from the catalog, records the result
(``restore_drill_run``, or a pending file while the catalog is down) and raises a
``Restore-drill`` alert when the drill did not succeed. Exit status: 0 SUCCEEDED, 1 otherwise.
"""

from __future__ import annotations

import datetime as _dt
import logging
import uuid
from typing import Any

from pgbackman.catalog import alerts, drills, jobs, nodes, restorejobs
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.errors import PgBackManError, UserInputError
from pgbackman.infra.daemon import SignalFlags
from pgbackman.log import setup_logging
from pgbackman.programs.jobmain import register_or_spool
from pgbackman.restore import drill as drillmod
from pgbackman.restore import spec as specmod
from pgbackman.restore.runner import APPLICATION_NAME

PROGRAM = "pgbackman_restore"
log = logging.getLogger(PROGRAM)


def run_drill(cfg: Config, drill_id: int, stop: SignalFlags | None = None) -> int:
    started = _dt.datetime.now(_dt.UTC)
    cat = Catalog(cfg.database, application_name=APPLICATION_NAME)
    try:
        row = drills.get(cat, drill_id)
        if row is None:
            raise UserInputError(
                f"Restore drill {drill_id} does not exist in the catalog"
            )
        bck = restorejobs.newest_succeeded_backup(cat, int(row["def_id"]))
        job = drillmod.DrillJob(
            drill_id=int(row["drill_id"]),
            def_id=int(row["def_id"]),
            dbname=str(row["dbname"]),
            drill_node_id=int(row["drill_node_id"]),
            server_id=int(row["backup_server_id"]),
            excluded_tables=[
                str(t) for t in (bck or {}).get("bck_excluded_tables") or []
            ],
        )
        node_cfg = nodes.node_config_dict(cat, job.drill_node_id)
        spec = None
        if bck is not None:
            spec = specmod.build(
                cfg,
                cat,
                bck,
                restore_def=job.drill_id,
                server_id=job.server_id,
                target_node_id=job.drill_node_id,
                target_dbname=drillmod.scratch_dbname(job.drill_id),
                renamed_dbname=None,
                extra_restore_parameters=node_cfg.get("extra_restore_parameters", ""),
                roles_to_restore=[str(r) for r in bck["bck_role_list"] or []],
                job="drill",
            )
            setup_logging(cfg, PROGRAM, node=spec.target_fqdn, dbname=job.dbname)
        if spec is None:
            message = f"Backup definition {job.def_id} has no SUCCEEDED backup: nothing to drill"
            log.error("Restore drill %s failed: %s", drill_id, message)
            record = drillmod.drill_record(
                job,
                cfg,
                started=started,
                finished=_dt.datetime.now(_dt.UTC),
                status="ERROR",
                error=message,
                run_uuid=str(uuid.uuid4()),
            )
            root = cfg.backup_server.root_backup_partition
        else:
            run = drillmod.DrillRun(cfg, spec, job, started)
            if stop is not None:
                stop.attach(run)
            run.execute()
            if stop is not None:
                stop.detach()
            record = run.drill_record(_dt.datetime.now(_dt.UTC))
            root = spec.root or cfg.backup_server.root_backup_partition
        who = f"{PROGRAM}: restore drill {drill_id}"
        status = register_or_spool(
            "drill",
            record,
            root,
            lambda r: jobs.register_restore_drill_run(cat, r),
            who=who,
        )
        if record["execution_status"] != "SUCCEEDED":
            _alert(cat, root, job, record, int(row["pgsql_node_id"]))
        return status
    finally:
        cat.close()


def _alert(
    cat: Catalog,
    root: str,
    job: drillmod.DrillJob,
    record: dict[str, Any],
    node_id: int,
) -> None:
    """A failed drill reaches a person: one Restore-drill alert (spooled when needed), to
    the logs_email of the node whose backups it proves."""
    bck_id = record.get("bck_id")
    alert = alerts.Alert(
        alerts.DRILL_FAILED,
        server_id=job.server_id,
        message=(
            f"Restore drill {job.drill_id} of backup definition {job.def_id} (database "
            f"{job.dbname!r}, backup {bck_id or 'none'}) failed: {record['error_message']}"
        ),
        node_id=node_id,
        dbname=job.dbname,
        ref_id=job.drill_id,
        bck_id=int(bck_id) if isinstance(bck_id, int) else None,
        execution_status=str(record["execution_status"]),
    )
    try:
        alerts.raise_or_spool(cat, root, alert)
    except (PgBackManError, OSError) as exc:
        log.error("Cannot raise the %s alert: %s", alerts.DRILL_FAILED, exc)
