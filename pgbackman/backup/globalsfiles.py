"""The roles (``ROLES``) and database-configuration (``DBCONFIG``) files of a FULL, SCHEMA or
DATA backup, written by pgbackman_dump from the node's catalogs while pg_dump runs.

The roles file carries the structured data of the globals as one comment line
(``GLOBALS_MARKER`` + JSON), so a restore can re-render a subset of roles without a
separate file. For an encrypted definition both files are encrypted from memory (no
plaintext on disk) and read back with the other encrypted files
(backup/protection.check_sealed); otherwise they are written atomically and the manifest
takes their SHA-256 from the bytes written (:class:`archive.readback.Verified`), so they
are not read again.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2.extensions

from pgbackman.archive import files
from pgbackman.archive.crypt import Sealer
from pgbackman.archive.globalsfile import (
    GLOBALS_MARKER,
    render_dbconfig_sql,
    render_roles_sql,
)
from pgbackman.archive.readback import Verified
from pgbackman.infra.fsutil import atomic_write
from pgbackman.pgnode import globals as nodeglobals

log = logging.getLogger(__name__)


@dataclass
class GlobalsFiles:
    names: list[str]  # the two file names, in the staging directory
    role_list: list[str]
    verified: dict[str, Verified] = field(default_factory=dict)  # plain files only


def write_globals_files(
    conn: psycopg2.extensions.connection,
    staging: Path,
    users_name: str,
    dbconfig_name: str,
    node: str,
    sealer: Sealer | None,
) -> GlobalsFiles:
    g = nodeglobals.read_database_globals(conn)
    now = _dt.datetime.now(_dt.timezone.utc)
    for note in g.notes:
        log.warning("%s", note)
    roles = render_roles_sql(g, node=node, generated=now)
    roles += (
        GLOBALS_MARKER
        + json.dumps(g.to_json_dict(), ensure_ascii=True, sort_keys=True)
        + "\n"
    )
    dbconfig = render_dbconfig_sql(g, node=node, generated=now)
    out = GlobalsFiles([users_name, dbconfig_name], g.role_list)
    for name, text in ((users_name, roles), (dbconfig_name, dbconfig)):
        data = text.encode("utf-8")
        if sealer is not None:  # encrypted from memory: no plaintext on disk
            sealer.seal_bytes(data, staging / name)
        else:
            atomic_write(staging / name, data, files.FILE_MODE)
            st = os.stat(staging / name)
            digest = hashlib.sha256(data).hexdigest()
            out.verified[name] = Verified(
                name, digest, st.st_size, st.st_mtime_ns, name
            )
    log.info(
        "Roles file and database configuration file written (%d roles)",
        len(g.role_list),
    )
    return out
