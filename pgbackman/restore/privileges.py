"""The privileges of a parallel restore, restored afterwards one at a time.

With ``-j`` pg_restore restores ACL entries in parallel too, ordered only by the object
each belongs to. A privilege granted by a role other than the owner is replayed as that role
(``SET SESSION AUTHORIZATION``) and may need a privilege another ACL entry grants (USAGE on
the schema): run in parallel, the two race and the restore fails at random. So the runner
restores everything but the privileges with ``-j`` (``--no-acl``), then this module restores
the ACL entries of the archive serially, in archive order (``--use-list``), see
:func:`pgbackman.restore.plan.separate_acl_pass`.
"""

from __future__ import annotations

import logging
import tempfile
from typing import TYPE_CHECKING

from pgbackman.core import argv as argvmod
from pgbackman.errors import RestoreError
from pgbackman.infra import proc
from pgbackman.restore import plan

if TYPE_CHECKING:
    from pgbackman.restore.runner import RestoreRun

log = logging.getLogger(__name__)


def restore_privileges(run: RestoreRun, dbname: str, extra: list[str]) -> None:
    """Restore the archive's ACL entries into ``dbname``, one at a time."""
    s = run.spec
    archive = str(s.pg_dump_file)
    listing = proc.run(
        argvmod.pg_restore_list_argv(run.bindir, archive), stderr=run.runlog.fh
    )
    run.checkpoint()
    if not listing.ok:
        raise RestoreError(f"Listing the archive failed: {listing.describe()}")
    entries = plan.acl_entries(listing.stdout)
    if not entries:
        return
    log.info("Restoring %d privilege entries one at a time", len(entries))
    with tempfile.NamedTemporaryFile(
        "w", prefix=".acl-", suffix=".list", dir=s.partition / "log"
    ) as fh:
        fh.write("\n".join(entries) + "\n")
        fh.flush()
        argv, _notes = plan.pg_restore_argv(
            run.bindir,
            s.backup_code,
            dbname,
            archive,
            [*extra, f"--use-list={fh.name}"],
        )
        run.run(argv, run.env(dbname))
    run.checkpoint()
