"""What a backup server's own configuration file lets root touch, whatever the catalog says.

pgbackman_control and pgbackman_maintenance run as root and act on paths, programs and users
read from the catalog. Whoever can write the catalog must not thereby own every backup server,
so each catalog value is checked against the local, root-owned configuration file
(``[backup_server]``) before it is used:

* a crontab file lies directly inside ``crontab_dir`` (default ``/etc/cron.d``) and has a name
  cron reads (``[A-Za-z0-9_-]+``);
* a node's backup partition lies strictly inside the local ``root_backup_partition``, and the
  server's root_backup_partition in the catalog is that directory or inside it;
* the programs in cron and at lines are the local ones (never the catalog's);
* ``backup_user`` may be root (uid 0) only when ``allow_root_backup_user`` is ON.

Pure functions (lexical checks on normalised absolute paths; the daemons also compare real
paths). A refused value raises :class:`~pgbackman.errors.ConfigRefusedError` naming the
parameter, the value and the local limit; the shell uses the same checks on what is typed.
"""

from __future__ import annotations

import os
import re

from pgbackman.errors import ConfigRefusedError

_CRON_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def normalised_absolute(path: str) -> bool:
    """Absolute, without '.', '..', '//' or a trailing '/', and not '/' itself."""
    return (
        path.startswith("/")
        and path != "/"
        and os.path.normpath(path) == path
        and "//" not in path
    )


def strictly_inside(root: str, path: str) -> bool:
    """Lexically below ``root`` (both normalised absolute), not ``root`` itself."""
    return (
        normalised_absolute(root)
        and normalised_absolute(path)
        and path.startswith(root.rstrip("/") + "/")
    )


def check_crontab_file(parameter: str, value: str, crontab_dir: str) -> str:
    """A crontab file control may write, replace or delete."""
    if not normalised_absolute(value) or os.path.dirname(value) != crontab_dir:
        raise ConfigRefusedError(
            parameter,
            value,
            f"crontab files are written only directly inside crontab_dir {crontab_dir}",
        )
    if not _CRON_NAME_RE.match(os.path.basename(value)):
        raise ConfigRefusedError(
            parameter,
            value,
            "cron ignores file names other than letters, digits, _ and -",
        )
    return value


def check_partition(parameter: str, value: str, local_root: str) -> str:
    """A node's backup partition: strictly inside the local root_backup_partition."""
    if not strictly_inside(local_root, value):
        raise ConfigRefusedError(
            parameter,
            value,
            f"backup partitions lie only inside root_backup_partition {local_root} of "
            "this server's configuration file",
        )
    return value


def check_server_root(value: str, local_root: str) -> str:
    """The server's root_backup_partition in the catalog: the local one or inside it."""
    if value != local_root and not strictly_inside(local_root, value):
        raise ConfigRefusedError(
            "root_backup_partition",
            value,
            f"it must be {local_root} (this server's configuration file) or inside it",
        )
    return value


def check_backup_user(value: str, uid: int | None, allow_root: bool) -> str:
    """The OS user of cron and at jobs; ``uid`` is its uid on this host (None: unknown)."""
    if (value == "root" or uid == 0) and not allow_root:
        raise ConfigRefusedError(
            "backup_user",
            value,
            "jobs run as root only when [backup_server] allow_root_backup_user is ON in "
            "this server's configuration file",
        )
    return value
