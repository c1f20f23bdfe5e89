"""Retention's decisions for many backup definitions at once, on verified facts.

:func:`pgbackman.core.retention.expired_backups` asks whether a backup is intact lazily,
newest first, only when a deletion depends on it. Asking one backup at a time would cost a
catalog read and a record per backup (a catch-up pass relies on thousands of them), so the
definitions of a batch are decided in rounds: each round runs the pure decision of every
definition still waiting until it asks about a backup whose answer is not known yet; the
backups asked about in that round are then checked together (one read of their rows, each
checked in full, one catalog call recording what was found: :class:`IntegrityKeeper`), and
the next round starts. The same backups are checked as when asking one at a time (no more,
no fewer) and the decisions are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from pgbackman.catalog.connection import Row
from pgbackman.core.retention import Decision, RunRow, expired_backups
from pgbackman.errors import CatalogError, CatalogUnavailableError, PgBackManError
from pgbackman.maintenance.deleting import PassContext
from pgbackman.maintenance.files import job_busy
from pgbackman.maintenance.integrity import Answer
from pgbackman.maintenance.report import PassReport

log = logging.getLogger("pgbackman_maintenance")

RETENTION = "backup-retention"


class _Ask(Exception):
    """The decision of a definition needs the answer about this backup first."""

    def __init__(self, bck_id: int) -> None:
        super().__init__(bck_id)
        self.bck_id = bck_id


def decide_many(
    ctx: PassContext, report: PassReport, defs: Sequence[tuple[int, list[Row]]]
) -> list[tuple[int, Decision]]:
    """The decisions of several definitions (def_id and its candidate rows each), in
    definition order. A definition whose job runs is skipped (warning); one that fails is
    reported and stops none of the others."""
    decided: dict[int, list[Decision]] = {}
    pending = [(d, h) for d, h in defs if not _busy(ctx, report, d, h)]
    known: dict[int, bool] = {}
    refused: dict[int, str] = {}  # the catalog did not record what was found
    while pending:
        asks: dict[int, Row] = {}
        waiting = []
        for def_id, history in pending:
            by_id = {int(r["bck_id"]): r for r in history}

            def intact(bck_id: int) -> bool:
                if bck_id in refused:
                    raise CatalogError(refused[bck_id])
                if bck_id not in known:
                    raise _Ask(bck_id)
                return known[bck_id]

            try:
                decided[def_id] = _decide(ctx, history, intact)
            except _Ask as ask:
                asks[ask.bck_id] = by_id[ask.bck_id]
                waiting.append((def_id, history))
            except CatalogUnavailableError:
                raise
            except PgBackManError as exc:
                report.error(RETENTION, f"backup definition def_id={def_id}: {exc}")
            except Exception as exc:  # one bad definition must not stop the others
                log.exception("[%s] backup definition def_id=%s", RETENTION, def_id)
                report.error(
                    RETENTION,
                    f"backup definition def_id={def_id}: {type(exc).__name__}: {exc}",
                )
        for bck_id, answer in _answers(ctx, report, list(asks.values())).items():
            if answer.refusal is not None:
                refused[bck_id] = answer.refusal
            else:
                known[bck_id] = answer.intact
        pending = waiting
    return [(d, x) for d, _h in defs for x in decided.get(d, [])]


def _busy(
    ctx: PassContext, report: PassReport, def_id: int, history: list[Row]
) -> bool:
    first = next(r for r in history if r["backup_server_id"] == ctx.server_id)
    partition = ctx.partition(first["pgsql_node_id"])
    if ctx.dry_run or not job_busy(partition, def_id=def_id):
        return False
    # Checking the newest backups is pointless while nothing can be deleted.
    report.task(RETENTION).skipped += 1
    report.warning(
        RETENTION,
        f"backup definition def_id={def_id}: job is running (lock held); "
        "skipped until the next pass",
    )
    return True


def _decide(
    ctx: PassContext, history: list[Row], intact: Callable[[int], bool]
) -> list[Decision]:
    first = next(r for r in history if r["backup_server_id"] == ctx.server_id)
    return expired_backups(
        [
            RunRow(int(r["bck_id"]), r["finished"], str(r["execution_status"]))
            for r in history
        ],
        first["retention_period"],
        first["retention_redundancy"],
        ctx.now,
        intact=intact,
    )


def _answers(
    ctx: PassContext, report: PassReport, rows: list[Row]
) -> dict[int, Answer]:
    """Retention's question about backups it would rely on, a round's worth in one go;
    damage found is a warning of the pass (and an alert, raised by the keeper)."""
    if not rows:
        return {}
    try:
        answers = ctx.keeper.intact_many(rows)
    except CatalogUnavailableError:
        raise
    except Exception:  # noqa: BLE001 - one odd row must not fail the others: one by one
        answers = {}
        for row in rows:
            try:
                answers.update(ctx.keeper.intact_many([row]))
            except CatalogUnavailableError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported with its definition
                answers[int(row["bck_id"])] = Answer(
                    False, f"{type(exc).__name__}: {exc}"
                )
    for row in rows:
        a = answers[int(row["bck_id"])]
        if (
            a.refusal is None
            and not a.intact
            and row["backup_server_id"] == ctx.server_id
        ):
            report.warning(
                RETENTION,
                f"backup bck_id={row['bck_id']} def_id={row['def_id']} is not intact: "
                "it does not count towards the retention redundancy",
            )
    return answers
