"""The check a restore makes before it touches the target node: are the backup's files the
ones that were recorded?

Checksums first (:mod:`pgbackman.archive.integrity`, as maintenance checks them): the
manifest against the catalog, every file against the manifest and its recorded size. Local
files that are CORRUPT or MISSING are replaced by the backup's UPLOADED offsite copy when
it has one (:func:`pgbackman.restore.offsite.fetch`, checked the same way): a copy verified
when it was uploaded is better than a refusal, and far better than restoring damaged files.
A LEGACY backup (imported from upstream, never had a checksum) is restored with a warning
(:mod:`pgbackman.restore.legacy`). Anything else that is not INTACT, notably UNVERIFIED (a
backup this software wrote whose checksum is gone from the catalog: tampering), is refused
unless the run was forced (``pgbackman_restore --force``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pgbackman.archive import integrity
from pgbackman.errors import RestoreError
from pgbackman.restore import legacy, offsite

if TYPE_CHECKING:
    from pgbackman.restore.runner import RestoreRun

log = logging.getLogger("pgbackman.restore.runner")


def verify(run: RestoreRun) -> None:
    """Check the files ``run.spec`` names; switch the run to the offsite copy when the local
    files are damaged and a copy exists; raise RestoreError when the restore must not go on."""
    s = run.spec
    if s.legacy:
        legacy.accept(run)  # files present; restored UNVERIFIED, said in the log
        return
    verdict = integrity.check(s.backup_row)
    if (
        verdict.state in (integrity.CORRUPT, integrity.MISSING)
        and s.offsite_row is not None
        and run.staging is None
    ):
        local = f"The local files of backup {s.bck_id} are {verdict.state}"
        log.warning(
            "%s (%s): restoring from its offsite copy", local, shorten(verdict.problems)
        )
        try:
            run.spec, run.staging = offsite.fetch(run.cfg, s, run.checkpoint)
        except RestoreError as exc:
            raise RestoreError(f"{local}; {exc}") from None
        s = run.spec
        verdict = integrity.check(s.backup_row)
    if verdict.intact:
        log.info("Checksums verified: the files of backup %s are intact", s.bck_id)
        return
    if verdict.state == integrity.LEGACY:  # not reached: spec.legacy says the same
        log.warning(
            "Backup %s is a legacy backup imported from upstream PgBackMan: it has no "
            "checksum and is restored unverified",
            s.bck_id,
        )
        return
    what = {
        integrity.CORRUPT: f"Checksum mismatch: backup {s.bck_id} is CORRUPT",
        integrity.MISSING: f"Backup {s.bck_id} is MISSING files",
    }.get(
        verdict.state,
        f"Backup {s.bck_id} is UNVERIFIED (its checksum is not in the catalog)",
    ) + f" ({shorten(verdict.problems)})"
    if s.force:
        log.warning("%s; restoring it anyway (--force)", what)
        return
    raise RestoreError(
        f"{what}; restore refused (pgbackman_restore --force restores it anyway)"
    )


def shorten(problems: list[str]) -> str:
    shown = ", ".join(problems[:5])
    return shown + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
