"""Ctrl-C in the interactive shell does not depend on the SIGINT disposition it inherits.

A process started from a background job, ``nohup`` or a service manager inherits SIGINT
*ignored*, and Python then installs no KeyboardInterrupt handler. The shell is started here
through a launcher that ignores SIGINT and execs it, as such a parent would: Ctrl-C must still
clear the line at the prompt and abort a command half-way through its questions.
"""

from __future__ import annotations

import sys
import time

import pexpect
from support.pgbenv import PgbEnv
from support.shell import PGBACKMAN, PROMPT, Shell

# exec keeps an ignored signal ignored (POSIX): exactly what the shell inherits from nohup.
LAUNCH_WITH_SIGINT_IGNORED = (
    "import os, signal, sys;"
    "signal.signal(signal.SIGINT, signal.SIG_IGN);"
    "os.execv(sys.argv[1], sys.argv[1:])"
)
PROBE = "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"


def test_launcher_really_passes_sigint_ignored() -> None:
    """The premise of the test below: a child exec'ed by the launcher starts ignoring SIGINT."""
    out = pexpect.run(
        sys.executable,
        args=["-c", LAUNCH_WITH_SIGINT_IGNORED, sys.executable, "-c", PROBE],
        encoding="utf-8",
        timeout=20,
    )
    assert out.strip() == "True"


def test_ctrl_c_works_when_sigint_is_inherited_ignored(pgb_env: PgbEnv) -> None:
    sh = pexpect.spawn(
        sys.executable,
        ["-c", LAUNCH_WITH_SIGINT_IGNORED, PGBACKMAN],
        env=Shell(pgb_env).env,
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 200),
    )
    try:
        sh.expect(PROMPT)
        # At the prompt: the typed text is dropped and the shell stays.
        sh.send("show_backup_serv")
        sh.expect_exact("show_backup_serv")
        time.sleep(0.3)  # let readline finish echoing (see test_shell_a_session)
        sh.sendintr()
        sh.expect(PROMPT)
        sh.sendline("show_jobs_queue")
        sh.expect_exact("JobID")  # the interrupted text did not stick to this line
        sh.expect(PROMPT)
        # Inside a command's questions: the command is aborted, nothing is registered.
        sh.sendline("register_backup_server")
        sh.expect_exact("# Hostname []: ")
        sh.sendline("interrupted")
        sh.expect_exact("# Domain [")
        sh.sendintr()
        sh.expect_exact("[ABORTED] Command interrupted by the user.")
        sh.expect(PROMPT)
        sh.sendline("quit")
        sh.expect_exact("Done, thank you for using PgBackMan")
        sh.expect(pexpect.EOF)
        sh.wait()
        assert sh.exitstatus == 0
    finally:
        if sh.isalive():
            sh.terminate(force=True)
    rows = pgb_env.su_query(
        "SELECT count(*) FROM backup_server WHERE hostname = 'interrupted'"
    )
    assert rows == [(0,)]
