"""What pgbackman_control does to the files of a backup server: the resync logic.

:class:`Controller` turns catalog state into local state, idempotently:

* per node: the cron.d file (one line per ACTIVE definition of a RUNNING node on this
  server, header only otherwise), the node's dump/ and log/ directories and its cache file;
* per server: the root, pending_updates/, cache_dir/ and the server cache;
* WAITING snapshot/restore/clone definitions become ``at`` jobs (status DEFINED or ERROR),
  and so does every restore drill that is due (its interval since its last run passed);
* deleted nodes lose their crontab file, cache file and backup partition (inside the root).

Every path, program and user read from the catalog is checked against this server's own
configuration file first (:mod:`pgbackman.core.authority`); a refused value is logged,
raises one ``Config-refused`` alert per episode and is not used: the node (or, for
backup_user, every node and at job) keeps its files as they are until the value is fixed.
A failure on one node is logged and retried later with back-off; it never stops the others.
The daemon loop (:mod:`pgbackman.control.daemon`) decides *when* these run.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgbackman.catalog import control as ccat
from pgbackman.catalog import jobs as catjobs
from pgbackman.catalog import servers
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.control import files, programs
from pgbackman.control.refusals import Refusals
from pgbackman.core import authority
from pgbackman.core.cron import CronJob, CrontabContext, render_crontab
from pgbackman.errors import (
    AtJobError,
    CronFileError,
    CatalogUnavailableError,
    ConfigRefusedError,
    PgBackManError,
)
from pgbackman.infra import atjobs, cache, cronfile
from pgbackman.infra.fsutil import (
    PendingWrite,
    atomic_write,
    atomic_write_many,
    sweep_stale_temps,
)

log = logging.getLogger("pgbackman_control")

STATE_FILE = (
    "control_nodes.json"  # node id -> files we made for it (to remove on deletion)
)
_AT_LABELS = {
    "snapshot": "Snapshot definition",
    "restore": "Restore definition",
    "clone": "Clone",
    "drill": "Restore drill",
}
RETRY_MIN = 1.0
RETRY_MAX = 300.0


@dataclass(frozen=True)
class ServerState:
    server_id: int
    fqdn: str
    root: Path
    dump_program: str
    restore_program: str
    backup_user: str
    config: dict[str, str]
    # Set when backup_user is refused: no crontab line and no at job is written meanwhile.
    refused: ConfigRefusedError | None = None


@dataclass
class _NodePlan:
    """One node's files, rendered: written by :meth:`Controller.sync_nodes`."""

    node_id: int
    fqdn: str
    crontab_file: str
    lines: int
    state_changed: bool
    cache: PendingWrite | None
    crontab: PendingWrite | None

    def __post_init__(self) -> None:
        for w in (self.cache, self.crontab):
            if w is not None:
                w.tag = self.node_id


class Controller:
    """Resync of one backup server's local files from the catalog."""

    def __init__(self, cfg: Config, cat: Catalog) -> None:
        self.cfg = cfg
        self.cat = cat
        self.config_file = os.path.abspath(cfg.path) if cfg.path else ""
        self.server: ServerState | None = None
        # node id -> (monotonic time of next attempt, current delay)
        self.retries: dict[int, tuple[float, float]] = {}
        self._state: dict[str, dict[str, str]] | None = None
        self._swept: set[str] = set()
        self.refusals = Refusals()  # catalog values this server's config file refuses

    # -- server ------------------------------------------------------------------------
    def load_server(self) -> ServerState:
        fqdn = self.cfg.backup_server.fqdn
        server_id = servers.registered(fqdn, servers.server_id_by_fqdn(self.cat, fqdn))
        conf = servers.server_config_dict(self.cat, server_id)
        local = self.cfg.backup_server.root_backup_partition
        value = conf.get("root_backup_partition") or local
        try:
            root = Path(authority.check_server_root(value, local))
            self.refusals.accept(self.cat, None, "root_backup_partition")
        except ConfigRefusedError as exc:
            self.refusals.refuse(self.cat, self.cfg, server_id, None, exc)
            root = Path(local)
        if str(root) != local:
            log.warning(
                "root_backup_partition differs: catalog %s, config file %s (the catalog wins;"
                " jobs use the config value when the catalog is down)",
                root,
                local,
            )
        backup_user = conf.get("backup_user", "pgbackman")
        refused = None
        try:
            authority.check_backup_user(
                backup_user,
                files.uid_of(backup_user),
                self.cfg.backup_server.allow_root_backup_user,
            )
            self.refusals.accept(self.cat, None, "backup_user")
        except ConfigRefusedError as exc:
            self.refusals.refuse(self.cat, self.cfg, server_id, None, exc)
            refused = exc
        self.server = ServerState(
            server_id=server_id,
            fqdn=fqdn,
            root=root,
            dump_program=programs.job_program(self.cfg, "pgbackman_dump"),
            restore_program=programs.job_program(self.cfg, "pgbackman_restore"),
            backup_user=backup_user,
            config=conf,
            refused=refused,
        )
        return self.server

    @property
    def srv(self) -> ServerState:
        if self.server is None:
            return self.load_server()
        return self.server

    def owner(self) -> files.Owner | None:
        return files.owner_for(self.srv.backup_user)

    # -- full resync ---------------------------------------------------------------------
    def full_resync(self) -> bool:
        """Everything, from scratch. Returns False when some part failed (logged)."""
        started = time.monotonic()
        srv = self.load_server()
        owner = self.owner()
        files.ensure_global_dirs(srv.root, owner)
        self._sweep_once(cache.server_cache_path(srv.root), self._state_path())
        cache.write_server_cache(
            srv.root, catjobs.build_server_cache(self.cat, srv.server_id)
        )
        files.chown_cache_files(srv.root, None, owner)
        ok = self.process_deletions()
        # Pop first, read after: a change made after the pop queues the node again.
        queued = ccat.pop_job_queue(self.cat, srv.server_id)
        nodes = (
            set(queued)
            | set(ccat.nodes_with_jobs(self.cat, srv.server_id))
            | set(self.retries)
        )
        ok = self.sync_nodes(sorted(nodes)) and ok
        ok = self.schedule_at_jobs() and ok
        log.info(
            "Full resync of backup server %s done in %.2fs (%d nodes)%s",
            srv.fqdn,
            time.monotonic() - started,
            len(nodes),
            "" if ok else " with errors",
        )
        return ok

    def sync_queue(self) -> bool:
        """Rewrite the nodes queued for this server (and due retries)."""
        queued = ccat.pop_job_queue(self.cat, self.srv.server_id)
        return self.sync_nodes(sorted(set(queued) | set(self.due_retries())))

    def sync_all_nodes(self) -> bool:
        srv = self.srv
        nodes = set(ccat.pop_job_queue(self.cat, srv.server_id))
        nodes |= set(ccat.nodes_with_jobs(self.cat, srv.server_id))
        return self.sync_nodes(sorted(nodes))

    # -- nodes ----------------------------------------------------------------------------
    def sync_nodes(self, node_ids: Iterable[int]) -> bool:
        """Crontab files, directories and caches of ``node_ids``; False when some failed
        (logged, retried with back-off).

        Set-based: the catalog is read for all the nodes at once (a few queries, not a few
        per node), and the files are written in two batches (infra/fsutil.
        atomic_write_many: every file still appears complete or not at all, but the fsyncs
        run together): the caches and directories first, so that a job started by a new
        cron line finds everything ready, then the crontab files that changed."""
        ids = sorted(set(node_ids))
        if not ids:
            return True
        srv = self.srv
        try:
            infos = ccat.get_nodes(self.cat, ids)
            jobs = ccat.crontab_jobs_many(self.cat, srv.server_id, ids)
            caches = catjobs.build_node_caches(self.cat, srv.server_id, ids)
        except CatalogUnavailableError:
            for node_id in ids:
                self._schedule_retry(node_id)
            raise
        failed: dict[int, str] = {}
        plans: list[_NodePlan] = []
        changed_state = False
        owner = self.owner()
        for node_id in ids:
            info = infos.get(node_id)
            if info is None:  # deleted: handled through pgsql_node_to_delete
                self.retries.pop(node_id, None)
                continue
            try:
                plan = self._plan_node(info, jobs.get(node_id, []), caches.get(node_id))
                changed_state = plan.state_changed or changed_state
                plans.append(plan)
            except (PgBackManError, OSError) as exc:
                failed[node_id] = str(exc)
        caches_written = self._write_batch(
            [p.cache for p in plans if p.cache is not None], failed
        )
        for p in plans:
            if p.node_id in caches_written and p.node_id not in failed:
                try:
                    files.chown_cache_files(srv.root, p.node_id, owner)
                except OSError as exc:
                    failed[p.node_id] = str(exc)
        ready = [p for p in plans if p.node_id not in failed]
        written = self._write_batch(
            [p.crontab for p in ready if p.crontab is not None], failed, crontab=True
        )
        for p in ready:
            if p.node_id in failed:
                continue
            self.retries.pop(p.node_id, None)
            if p.node_id in written:
                log.info(
                    "Crontab file %s of PgSQL node %s written (%d jobs)",
                    p.crontab_file,
                    p.fqdn,
                    p.lines,
                )
        for node_id, reason in sorted(failed.items()):
            delay = self._schedule_retry(node_id)
            log.error("PgSQL node %s: %s (retrying in %.0fs)", node_id, reason, delay)
        if changed_state:
            self._save_state()
        return not failed

    def _plan_node(
        self,
        node: ccat.NodeInfo,
        rows: list[dict[str, Any]],
        cache_data: dict[str, Any] | None,
    ) -> _NodePlan:
        """Render one node's files and make its directories (nothing written yet)."""
        srv = self.srv
        if srv.refused is not None:
            raise srv.refused  # nothing runs as a refused backup_user: files stay as they are
        crontab_file = node.config.get("pgnode_crontab_file", "")
        partition = node.config.get("pgnode_backup_partition", "")
        self.refusals.check_node_paths(
            self.cat, self.cfg, srv.server_id, node.node_id, crontab_file, partition
        )
        ctx = CrontabContext(
            file_path=crontab_file,
            node_fqdn=node.fqdn,
            server_fqdn=srv.fqdn,
            os_user=srv.backup_user,
            dump_program=srv.dump_program,
            config_file=self.config_file,
            mailto=node.config.get("logs_email", ""),
        )
        jobs = [
            CronJob(
                int(r["def_id"]),
                r["minutes_cron"],
                r["hours_cron"],
                r["day_month_cron"],
                r["month_cron"],
                r["weekday_cron"],
            )
            for r in rows
        ]
        result = render_crontab(ctx, jobs, _now_text())
        for def_id, reason in result.skipped:
            log.error(
                "Backup definition %s skipped in %s: %s", def_id, crontab_file, reason
            )
        if crontab_file:
            self._sweep_once(
                crontab_file, cache.node_cache_path(srv.root, node.node_id)
            )
        state_changed = self._forget_old_files(node.node_id, crontab_file, partition)
        if partition:
            files.ensure_node_dirs(Path(partition), self.owner())
        return _NodePlan(
            node_id=node.node_id,
            fqdn=node.fqdn,
            crontab_file=crontab_file,
            lines=result.lines,
            state_changed=state_changed,
            cache=(
                cache.node_cache_write(srv.root, node.node_id, cache_data)
                if cache_data is not None
                else None
            ),
            crontab=cronfile.crontab_write(crontab_file, result.text),
        )

    def _write_batch(
        self, writes: list[PendingWrite], failed: dict[int, str], crontab: bool = False
    ) -> set[int]:
        """Write ``writes`` (tagged with their node ids by ``_NodePlan``); failures go to
        ``failed``; returns the node ids written."""
        if writes:
            files.make_dir(cache.cache_dir(self.srv.root), self.owner())
        for w in atomic_write_many(writes):
            assert w.error is not None  # noqa: S101 - atomic_write_many's contract
            node_id = int(w.tag)
            failed[node_id] = str(
                cronfile.write_error(w.path, w.error)
                if crontab
                else f"Cannot write {w.path}: {w.error.strerror or w.error}"
            )
        return {int(w.tag) for w in writes if w.error is None}

    def _sweep_once(self, *targets: str | Path) -> None:
        """Remove temp files of our atomic writes left by a killed run (SIGKILL between
        write and rename), once per target and process: at start-up in practice."""
        for target in targets:
            key = str(target)
            if key in self._swept:
                continue
            self._swept.add(key)
            for p in sweep_stale_temps(target):
                log.warning(
                    "Removed stale temporary file %s left by an interrupted run", p
                )

    def _forget_old_files(
        self, node_id: int, crontab_file: str, partition: str
    ) -> bool:
        """Remember where this node's files are; remove a crontab file left at an old path."""
        state = self._load_state()
        key = str(node_id)
        old = state.get(key, {})
        new = {"crontab_file": crontab_file, "partition": partition}
        if old == new:
            return False
        old_file = old.get("crontab_file")
        if old_file and old_file != crontab_file:
            try:
                authority.check_crontab_file(
                    "pgnode_crontab_file", old_file, self.cfg.backup_server.crontab_dir
                )
                cronfile.remove_crontab(old_file)
                log.info(
                    "Old crontab file %s of PgSQL node %s removed", old_file, node_id
                )
            except (CronFileError, ConfigRefusedError) as exc:
                log.warning(
                    "Old crontab file of PgSQL node %s left in place: %s", node_id, exc
                )
        state[key] = new
        return True

    def _schedule_retry(self, node_id: int) -> float:
        _when, delay = self.retries.get(node_id, (0.0, RETRY_MIN / 2))
        delay = min(RETRY_MAX, delay * 2)
        self.retries[node_id] = (time.monotonic() + delay, delay)
        return delay

    def due_retries(self) -> list[int]:
        now = time.monotonic()
        return [n for n, (when, _d) in self.retries.items() if when <= now]

    # -- deleted nodes -----------------------------------------------------------------------
    def process_deletions(self) -> bool:
        srv = self.srv
        ok = True
        defaults: dict[str, str] | None = None
        state = self._load_state()
        changed = False
        for node_id in ccat.nodes_to_delete(self.cat, srv.server_id):
            known = state.get(str(node_id))
            if known is None:
                defaults = (
                    defaults
                    if defaults is not None
                    else ccat.node_default_config(self.cat)
                )
                known = {
                    k: defaults.get(p, "").replace("%%pgnode%%", str(node_id))
                    for k, p in (
                        ("crontab_file", "pgnode_crontab_file"),
                        ("partition", "pgnode_backup_partition"),
                    )
                }
            problems = files.remove_node_files(
                self.cfg.backup_server,
                node_id,
                known.get("crontab_file"),
                known.get("partition"),
                other_partitions=ccat.node_partitions(self.cat),
            )
            for p in problems:
                log.error("Deleted PgSQL node %s: %s", node_id, p)
            # Files we may not delete (outside the root, not ours) stay; the row goes anyway
            # so that the problem is reported once, not on every pass.
            ccat.node_to_delete_done(self.cat, srv.server_id, node_id)
            self.retries.pop(node_id, None)
            if state.pop(str(node_id), None) is not None:
                changed = True
            ok = ok and not problems
            log.info(
                "PgSQL node %s deleted: its files on this backup server are gone",
                node_id,
            )
        if changed:
            self._save_state()
        return ok

    # -- at jobs -----------------------------------------------------------------------------
    def schedule_at_jobs(self, kinds: Iterable[str] = ccat.AT_KINDS) -> bool:
        """Queue an at job for every WAITING snapshot, restore and clone and every due
        restore drill of this server (``kinds``: some of them only)."""
        if self.srv.refused is not None:
            log.error("at jobs not queued: %s", self.srv.refused)
            return False
        ok = True
        for kind in kinds:
            for ident, _at in ccat.waiting_at_jobs(self.cat, kind, self.srv.server_id):
                ok = self._queue_at_job(kind, ident) and ok
        return ok

    def _queue_at_job(self, kind: str, ident: int) -> bool:
        srv = self.srv
        config = ["--config", self.config_file] if self.config_file else []
        if kind == "snapshot":
            argv = [srv.dump_program, *config, "--snapshot-id", str(ident)]
        else:
            option = {
                "restore": "--restore-def",
                "clone": "--clone",
                "drill": "--drill",
            }
            argv = [srv.restore_program, *config, option[kind], str(ident)]
        with ccat.claim_at_job(self.cat, kind, ident) as at_time:
            if at_time is None:
                return (
                    True  # another control process has it, or it is no longer WAITING
                )
            try:
                job = atjobs.queue_job(
                    argv, at_time, run_as=atjobs.run_as_user(srv.backup_user)
                )
            except (AtJobError, OSError) as exc:
                log.error(
                    "%s %s: at job not created: %s",
                    _AT_LABELS[kind],
                    ident,
                    exc,
                )
                ccat.set_at_status(self.cat, kind, ident, "ERROR")
                return False
            ccat.set_at_status(self.cat, kind, ident, "DEFINED")
        log.info(
            "%s %s queued as at job %s (%s)",
            _AT_LABELS[kind],
            ident,
            job.job_number,
            " ".join(job.timespec),
        )
        return True

    # -- remembered node files -----------------------------------------------------------------
    def _state_path(self) -> Path:
        return cache.cache_dir(self.srv.root) / STATE_FILE

    def _load_state(self) -> dict[str, dict[str, str]]:
        if self._state is None:
            try:
                data: Any = json.loads(self._state_path().read_text(encoding="utf-8"))
                self._state = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._state = {}
        return self._state

    def _save_state(self) -> None:
        path = self._state_path()
        files.make_dir(path.parent, self.owner())
        atomic_write(
            path, json.dumps(self._load_state(), indent=1, sort_keys=True), 0o600
        )


def _now_text() -> str:
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S%z")
