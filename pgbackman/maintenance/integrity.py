"""Checking stored backups and saying so: the catalog's integrity state and one alert.

Both ``pgbackman_maintenance --verify`` and retention (before it relies on a backup) go
through :class:`IntegrityKeeper`: it checks the files (:mod:`pgbackman.archive.integrity`),
records the state in ``backup_catalog.integrity`` and, for a MISSING, CORRUPT or UNVERIFIED
backup, raises one ``Backup-integrity`` alert per episode (``integrity:bck:<BckID>``); the
episode ends when the backup is found intact again or is deleted. A dry run checks and records
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pgbackman.archive import integrity
from pgbackman.archive.integrity import Verdict
from pgbackman.catalog import alerts
from pgbackman.catalog import maintenance as mcat
from pgbackman.catalog.connection import Catalog

log = logging.getLogger("pgbackman_maintenance")


def episode_key(bck_id: int) -> str:
    return f"integrity:bck:{int(bck_id)}"


class IntegrityKeeper:
    """Checks backups of one backup server and records what it finds."""

    def __init__(
        self, cat: Catalog, server_id: int, root: str | Path, dry_run: bool = False
    ) -> None:
        self.cat = cat
        self.server_id = server_id
        self.root = root  # where alerts are spooled when the catalog is down
        self.dry_run = dry_run

    def check(self, row: Mapping[str, Any]) -> Verdict:
        """Check one SUCCEEDED backup of this server (all of its files) and record it."""
        verdict = integrity.check(row)
        if not self.dry_run:
            self.record(row, verdict)
        return verdict

    def record(self, row: Mapping[str, Any], verdict: Verdict) -> None:
        bck_id = int(row["bck_id"])
        mcat.record_integrity(self.cat, bck_id, verdict.state, verdict.detail)
        if verdict.state in integrity.PROBLEMS:
            log.error(
                "Backup %s (%s) is %s: %s",
                bck_id,
                row.get("dbname"),
                verdict.state,
                verdict.detail,
            )
            alerts.raise_or_spool(
                self.cat,
                self.root,
                alerts.Alert(
                    alert_type=alerts.INTEGRITY,
                    server_id=self.server_id,
                    message=(
                        f"Backup {bck_id} of database {row.get('dbname')!r} is "
                        f"{verdict.state}: {verdict.detail}"
                    ),
                    node_id=_int(row.get("pgsql_node_id")),
                    dbname=str(row.get("dbname") or ""),
                    ref_id=_int(row.get("def_id") or row.get("snapshot_id")),
                    bck_id=bck_id,
                    episode_key=episode_key(bck_id),
                ),
            )
        elif row.get("integrity") in integrity.PROBLEMS:
            alerts.end_episode(self.cat, episode_key(bck_id))
            log.info("Backup %s is %s again", bck_id, verdict.state)

    def is_intact(self, row: Mapping[str, Any]) -> bool:
        """May retention count this backup? Rows of another backup server (after
        move_backup_definition) are taken as recorded; known damage is not re-read (a
        CORRUPT backup does not heal; ``--verify`` re-checks it); anything else is checked
        now, in full."""
        if int(row["backup_server_id"]) != self.server_id:
            return row.get("integrity") == integrity.INTACT
        if row.get("integrity") in (
            integrity.CORRUPT,
            integrity.UNVERIFIED,
            integrity.LEGACY,
        ):
            return False
        full = mcat.backup_row(self.cat, int(row["bck_id"]))
        if full is None or full.get("execution_status") != "SUCCEEDED":
            return False  # deleted meanwhile
        return self.check(full).intact


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
