"""Every command of the 1.0 manual and the 1.1/1.2 additions exists (upstream muscle memory).

The command package skips a module that fails to import (so one broken module cannot take
the whole shell down in production); this test makes such a failure visible in CI.
"""

from __future__ import annotations

import pgbackman.shell.commands  # noqa: F401  (registers every command)
from pgbackman.shell import registry

MANUAL_1_0 = """EOF clear delete_backup_definition_dbname delete_backup_definition_id
delete_backup_server delete_pgsql_node quit register_backup_definition register_backup_server
register_pgsql_node register_restore_definition register_snapshot_definition shell
show_backup_catalog show_backup_definitions show_backup_details show_backup_server_config
show_backup_server_stats show_backup_servers show_empty_backup_catalogs show_history
show_jobs_queue show_pgbackman_config show_pgbackman_stats show_pgsql_node_config
show_pgsql_node_stats show_pgsql_nodes show_restore_catalog show_restore_definitions
show_restore_details show_snapshot_definitions update_backup_definition update_backup_server
update_backup_server_config update_pgsql_node update_pgsql_node_config""".split()
ADDED_1_1_1_2 = """show_databases_without_backup_definitions show_snapshots_in_progress
show_restores_in_progress move_backup_definition set""".split()


def test_every_upstream_command_is_registered() -> None:
    missing = sorted(set(MANUAL_1_0 + ADDED_1_1_1_2) - set(registry.names()))
    assert missing == []


def test_every_command_has_usage_text() -> None:
    for name in MANUAL_1_0 + ADDED_1_1_1_2:
        cmd = registry.get(name)
        assert cmd is not None and cmd.usage.strip(), name
