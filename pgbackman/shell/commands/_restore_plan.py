"""What a restore definition will hold, and how register_restore_definition gets there:
from the 7 (or 8) parameters of a script, or through the manual's interactive flow (rename
an existing target database, use existing roles, the summary and its confirmation),
checked against the real target node. Not a command module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import psycopg2.extensions

from pgbackman.core import validate
from pgbackman.errors import Aborted, UserInputError
from pgbackman.pgnode import connection as pgnode
from pgbackman.shell.context import ShellContext
from pgbackman.shell.params import Values
from pgbackman.shell.render import RULER

ALL_ROLES = "#all#"
MAX_NAME_BYTES = 63  # PostgreSQL identifiers (NAMEDATALEN - 1)


@dataclass
class RestorePlan:
    """Everything the restore definition will hold, filled step by step."""

    at_time: dt.datetime
    bck_id: int
    server_id: int
    server_fqdn: str
    node_id: int
    node_fqdn: str
    target_dbname: str
    extra: str
    renamed: str | None = None
    roles: list[str] = field(default_factory=list)


def target_name(value: str, label: str) -> str:
    v = validate.no_control_chars(label, value)
    if not v.strip():
        raise UserInputError(f"{label} cannot be empty")
    if len(v.encode()) > MAX_NAME_BYTES:
        raise UserInputError(f"{label} [{v}] is longer than {MAX_NAME_BYTES} bytes")
    return v


def new_plan(ctx: ShellContext, v: Values, node: pgnode.NodeTarget) -> RestorePlan:
    return RestorePlan(
        v.at_time,
        int(v.backup["bck_id"]),
        int(v.backup["backup_server_id"]),
        str(v.backup["backup_server"]),
        v.node,
        node.fqdn,
        v.target,
        v.extra,
    )


def default_rename(target: str, now: dt.datetime | None = None) -> str:
    """``<target>_<YYYY_MM_DDTHHMMSS>``, cut so that it stays a valid identifier."""
    suffix = "_" + (now or dt.datetime.now()).strftime("%Y_%m_%dT%H%M%S")
    base = target.encode()[: MAX_NAME_BYTES - len(suffix)].decode(errors="ignore")
    return base + suffix


def plan_from_args(ctx: ShellContext, v: Values) -> RestorePlan:
    bck, target, renamed = v.backup, v.target, v.renamed
    node = ctx.node_target(v.node)
    plan = new_plan(ctx, v, node)
    backup_roles = list(bck["role_list"])
    with pgnode.session(node, application_name="pgbackman_cli") as conn:
        if bck["backup_code"] == "DATA":
            # A DATA backup is loaded into the EXISTING database (pgbackman_restore).
            _require_existing(conn, target, node.fqdn)
        elif bck["backup_code"] != "CLUSTER" and pgnode.database_exists(conn, target):
            if not renamed.strip():
                raise UserInputError(
                    f"Target DBname [{target}] already exists on target PgSQL node {node.fqdn}: "
                    "give a Renamed DBname or another Target DBname"
                )
            plan.renamed = target_name(renamed, "Renamed DBname")
            if pgnode.database_exists(conn, plan.renamed):
                raise UserInputError(
                    f"Renamed DBname [{plan.renamed}] already exists on target PgSQL node {node.fqdn}"
                )
        elif renamed.strip():
            ctx.out.warning("Nothing to rename on the target: Renamed DBname ignored.")
        if v.roles == [ALL_ROLES]:
            plan.roles = [r for r in backup_roles if not pgnode.role_exists(conn, r)]
        else:
            for r in v.roles:
                if r not in backup_roles:
                    raise UserInputError(
                        f"Role [{r}] is not in the role list of backup [{bck['bck_id']}]"
                    )
                if pgnode.role_exists(conn, r):
                    raise UserInputError(
                        f"Role [{r}] already exists on target PgSQL node {node.fqdn}"
                    )
                plan.roles.append(r)
    if v.runner is not None:
        plan.server_id, plan.server_fqdn = v.runner
    return plan


def plan_interactive(ctx: ShellContext, v: Values) -> RestorePlan:
    """The manual's flow, after the values were confirmed: rename, roles, summary."""
    bck, target = v.backup, v.target
    ctx.out.info("[Processing restore data]")
    ctx.out.info(RULER)
    node = ctx.node_target(v.node)
    plan = new_plan(ctx, v, node)
    with pgnode.session(node, application_name="pgbackman_cli") as conn:
        if bck["backup_code"] == "DATA":
            _require_existing(conn, target, node.fqdn)
        elif bck["backup_code"] != "CLUSTER":
            plan.renamed = ask_rename(ctx, conn, target)
        for role in bck["role_list"]:
            if not pgnode.role_exists(conn, role):
                ctx.out.info(
                    f"[OK]: Role '{role}' does not exist on target PgSQL node."
                )
                ctx.out.info("")
                plan.roles.append(role)
                continue
            ctx.out.warning(f"Role '{role}' already exists on target PgSQL node.")
            if not ctx.confirm("Use the existing role? (yes/no)"):
                raise Aborted()
    _print_summary(ctx, plan)
    ctx.confirm_or_abort()
    return plan


def _require_existing(
    conn: psycopg2.extensions.connection, target: str, fqdn: str
) -> None:
    if not pgnode.database_exists(conn, target):
        raise UserInputError(
            f"Target DBname [{target}] does not exist on target PgSQL node {fqdn}: a DATA "
            "backup is restored into an existing database that has the schema"
        )


def ask_rename(
    ctx: ShellContext, conn: psycopg2.extensions.connection, target: str
) -> str | None:
    """The manual's rename step; returns the new name of the existing database, or None."""
    if not pgnode.database_exists(conn, target):
        ctx.out.info(
            f"[OK]: Target DBname {target} does not exist on target PgSQL node."
        )
        ctx.out.info("")
        return None
    ctx.out.warning("Target DBname already exists on target PgSQL node.")
    if not ctx.confirm("Rename it? (yes/no)"):
        raise UserInputError(
            "Cannot continue with this restore definition without renaming the existing "
            "database or using another Target DBname value"
        )
    while True:
        name = target_name(
            ctx.prompt("Rename existing database to", default_rename(target)),
            "Renamed DBname",
        )
        if name != target and not pgnode.database_exists(conn, name):
            return name
        ctx.out.warning(f"Database {name} already exists on target PgSQL node.")


def _print_summary(ctx: ShellContext, plan: RestorePlan) -> None:
    out = ctx.out
    out.info(RULER)
    out.info("[Restore definition accepted]")
    out.info(RULER)
    out.info(f"AT time: {plan.at_time}")
    out.info(f"BckID to restore: {plan.bck_id}")
    out.info(f"Roles to restore: {', '.join(plan.roles)}")
    out.info(f"Backup server: [{plan.server_id}] {plan.server_fqdn}")
    out.info(f"Target PgSQL node: [{plan.node_id}] {plan.node_fqdn}")
    out.info(f"Target DBname: {plan.target_dbname}")
    out.info(f"Extra restore parameters: {plan.extra}")
    out.info(f"Existing database will be renamed to : {plan.renamed}")
