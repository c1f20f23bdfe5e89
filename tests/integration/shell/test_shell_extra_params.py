"""Extra parameters that a job program would refuse at run time are refused at registration.

A definition registered with ``-f /tmp/x`` would otherwise fail every night at 02:00; the
shell applies the same allowlist as pgbackman_dump / pgbackman_restore (core/argv.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from support.pgbenv import PgbEnv
from support.shell import Shell


@pytest.mark.parametrize(
    "extra", ["-f /tmp/x", "--dbname=host=evil", "app1; touch /tmp/P", "-h evil"]
)
def test_bad_extra_backup_parameters_refused_everywhere(
    shell: Shell, pgb_env: PgbEnv, node1: Any, extra: str
) -> None:
    node = pgb_env.register_node(node1)
    q = "'" + extra.replace("'", "'\"'\"'") + "'"
    lines = [
        f"register_backup_definition '' {node} app1 '' 10 01 '*' '*' '*' FULL false '7 days' 1 {q} ACTIVE ''",
        f"register_snapshot_definition '' {node} app1 '' '' FULL '1 day' {q} '' ''",
        f"update_pgsql_node_config {node} '' '' '' '' '' '' '' '' '' {q} '' '' '' '' '' '' '' '' ''",
    ]
    for line in lines:
        res = shell.cmd(line)
        assert res.rc == 1, (line, res.out, res.err)
        assert "Extra" in res.out + res.err
    assert pgb_env.su_query("SELECT count(*) FROM backup_definition")[0][0] == 0
    assert pgb_env.su_query("SELECT count(*) FROM snapshot_definition")[0][0] == 0
    assert (
        pgb_env.su_query(
            "SELECT value FROM pgsql_node_config WHERE node_id = %s"
            " AND parameter = 'extra_backup_parameters'",
            (node,),
        )[0][0]
        == ""
    )


def test_good_extra_parameters_kept_as_typed(
    shell: Shell, pgb_env: PgbEnv, node1: Any
) -> None:
    node = pgb_env.register_node(node1)
    res = shell.cmd(
        f"register_backup_definition '' {node} app1 '' 10 01 '*' '*' '*' FULL false '7 days' 1 "
        "'-j 2 --exclude-table=Big_T -N Audit' ACTIVE ''"
    )
    assert res.rc == 0, res.out + res.err
    assert pgb_env.su_query("SELECT extra_backup_parameters FROM backup_definition")[0][
        0
    ] == ("-j 2 --exclude-table=Big_T -N Audit")
