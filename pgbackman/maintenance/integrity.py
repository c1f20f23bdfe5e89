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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgbackman.archive import integrity
from pgbackman.archive.integrity import Verdict
from pgbackman.catalog import alerts
from pgbackman.catalog import maintenance as mcat
from pgbackman.catalog.connection import Catalog
from pgbackman.errors import CatalogError

log = logging.getLogger("pgbackman_maintenance")


def episode_key(bck_id: int) -> str:
    return f"integrity:bck:{int(bck_id)}"


@dataclass(frozen=True)
class Answer:
    """Retention's answer about one backup: may it be counted, and, when the catalog
    refused to record what was found (the row went meanwhile...), why."""

    intact: bool
    refusal: str | None = None


class IntegrityKeeper:
    """Checks backups of one backup server and records what it finds.

    Fleet scale (a catch-up pass relies on thousands of backups): :meth:`intact_many` reads
    the rows of a batch in one query and records what their checks found in one catalog
    call (``record_backup_integrity_many``); every backup is still checked in full."""

    def __init__(
        self, cat: Catalog, server_id: int, root: str | Path, dry_run: bool = False
    ) -> None:
        self.cat = cat
        self.server_id = server_id
        self.root = root  # where alerts are spooled when the catalog is down
        self.dry_run = dry_run

    def check(self, row: Mapping[str, Any]) -> Verdict:
        """Check one SUCCEEDED backup of this server (all of its files) and record it;
        CatalogError when the catalog refuses the record."""
        verdict, refusal = self.check_many([row])[int(row["bck_id"])]
        if refusal is not None:
            raise CatalogError(refusal)
        return verdict

    def check_many(
        self, rows: Sequence[Mapping[str, Any]]
    ) -> dict[int, tuple[Verdict, str | None]]:
        """Check SUCCEEDED backups of this server (each in full) and record them in one
        catalog call: bck_id -> (verdict, None or why the catalog refused the record)."""
        verdicts = {int(r["bck_id"]): integrity.check(r) for r in rows}
        refusals = {} if self.dry_run else self.record_many(rows, verdicts)
        return {b: (v, refusals.get(b)) for b, v in verdicts.items()}

    def record(self, row: Mapping[str, Any], verdict: Verdict) -> None:
        refusal = self.record_many([row], {int(row["bck_id"]): verdict}).get(
            int(row["bck_id"])
        )
        if refusal is not None:
            raise CatalogError(refusal)

    def record_many(
        self, rows: Sequence[Mapping[str, Any]], verdicts: Mapping[int, Verdict]
    ) -> dict[int, str | None]:
        """Record the verdicts of rows in ONE call, then say what is wrong: one alert per
        damaged backup per episode, the episode of a backup found sound again ended. A
        row the catalog refused (returned with the reason) raises and ends nothing."""
        ids = [int(r["bck_id"]) for r in rows]
        answers = mcat.record_integrity_many(
            self.cat, [(b, verdicts[b].state, verdicts[b].detail) for b in ids]
        )
        refusals = {
            b: answers.get(b, f"Backup {b} was not answered by the catalog")
            for b in ids
        }
        for row, b in zip(rows, ids, strict=True):
            if refusals[b] is None:
                self._say(row, verdicts[b])
        return refusals

    def _say(self, row: Mapping[str, Any], verdict: Verdict) -> None:
        bck_id = int(row["bck_id"])
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
        """:meth:`intact_many` of one row; CatalogError when the record was refused."""
        answer = self.intact_many([row])[int(row["bck_id"])]
        if answer.refusal is not None:
            raise CatalogError(answer.refusal)
        return answer.intact

    def intact_many(self, rows: Sequence[Mapping[str, Any]]) -> dict[int, Answer]:
        """May retention count these backups? Rows of another backup server (after
        move_backup_definition) are taken as recorded; known damage is not re-read (a
        CORRUPT backup does not heal; ``--verify`` re-checks it); anything else is checked
        now, in full: the rows read in one query, the findings recorded in one call. A
        backup whose finding the catalog refused to record is not counted."""
        out: dict[int, Answer] = {}
        to_check: list[int] = []
        for row in rows:
            bck_id = int(row["bck_id"])
            if int(row["backup_server_id"]) != self.server_id:
                out[bck_id] = Answer(row.get("integrity") == integrity.INTACT)
            elif row.get("integrity") in (
                integrity.CORRUPT,
                integrity.UNVERIFIED,
                integrity.LEGACY,
            ):
                out[bck_id] = Answer(False)
            else:
                to_check.append(bck_id)
        full = mcat.backup_rows(self.cat, to_check)
        present = []
        for bck_id in to_check:
            r = full.get(bck_id)
            if r is None or r.get("execution_status") != "SUCCEEDED":
                out[bck_id] = Answer(False)  # deleted meanwhile
            else:
                present.append(r)
        for bck_id, (verdict, refusal) in self.check_many(present).items():
            out[bck_id] = Answer(verdict.intact and refusal is None, refusal)
        return out


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
