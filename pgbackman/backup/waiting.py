"""A dump run's turn: one slot of its node and one of its backup server
(``max_parallel_backups``, core/concurrency.py), taken in order of start (infra/slots.py)
before the node is even contacted.

When cron starts hundreds of dumps in the same minute, the ones beyond the limits wait
instead of fighting for the same CPUs, disks and nodes; together they finish sooner. The
node's slot is taken first, then the server's, so runs waiting for a busy node never hold
a server slot that another node's run could use. The wait counts against the node's
``backup_timeout`` (run/timeout.py watches the whole run); a stop signal or the timeout ends
it through the run's checkpoint. The time waited goes to the log and to the backup's
``wait_duration`` (``show_backup_details``). The slots are held until the run has written
its files; pg_dump inherits them like the job lock.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pgbackman.backup.job import JobSpec
from pgbackman.core import concurrency
from pgbackman.infra.slots import Slot, SlotQueue, resource_dir

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """The slots a run holds and how long it waited for them."""

    waited: float = 0.0
    slots: list[Slot] = field(default_factory=list)
    limits: str = ""

    @property
    def fds(self) -> tuple[int, ...]:
        return tuple(s.fd for s in self.slots if s.fd >= 0)

    def release(self) -> None:
        for s in self.slots:
            s.release()


def limits(spec: JobSpec) -> list[tuple[str, int]]:
    """(resource, slots) of the run: its node, then its backup server; unlimited ones out."""
    cpus = os.cpu_count() or 1
    out = []
    node = concurrency.slots(
        spec.node_config.get("max_parallel_backups"),
        cpus=cpus,
        default=concurrency.NODE_DEFAULT,
    )
    if node is not None:
        out.append((f"node_{spec.node_id}", node))
    server = concurrency.slots(
        spec.server_config.get("max_parallel_backups"),
        cpus=cpus,
        default=concurrency.SERVER_DEFAULT,
    )
    if server is not None:
        out.append(("server", server))
    return out


def take_turn(
    spec: JobSpec, root: str, started_ns: int, checkpoint: Callable[[], None]
) -> Turn:
    """Wait for the run's slots (see module docstring); ``checkpoint`` raises to stop."""
    turn = Turn()
    wanted = limits(spec)
    turn.limits = ", ".join(
        f"{'PgSQL node ' + str(spec.node_id) if name != 'server' else 'backup server'}:"
        f" {n} at once"
        for name, n in wanted
    )
    t0 = time.monotonic()
    try:
        for name, n in wanted:
            queue = SlotQueue(resource_dir(root, name), n)
            turn.slots.append(queue.acquire(started_ns, checkpoint))
    except BaseException:
        turn.release()
        raise
    turn.waited = time.monotonic() - t0
    if turn.waited >= 0.05:
        log.info(
            "Waited %.1f s for a backup slot (max_parallel_backups: %s)",
            turn.waited,
            turn.limits,
        )
    return turn
