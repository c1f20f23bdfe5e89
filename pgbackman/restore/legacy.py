"""Restoring a backup written by PgBackMan 1.x (a catalog row imported by the upgrade).

Such a backup has no checksum manifest: it cannot be verified, so the restore says so, in
the log and in its restore_catalog row ("restored UNVERIFIED"), instead of being refused.
Its files must be present. Its roles and database attributes come from 1.x's USERS and
DBCONFIG files, read by :mod:`pgbackman.archive.legacy` and rendered again by the same
renderers as this software's backups, so the rest of the restore (selected roles only, a
temporary database renamed into place, cleanup on failure) is the same. Used by
:class:`pgbackman.restore.runner.RestoreRun` when ``spec.legacy`` is set.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pgbackman.archive.globalsfile import render_dbconfig_sql
from pgbackman.archive.legacy import LegacyFormatError, read_legacy_globals
from pgbackman.errors import RestoreError
from pgbackman.pgnode import restore as rnode
from pgbackman.pgnode.globals import DatabaseGlobals

if TYPE_CHECKING:
    from pgbackman.restore.runner import RestoreRun

log = logging.getLogger(__name__)


def accept(run: RestoreRun) -> None:
    """Instead of the checksum verification: the files are there, and the warning is given."""
    s = run.spec
    needed = [s.pg_dump_file]
    if s.backup_code in ("FULL", "SCHEMA"):
        needed.append(s.dbconfig_file)
    for p in needed:
        if not p:
            raise RestoreError(
                f"Legacy backup {s.bck_id} ({s.backup_code}) lacks a file in the catalog"
            )
        if not os.path.exists(p):
            raise RestoreError(f"Legacy backup {s.bck_id}: {p} is missing")
    warning = (
        f"Legacy backup {s.bck_id} written by PgBackMan 1.x: no checksum manifest, "
        "restored UNVERIFIED."
    )
    log.warning("%s", warning)
    run.outcome.warnings.append(warning)


def globals_of(run: RestoreRun) -> DatabaseGlobals:
    """The roles and database attributes of the backup, from its 1.x files (read once)."""
    if run.legacy_globals is not None:
        return run.legacy_globals
    s = run.spec
    texts: list[str | None] = []
    for path in (s.roles_file, s.dbconfig_file):
        try:
            texts.append(Path(path).read_text(encoding="utf-8") if path else None)
        except (OSError, UnicodeDecodeError) as exc:
            raise RestoreError(
                f"Cannot read {path} of legacy backup {s.bck_id}: {exc}"
            ) from None
    try:
        g = read_legacy_globals(
            texts[0],
            texts[1],
            s.source_dbname,
            default_owner=s.admin_user,
            server_version=s.backup_node_release or "",
        )
    except LegacyFormatError as exc:
        raise RestoreError(
            f"Cannot read the files of legacy backup {s.bck_id}: {exc}"
        ) from None
    for note in g.notes[1:]:
        log.warning("Legacy backup %s: %s", s.bck_id, note)
    run.legacy_globals = g
    return g


def dbconfig_script(run: RestoreRun) -> str:
    """The DBCONFIG psql script (``-v target_db=...``) rendered from the 1.x file: 1.x's
    lines name the source database and cannot be retargeted as they are.

    1.x's roles file often lacks roles its database file names (its substring filters
    missed memberships granted WITH ADMIN OPTION, and roles of the whole ACL were never
    collected), and 1.x's restore ignored the failing statements. Here a grant, a setting
    or an owner for a role that is not on the target is left out, with a warning.
    """
    s = run.spec
    g = globals_of(run)
    existing = rnode.role_names(run.conn)
    d = g.database
    dropped = sorted(
        {a.grantee for a in d.acl or [] if a.grantee and a.grantee not in existing}
        | {r for r in d.role_settings if r not in existing}
    )
    owner = d.owner
    if owner not in existing:
        dropped.append(owner)
        owner = s.admin_user
    for role in dropped:
        log.warning(
            "Legacy backup %s: role %r is not on the target; its database privileges, "
            "settings or ownership are not restored",
            s.bck_id,
            role,
        )
    acl = d.acl
    if acl is not None:
        acl = [a for a in acl if a.grantee is None or a.grantee in existing]
        if owner != d.owner:
            acl = [a for a in acl if a.grantee != d.owner]
    database = replace(
        d,
        owner=owner,
        acl=acl,
        role_settings={r: v for r, v in d.role_settings.items() if r in existing},
    )
    return render_dbconfig_sql(
        replace(g, database=database), node=f"{s.target_fqdn}:{s.target_port}"
    )
