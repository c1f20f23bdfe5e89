"""One maintenance pass: the tasks in order, each isolated from the others' failures.

Stop requests (``should_stop``) are polled between tasks and between items, so SIGTERM ends
a pass within a second and never half-way through deleting one backup. The daemon loop
around the passes is :mod:`pgbackman.maintenance.daemon`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pgbackman.catalog import maintenance as mcat
from pgbackman.catalog import servers
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.errors import (
    CatalogUnavailableError,
    PgBackManError,
)
from pgbackman.maintenance import diskusage, partials, tasks
from pgbackman.maintenance.alertretention import ALERT_RETENTION, AlertRetention
from pgbackman.maintenance.deleting import PassContext
from pgbackman.maintenance.files import Deleter
from pgbackman.maintenance.integrity import IntegrityKeeper
from pgbackman.maintenance.offsite import OffsiteTasks
from pgbackman.maintenance.report import PassReport, Printer, stdout_printer

log = logging.getLogger("pgbackman_maintenance")


def pass_tasks(
    offsite: OffsiteTasks, alert_retention: AlertRetention
) -> list[tuple[str, Callable[[PassContext, PassReport], None]]]:
    """Offsite uploads first (before local retention can remove the files), the
    catalog-driven tasks, offsite retention, the retention of delivered alerts (after the
    tasks that raise alerts), then the file-system sweep of partial dumps and decrypted
    copies left by killed runs, and last the disk usage of what is left (measured after
    retention deleted what it could)."""
    upload, retention = offsite.tasks()
    return [
        upload,
        *tasks.TASKS,
        retention,
        (ALERT_RETENTION, alert_retention),
        (partials.STALE_PARTIALS, partials.stale_partials),
        (diskusage.DISK_USAGE, diskusage.disk_usage),
    ]


class Maintenance:
    """pgbackman_maintenance for the backup server named in the configuration."""

    def __init__(
        self,
        cfg: Config,
        *,
        dry_run: bool = False,
        out: Printer = stdout_printer,
        should_stop: Callable[[], bool] = lambda: False,
        cat: Catalog | None = None,
    ) -> None:
        self.cfg = cfg
        self.dry_run = dry_run
        self.out = out
        self.should_stop = should_stop
        self.cat = cat or Catalog(
            cfg.database, application_name="pgbackman_maintenance"
        )
        self._server_id: int | None = None
        self.offsite = OffsiteTasks(cfg)
        self.alert_retention = AlertRetention(cfg.maintenance.alert_retention)

    # -- one pass -----------------------------------------------------------------------
    def server_id(self) -> int:
        if self._server_id is None:
            fqdn = self.cfg.backup_server.fqdn
            srv = servers.server_id_by_fqdn(self.cat, fqdn)
            self._server_id = servers.registered(fqdn, srv)
        return self._server_id

    def context(self) -> PassContext:
        srv = self.server_id()
        root = mcat.server_root(self.cat, srv)
        nodes = mcat.node_dirs(self.cat)
        return PassContext(
            cat=self.cat,
            server_id=srv,
            root=root,
            nodes=nodes,
            # The local configuration file, not the catalog, says where deletion may happen.
            deleter=Deleter(
                self.cfg.backup_server.root_backup_partition,
                nodes,
                dry_run=self.dry_run,
            ),
            keeper=IntegrityKeeper(self.cat, srv, root, dry_run=self.dry_run),
            now=mcat.now(self.cat),
            dry_run=self.dry_run,
            out=self.out,
            should_stop=self.should_stop,
        )

    def run_pass(self) -> PassReport:
        """Run every task once. Raises CatalogUnavailableError when the catalog is lost."""
        report = PassReport(dry_run=self.dry_run)
        ctx = self.context()
        for name, task in pass_tasks(self.offsite, self.alert_retention):
            if self.should_stop():
                log.info("Stop requested: pass ended before task %s", name)
                break
            self._run_task(name, task, ctx, report)
        if ctx.force_deleted and not self.should_stop():
            # Definitions force-deleted by the dropped-database task: their files go now
            # rather than one interval later.
            self._run_task(tasks.FORCED, tasks.forced_deletions, ctx, report)
        level = logging.WARNING if report.failed else logging.INFO
        log.log(
            level,
            "Maintenance pass%s done: %s",
            " (dry run)" if self.dry_run else "",
            report.summary(),
        )
        return report

    @staticmethod
    def _run_task(
        name: str,
        task: Callable[[PassContext, PassReport], None],
        ctx: PassContext,
        report: PassReport,
    ) -> None:
        try:
            task(ctx, report)
        except CatalogUnavailableError:
            raise
        except PgBackManError as exc:
            report.error(name, f"task aborted: {exc}")
        except Exception as exc:  # one broken task must not stop the others
            log.exception("[%s] unexpected error", name)
            report.error(name, f"task aborted: {type(exc).__name__}: {exc}")

    # -- modes --------------------------------------------------------------------------
    def once(self) -> PassReport:
        """One pass and return (--once / --dry-run): the catalog must be reachable now."""
        self.cat.connect()
        try:
            return self.run_pass()
        finally:
            self.cat.close()
