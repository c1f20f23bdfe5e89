"""The shell's upgrade offer on interactive start (upstream 1.1+, §2.6).

When the catalog is older than this software (a PgBackMan 1.x catalog, or an older
catalog of this software), the interactive shell shows upstream's ``A T T E N T I O N``
banner and asks ``Do you want to upgrade the PgBackMan database to version: [5:v_2_0_0]
(yes/no)``. ``no`` leaves the shell (exit 1, as upstream). ``yes`` asks for the superuser
role to run it as (this software's catalog is owned by ``pgbackman_role_owner``; the shell's
own role cannot change it) and runs the same upgrade as ``pgbackman_upgrade_catalog``.
With ``-C`` or commands on stdin nothing is offered: the shell refuses with a message that
names ``pgbackman_upgrade_catalog``.
"""

from __future__ import annotations

from pgbackman.catalog import schema, upgrade
from pgbackman.errors import Aborted, PgBackManError
from pgbackman.shell.context import ShellContext
from pgbackman.version import SCHEMA_TAG, SCHEMA_VERSION

QUESTION = (
    f"Do you want to upgrade the PgBackMan database to version: "
    f"[{SCHEMA_VERSION}:{SCHEMA_TAG}] (yes/no)"
)


def can_offer(current: schema.SchemaVersion) -> bool:
    """Only catalogs this software knows how to upgrade are offered an upgrade."""
    return schema.classify(current) in (schema.State.OLDER, schema.State.UPSTREAM)


def offer_upgrade(ctx: ShellContext, current: schema.SchemaVersion) -> bool:
    """Ask, and upgrade on ``yes``; True when the catalog is now usable."""
    out = ctx.out
    out.info(
        "\n#################\nA T T E N T I O N\n#################\n\n"
        f"The PgBackMan software version [{SCHEMA_VERSION}:{SCHEMA_TAG}] is different from\n"
        f"the PgBackMan database version [{current.version}:{current.tag}].\n"
    )
    try:
        if not ctx.confirm(QUESTION):
            out.error(
                f"The catalog was not upgraded: this software needs schema version "
                f"{SCHEMA_VERSION} ({SCHEMA_TAG})"
            )
            return False
        role = ctx.prompt("Superuser role to run the upgrade as", "postgres")
    except Aborted as exc:
        out.info(f"[ABORTED] {exc}")
        return False
    out.info(
        "\n############################\nUpgrading PgBackMan database\n"
        "############################\n"
    )
    # The shell's own connection would count as a PgBackMan session still running.
    ctx.cat.close()
    try:
        upgrade.upgrade(
            upgrade.admin_config(ctx.cfg.database, role),
            upgrade.find_sql_dir(ctx.cfg.database.database_source_dir),
            upgrade.find_psql(),
            out.info,
        )
    except PgBackManError as exc:
        out.error(str(exc))
        return False
    return True
