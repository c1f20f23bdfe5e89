"""What a dump run and a restore run share: stopping on a signal, the per-run log file, and
running a client program (pg_dump, pg_restore, psql) with its output in that log.

A signal handler only calls :meth:`JobRun.request_stop`, which records the signal and forwards
SIGTERM to the running child; the run notices at its next :meth:`JobRun.checkpoint` and fails
with one error, so exactly one ERROR result is recorded.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path

from pgbackman.run import clients
from pgbackman.errors import PgBackManError
from pgbackman.infra import proc


class JobRun:
    """Base of DumpRun and RestoreRun; ``error`` is the error family a failure raises."""

    program = "pgbackman"
    error: type[PgBackManError] = PgBackManError

    def __init__(self) -> None:
        self.stop_signal: int | None = None
        self.timed_out: str | None = None  # set by run/timeout.RunTimeout
        # Descriptors every child inherits: the job lock, so that it stays held while a
        # child of this run lives (see infra/locking.JobLock.fileno).
        self.keep_fds: tuple[int, ...] = ()
        self._runlog: clients.RunLog | None = None
        self._log_handler: logging.Handler | None = None

    # -- signals --------------------------------------------------------------------------
    def request_stop(self, signum: int) -> None:
        """Signal-handler side: remember the first signal and forward it to the child."""
        if self.stop_signal is None:
            self.stop_signal = signum
        proc.terminate_children(signal.SIGTERM)

    def node_socket(self) -> int | None:
        """The socket of the run's own node connection (None: none open)."""
        return None

    def checkpoint(self) -> None:
        if self.timed_out is not None:
            raise self.error(self.timed_out)
        if self.stop_signal is not None:
            name = signal.Signals(self.stop_signal).name
            raise self.error(f"{self.program} stopped by {name}")

    # -- the run log ----------------------------------------------------------------------
    def open_runlog(self, path: Path) -> None:
        """Open the per-run log and copy this process's log records into it too."""
        self._runlog = clients.RunLog(path)
        handler = clients.RunLogHandler(self._runlog.fh)
        handler.setFormatter(
            logging.Formatter("%(asctime)s [%(levelname)s]: %(message)s")
        )
        logging.getLogger().addHandler(handler)
        self._log_handler = handler

    @property
    def runlog(self) -> clients.RunLog:
        assert self._runlog is not None  # noqa: S101 - internal invariant, for the type checker
        return self._runlog

    def close_runlog(self) -> None:
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
            self._log_handler = None
        if self._runlog is not None:
            self._runlog.close()

    def run_logged(
        self, argv: list[str], env: dict[str, str], input: str | None = None
    ) -> proc.Result:
        """Run a client program with its output in the run log; ``error`` on failure."""
        runlog = self.runlog
        runlog.fh.flush()
        offset = runlog.header(argv, env)
        res = proc.run(
            argv,
            env=proc.child_env(env),
            stdout=runlog.fh,
            stderr=runlog.fh,
            input=input,
            pass_fds=self.keep_fds,
        )
        self.checkpoint()
        if not res.ok:
            raise self.error(self.failure(res, offset))
        return res

    def failure(self, res: proc.Result, offset: int) -> str:
        """A failed program's status plus the error lines it wrote to the run log."""
        detail = self.runlog.tail_errors(offset)
        return f"{res.describe()}: {detail}" if detail else res.describe()
