"""Tab completion knows where it is: the candidates for each position of a command line and
for each question, computed by the shell's own completer against the test catalog and the
PgSQL node (in-process: readline itself is exercised in test_shell_as_you_type.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from pgbackman.catalog.connection import Catalog
from pgbackman.config import Config
from pgbackman.shell.app import Shell as ShellApp
from pgbackman.shell.completion import candidates
from pgbackman.shell.context import ShellContext
from pgbackman.shell.render import Output
from shell_helpers import add_backup, definitions, reg
from support.pgbenv import BACKUP_SERVER_FQDN, PgbEnv
from support.shell import Shell


@pytest.fixture
def ctx(pgb_env: PgbEnv) -> Iterator[ShellContext]:
    cfg = Config.load(str(pgb_env.config_path))
    context = ShellContext(
        cfg,
        Catalog(cfg.database, "pgbackman_tests"),
        Output(stream=io.StringIO()),
        True,
    )
    yield context
    context.cat.close()


def complete(ctx: ShellContext, line: str) -> list[str]:
    """What Tab offers at the end of ``line`` (the word being typed is the last one)."""
    text = "" if line.endswith(" ") else line.split(" ")[-1]
    return candidates(ctx, line, text)


def test_each_position_offers_what_it_asks_for(
    pgb_env: PgbEnv, node1: Any, shell: Shell, ctx: ShellContext
) -> None:
    nid = pgb_env.register_node(node1)
    assert shell.cmd(reg(nid, "app1")).rc == 0
    def_id = definitions(pgb_env)[0][0]
    bck = add_backup(pgb_env, nid, "app1", def_id=def_id)
    srv = pgb_env.server_id

    assert complete(ctx, "show_backup_det") == ["show_backup_details "]
    # show_backup_details <Tab>: backup ids, not backup servers.
    assert complete(ctx, "show_backup_details ") == [str(bck)]
    assert complete(ctx, "show_backup_server_stats ") == [str(srv), BACKUP_SERVER_FQDN]
    assert complete(ctx, "show_pgsql_node_stats ") == [str(nid), "127.0.0.1"]
    # The node's databases after a node, with the special forms.
    dbs = complete(ctx, f"register_backup_definition {srv} {nid} ")
    assert {"app1", "app2", "#all_databases#"} <= set(dbs)
    assert BACKUP_SERVER_FQDN not in dbs
    assert complete(ctx, f"register_backup_definition {srv} {nid} app") == [
        "app1",
        "app2",
    ]
    assert complete(ctx, "register_backup_definition '' 127.0.0.1 #all") == [
        "#all_databases#"
    ]
    line = f"register_backup_definition {srv} {nid} app1 '' 10 01 '*' '*' '*' "
    assert complete(ctx, line) == ["FULL", "SCHEMA", "DATA", "CLUSTER", "RDS"]
    assert complete(ctx, line + "FULL true '7 days' 1 '' ") == ["ACTIVE", "STOPPED"]
    # Listing filters: all, ids, comma lists, statuses.
    assert complete(ctx, "show_backup_catalog ") == [
        "all",
        str(srv),
        BACKUP_SERVER_FQDN,
    ]
    assert complete(ctx, f"show_backup_catalog all {nid},") == [
        f"{nid},{nid}",
        f"{nid},127.0.0.1",
    ]
    assert complete(ctx, "show_backup_catalog all all all ") == ["all", str(def_id)]
    assert complete(ctx, "show_backup_catalog all all all all ") == [
        "all",
        "SUCCEEDED",
        "ERROR",
        "WARNING",
    ]
    assert complete(ctx, "delete_backup_definition_id 7 ") == ["force-deletion"]
    assert complete(ctx, f"delete_backup_definition_dbname {nid} ") == ["app1"]
    assert complete(ctx, f"update_pgsql_node {nid} 5432 postgres ") == [
        "RUNNING",
        "STOPPED",
    ]
    assert complete(ctx, "set ") == ["output_format=", "pager="]
    assert complete(ctx, "set pager ") == ["on", "off"]
    assert complete(ctx, "\\? update_backup_s") == [
        "update_backup_server",
        "update_backup_server_config",
    ]
    # Past the last parameter, or for an unknown command: nothing.
    assert complete(ctx, "show_backup_details 1 ") == []
    assert complete(ctx, "no_such_command ") == []
    # A node that cannot be reached offers nothing (and breaks nothing).
    down = pgb_env.su_query(
        "SELECT register_pgsql_node('127', '0.0.1', 1, 'postgres', 'RUNNING', '')"
    )[0][0]
    assert complete(ctx, f"register_backup_definition {srv} {down} app") == []


def test_inside_a_prompt_the_question_decides(
    pgb_env: PgbEnv, node1: Any, ctx: ShellContext
) -> None:
    nid = pgb_env.register_node(node1)
    offered: dict[str, list[str]] = {}
    answers = {
        "# Backup server SrvID / FQDN": "",
        "# PgSQL node NodeID / FQDN": str(nid),
        "# DBname []": "app2",
        "# Backup code": "",
        "# Job status": "",
        "# Are all values correct": "no",
    }

    def typed(question: str) -> str:
        offered[question] = candidates(ctx, "", "")
        for start, value in answers.items():
            if question.startswith(start):
                return value
        return ""

    ctx.input_func = typed
    ShellApp(ctx).execute("register_backup_definition")

    def at(start: str) -> list[str]:
        return next(v for k, v in offered.items() if k.startswith(start))

    assert BACKUP_SERVER_FQDN in at("# Backup server SrvID / FQDN")
    assert "127.0.0.1" in at("# PgSQL node NodeID / FQDN")
    assert {"app1", "app2"} <= set(at("# DBname []"))
    assert at("# Backup code") == ["CLUSTER", "DATA", "FULL", "RDS", "SCHEMA"]
    assert at("# Remarks") == []
    assert at("# Are all values correct") == ["no", "yes"]
    assert definitions(pgb_env) == []  # answered no
