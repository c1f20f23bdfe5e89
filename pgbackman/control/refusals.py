"""What pgbackman_control does with a catalog value that this server's own configuration
file does not allow (:mod:`pgbackman.core.authority` says which): the value is not used,
the refusal is logged, and it raises ONE ``Config-refused`` alert per episode; the episode
ends once the value is accepted again.

Owned here so that the resync (:mod:`pgbackman.control.resync`) only asks "may I use this
value?" and never repeats the bookkeeping.
"""

from __future__ import annotations

import logging

from pgbackman.catalog import alerts
from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.control import files
from pgbackman.core import authority
from pgbackman.errors import ConfigRefusedError

log = logging.getLogger("pgbackman_control")


def episode_key(node_id: int | None, parameter: str) -> str:
    scope = "server" if node_id is None else f"node:{node_id}"
    return f"config:{scope}:{parameter}"


class Refusals:
    """The open refusal episodes of one pgbackman_control process. Each key is checked
    against the catalog the first time it is used in this process, then on change."""

    def __init__(self) -> None:
        self._refused: set[str] = set()
        self._accepted: set[str] = set()

    def refuse(
        self,
        cat: Catalog,
        cfg: Config,
        server_id: int,
        node_id: int | None,
        exc: ConfigRefusedError,
    ) -> None:
        """Log the refusal and raise one Config-refused alert per episode."""
        where = "backup server" if node_id is None else f"PgSQL node {node_id}"
        log.error("%s: %s", where, exc)
        key = episode_key(node_id, exc.parameter)
        self._refused.add(key)
        self._accepted.discard(key)
        alerts.raise_or_spool(
            cat,
            cfg.backup_server.root_backup_partition,
            alerts.Alert(
                alert_type=alerts.CONFIG_REFUSED,
                server_id=server_id,
                node_id=node_id,
                message=f"pgbackman_control on {cfg.backup_server.fqdn}, {where}: {exc}",
                episode_key=key,
            ),
        )

    def accept(self, cat: Catalog, node_id: int | None, parameter: str) -> None:
        """The value is fine (again): end its refusal episode, if one is open."""
        key = episode_key(node_id, parameter)
        if key in self._accepted:
            return
        alerts.end_episode(cat, key)
        self._refused.discard(key)
        self._accepted.add(key)

    def check_node_paths(
        self,
        cat: Catalog,
        cfg: Config,
        server_id: int,
        node_id: int,
        crontab_file: str,
        partition: str,
    ) -> None:
        """The node's crontab file and partition as this server's configuration allows them
        (ConfigRefusedError otherwise: logged, alerted, the node is retried later)."""
        bs = cfg.backup_server
        for parameter, value in (
            ("pgnode_crontab_file", crontab_file),
            ("pgnode_backup_partition", partition),
        ):
            if not value:
                continue
            try:
                if parameter == "pgnode_crontab_file":
                    authority.check_crontab_file(parameter, value, bs.crontab_dir)
                else:
                    files.check_partition(bs.root_backup_partition, value)
            except ConfigRefusedError as exc:
                self.refuse(cat, cfg, server_id, node_id, exc)
                raise
            self.accept(cat, node_id, parameter)
