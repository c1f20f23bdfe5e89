"""core/authority.py: what a backup server's own configuration lets root touch."""

from __future__ import annotations

import pytest

from pgbackman.core import authority as a
from pgbackman.errors import ConfigRefusedError


def test_crontab_files_only_directly_inside_crontab_dir() -> None:
    assert a.check_crontab_file("f", "/etc/cron.d/pgsql_node_1", "/etc/cron.d")
    for bad in (
        "/etc/passwd",
        "/etc/cron.d/sub/pgsql_node_1",
        "/etc/cron.d/../passwd",
        "/etc/cron.d/pgsql_node_1.conf",  # cron ignores names with a dot
        "/etc/cron.d/",
        "etc/cron.d/x",
    ):
        with pytest.raises(ConfigRefusedError):
            a.check_crontab_file("pgnode_crontab_file", bad, "/etc/cron.d")


def test_partitions_strictly_inside_the_local_root() -> None:
    assert a.check_partition("p", "/srv/pgbackman/pgsql_node_1", "/srv/pgbackman")
    assert a.check_partition("p", "/srv/pgbackman/disk2/node_7", "/srv/pgbackman")
    for bad in (
        "/srv/pgbackman",  # the root itself (pending_updates/, cache_dir/ live there)
        "/srv/pgbackman-other/x",
        "/srv/pgbackman/../etc",
        "/srv/pgbackman/./x",
        "/srv//pgbackman/x",
        "/var/lib/x",
        "/",
    ):
        with pytest.raises(ConfigRefusedError, match="inside root_backup_partition"):
            a.check_partition("pgnode_backup_partition", bad, "/srv/pgbackman")


def test_server_root_is_the_local_one_or_inside() -> None:
    assert a.check_server_root("/srv/pgbackman", "/srv/pgbackman")
    assert a.check_server_root("/srv/pgbackman/a", "/srv/pgbackman")
    with pytest.raises(ConfigRefusedError, match="root_backup_partition value '/srv'"):
        a.check_server_root("/srv", "/srv/pgbackman")


def test_backup_user_root_only_when_allowed() -> None:
    assert a.check_backup_user("pgbackman", 999, allow_root=False) == "pgbackman"
    assert a.check_backup_user("root", 0, allow_root=True) == "root"
    for user, uid in (("root", 0), ("toor", 0), ("root", None)):
        with pytest.raises(ConfigRefusedError, match="allow_root_backup_user"):
            a.check_backup_user(user, uid, allow_root=False)


def test_refusals_name_parameter_value_and_limit() -> None:
    with pytest.raises(ConfigRefusedError) as err:
        a.check_crontab_file("pgnode_crontab_file", "/etc/passwd", "/etc/cron.d")
    assert err.value.parameter == "pgnode_crontab_file"
    assert err.value.value == "/etc/passwd"
    assert str(err.value).startswith("pgnode_crontab_file value '/etc/passwd' refused:")
    assert "/etc/cron.d" in str(err.value)
