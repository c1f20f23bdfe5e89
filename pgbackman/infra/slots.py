"""Run slots: at most N holders at once of one resource (a node, a backup server), waiting
in order of start, with nothing to clean up after a crash.

A resource is a directory (``<root>/run_slots/<name>/``) with the slot files ``slot.<k>``
(k < N) and a ``queue/`` of tickets. Everything is a ``flock`` held by a live process: the
kernel drops it when the process dies (even by kill -9), so a crashed run never keeps a
slot or a place in the queue; there is no counter to repair.

* A holder has one slot file locked (LOCK_EX) for as long as it runs; the descriptor is
  inherited by its children (pg_dump), like the job lock (infra/locking.py).
* A run that finds no free slot, or others already waiting, queues: a ticket file named
  after its start time (ns) and pid, created locked under a temporary name and renamed into
  ``queue/`` (so every ticket in the queue is locked from the moment it is visible). A
  ticket nobody holds any more (its run died) is removed by whoever finds it.
* A waiter with ``p`` living tickets older than its own takes a slot only when more than
  ``p`` slots are free: every older waiter can still have one. So slots go in order of
  start (within the time it takes a waiter to look again: 20 ms for the first in line,
  longer further back, where nothing can change soon; looking costs a directory listing,
  and for those who could take a slot, a non-blocking flock per slot).

Changing N applies to the next runs; runs holding a slot number >= the new N finish
normally. Slots are local to one backup server (a node backed up by several servers gets
each server's limit).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SLOTS_DIR = "run_slots"
QUEUE = "queue"
DIR_MODE = 0o700
POLL = 0.02  # seconds between looks of the first waiter in line
FRONT_MAX = 0.25  # ... of the others that could take a free slot
POLL_MAX = 2.0  # ... of a waiter far back in the queue
LIVENESS_INTERVAL = 2.0  # seconds between probes for tickets of dead runs
STALE_NEW = 10.0  # seconds after which an unqueued new ticket nobody holds is removed


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _ensure(path: Path) -> Path:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


@dataclass
class Slot:
    """A held slot: ``fd`` is the locked descriptor (pass it to children)."""

    resource: str
    index: int
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)  # closing drops the flock (children may still hold a copy)


class SlotQueue:
    """``capacity`` slots of the resource in ``directory`` (see module docstring)."""

    def __init__(self, directory: Path, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a slot queue needs at least one slot")
        self.directory = directory
        self.capacity = capacity
        self.name = directory.name

    def acquire(
        self,
        started_ns: int,
        checkpoint: Callable[[], None],
        poll: float = POLL,
    ) -> Slot:
        """Wait for a slot in order of ``started_ns``; ``checkpoint()`` is called between
        looks and ends the wait by raising (a stop signal, the run's timeout)."""
        queue = _ensure(self.directory / QUEUE)
        if not os.listdir(queue):
            slot = self._take(0)
            if slot is not None:
                return slot
        ticket = self._enqueue(queue, started_ns)
        check_alive = 0.0
        try:
            while True:
                now = time.monotonic()
                probe = now >= check_alive
                if probe:  # now and then: tickets of dead runs at the front go
                    check_alive = now + LIVENESS_INTERVAL
                ahead = self._ahead(queue, ticket[0], probe)
                if ahead < self.capacity:
                    slot = self._take(ahead)
                    if slot is not None:
                        return slot
                checkpoint()
                time.sleep(_pause(ahead, self.capacity, poll))
        finally:
            name, fd = ticket
            try:
                os.unlink(queue / name)
            except FileNotFoundError:
                pass
            os.close(fd)

    # -- slots -----------------------------------------------------------------------------
    def _take(self, ahead: int) -> Slot | None:
        """A slot when more than ``ahead`` are free (the older waiters keep theirs)."""
        kept: Slot | None = None
        free = 0
        for k in range(self.capacity):
            fd = _open(self.directory / f"slot.{k}")
            if not _try_lock(fd):
                os.close(fd)
                continue
            free += 1
            if kept is None:
                kept = Slot(self.name, k, fd)
            else:
                os.close(fd)
            if free > ahead:
                break
        if kept is not None and free <= ahead:
            kept.release()
            return None
        if kept is not None:
            _note_holder(kept.fd)
        return kept

    # -- the queue -------------------------------------------------------------------------
    def _enqueue(self, queue: Path, started_ns: int) -> tuple[str, int]:
        name = f"{started_ns:020d}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp = queue / f".new.{name}"
        fd = _open(tmp)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(tmp, queue / name)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return name, fd

    def _ahead(self, queue: Path, mine: str, probe: bool) -> int:
        """Tickets older than ``mine``. With ``probe``, the first ones are checked until
        ``capacity`` living ones are found (a flock probe each), and the tickets of dead
        runs met on the way are removed: they are the ones that would hold the queue up.
        Deeper dead tickets are met later, as the queue moves."""
        ahead = confirmed = 0
        for name in sorted(os.listdir(queue)):
            if name.startswith("."):
                if probe:
                    _remove_stale_new(queue / name)
                continue
            if name >= mine:
                break
            if probe and confirmed < self.capacity:
                if _alive(queue / name):
                    confirmed += 1
                    ahead += 1
                continue
            ahead += 1
        return ahead


def _alive(ticket: Path) -> bool:
    """Whether a run holds ``ticket``; a ticket nobody holds (its run is gone) is removed."""
    try:
        fd = os.open(ticket, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False  # it got its slot meanwhile
    try:
        if not _try_lock(fd):
            return True
        try:
            os.unlink(ticket)
        except FileNotFoundError:
            pass
        return False
    finally:
        os.close(fd)


def _pause(ahead: int, capacity: int, poll: float) -> float:
    """Seconds before a waiter looks again: the first in line at once (``poll``), the
    others later the further back they are (nothing can change for them sooner)."""
    if ahead < capacity:
        return min(FRONT_MAX, poll * (1 + ahead))
    return min(POLL_MAX, FRONT_MAX * (ahead // capacity))


def _remove_stale_new(path: Path) -> None:
    """A ticket of a run killed between creating and queueing it (left unlocked)."""
    try:
        if time.time() - os.lstat(path).st_mtime < STALE_NEW:
            return
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if _try_lock(fd):
            path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _note_holder(fd: int) -> None:
    """The holder's pid in the slot file (diagnostics only, like the job lock)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError:
        pass


def resource_dir(root: str | os.PathLike[str], name: str) -> Path:
    """``<root>/run_slots/<name>`` (``server`` or ``node_<id>``)."""
    return Path(root) / SLOTS_DIR / name
