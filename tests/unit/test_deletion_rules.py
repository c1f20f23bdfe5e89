"""maintenance/files.py Deleter and core/naming patterns: a path is deleted only when it is
exactly what pgbackman_dump (or pgbackman_restore) writes for that row."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pgbackman.catalog.maintenance import NodeDirs
from pgbackman.core import naming
from pgbackman.errors import UnsafePathError
from pgbackman.maintenance.files import BackupIdentity, Deleter

FQDN = "db1.example.org"
IDENT = BackupIdentity(
    node_id=1, dbname="app 1", backup_code="FULL", def_id=7, snapshot_id=None
)


def _names(ts: str = "20260101T010101") -> naming.DumpNames:
    return naming.dump_names(
        dbname="app 1",
        node_fqdn=FQDN,
        release_tag="15",
        tag="defid7",
        backup_code="FULL",
        ts=ts,
    )


def _world(tmp_path: Path) -> tuple[Deleter, Path, dict[str, str]]:
    root = tmp_path / "srv"
    part = root / "pgsql_node_1"
    (part / "dump").mkdir(parents=True)
    (part / "log").mkdir()
    n = _names()
    db = part / "dump" / n.database
    db.mkdir()
    (db / "toc.dat").write_text("x")
    for name in (n.users, n.dbconfig, n.manifest):
        (part / "dump" / name).write_text("x")
    (part / "log" / n.log).write_text("x")
    files = {
        "pg_dump_file": str(db),
        "pg_dump_roles_file": str(part / "dump" / n.users),
        "pg_dump_dbconfig_file": str(part / "dump" / n.dbconfig),
        "pg_dump_manifest_file": str(part / "dump" / n.manifest),
        "pg_dump_log_file": str(part / "log" / n.log),
        "pg_dump_roles_log_file": str(part / "log" / n.log),
    }
    return Deleter(str(root), {1: NodeDirs(str(part), FQDN)}), part, files


def test_the_files_of_the_row_are_deleted(tmp_path: Path) -> None:
    deleter, part, files = _world(tmp_path)
    paths = deleter.backup_paths(IDENT, files)
    assert len(paths) == 5  # the run's one log is named twice
    assert deleter.remove_all(paths) == (5, [])
    assert os.listdir(part / "dump") == [] and os.listdir(part / "log") == []


@pytest.mark.parametrize(
    "column, forged",
    [
        ("pg_dump_file", "{part}/dump"),  # the node's whole dump/ directory
        ("pg_dump_file", "{part}"),
        ("pg_dump_file", "{part}/dump/../dump/{db}"),
        (
            "pg_dump_file",
            "{part}/dump/other-db1.example.org-v15-defid7-cFULL-20260101T010101-DATABASE",
        ),
        (
            "pg_dump_file",
            "{part}/dump/app_x20_1-db1.example.org-v15-defid8-cFULL-20260101T010101-DATABASE",
        ),
        (
            "pg_dump_file",
            "{part}/dump/app_x20_1-db1.example.org-v15-defid7-cSCHEMA-20260101T010101-DATABASE",
        ),
        ("pg_dump_log_file", "{part}/dump/{log}"),  # a log outside log/
        ("pg_dump_roles_file", "/etc/passwd"),
    ],
)
def test_anything_else_is_refused_and_nothing_deleted(
    tmp_path: Path, column: str, forged: str
) -> None:
    deleter, part, files = _world(tmp_path)
    n = _names()
    files[column] = forged.format(part=part, db=n.database, log=n.log)
    with pytest.raises(UnsafePathError, match="Refusing"):
        deleter.backup_paths(IDENT, files)


def test_files_of_two_runs_are_refused(tmp_path: Path) -> None:
    deleter, part, files = _world(tmp_path)
    other = part / "log" / _names("20260102T010101").log
    other.write_text("x")
    files["pg_dump_log_file"] = str(other)
    with pytest.raises(UnsafePathError, match="several runs"):
        deleter.backup_paths(IDENT, files)


def _legacy_world(
    tmp_path: Path, *, custom_format: bool
) -> tuple[Deleter, Path, dict[str, str]]:
    """A backup PgBackMan 1.x wrote (upstream §4.3): raw names, three logs, one timestamp
    per file; 1.0 wrote a custom-format file and no '-' before the timestamp."""
    root = tmp_path / "srv"
    part = root / "pgsql_node_1"
    (part / "dump").mkdir(parents=True)
    (part / "log").mkdir()
    sep = "" if custom_format else "-"
    base = f"app 1-{FQDN}-v9_6-defid7-cFULL{sep}"
    db = part / "dump" / f"{base}20170304T021000-DATABASE.sql"
    if custom_format:
        db.write_text("x")
    else:
        db.mkdir()
        (db / "toc.dat").write_text("x")
    files = {"pg_dump_file": str(db)}
    for column, where, name in (
        ("pg_dump_log_file", "log", "20170304T021000-DATABASE.log"),
        ("pg_dump_roles_file", "dump", "20170304T021001-USERS.sql"),
        ("pg_dump_roles_log_file", "log", "20170304T021001-USERS.log"),
        ("pg_dump_dbconfig_file", "dump", "20170304T021001-DBCONFIG.sql"),
        ("pg_dump_dbconfig_log_file", "log", "20170304T021001-DBCONFIG.log"),
    ):
        (part / where / f"{base}{name}").write_text("x")
        files[column] = str(part / where / f"{base}{name}")
    return Deleter(str(root), {1: NodeDirs(str(part), FQDN)}), part, files


@pytest.mark.parametrize("custom_format", [False, True])
def test_the_files_of_a_backup_imported_from_1x_are_deleted(
    tmp_path: Path, custom_format: bool
) -> None:
    deleter, part, files = _legacy_world(tmp_path, custom_format=custom_format)
    paths = deleter.backup_paths(IDENT, files)
    assert len(paths) == 6
    assert deleter.remove_all(paths) == (6, [])
    assert os.listdir(part / "dump") == [] and os.listdir(part / "log") == []


@pytest.mark.parametrize(
    "column, name",
    [
        # another job, another database, another code: refused like for new backups
        ("pg_dump_file", "app 1-db1.example.org-v9_6-defid8-cFULL-20170304T021000-DATABASE.sql"),
        ("pg_dump_file", "app 2-db1.example.org-v9_6-defid7-cFULL-20170304T021000-DATABASE.sql"),
        ("pg_dump_roles_file", "app 1-db1.example.org-v9_6-defid7-cDATA-20170304T021000-USERS.sql"),
        # another run of the same job (not a second's difference: another release)
        ("pg_dump_roles_file", "app 1-db1.example.org-v9_5-defid7-cFULL-20170304T021000-USERS.sql"),
        # a suffix of another column
        ("pg_dump_roles_file", "app 1-db1.example.org-v9_6-defid7-cFULL-20170304T021000-DBCONFIG.sql"),
    ],
)  # fmt: skip
def test_1x_names_of_anything_else_are_refused(
    tmp_path: Path, column: str, name: str
) -> None:
    deleter, part, files = _legacy_world(tmp_path, custom_format=False)
    forged = part / "dump" / name
    forged.write_text("x")
    files[column] = str(forged)
    with pytest.raises(UnsafePathError, match="Refusing"):
        deleter.backup_paths(IDENT, files)
    assert forged.exists()


def test_a_dump_directory_holding_anything_else_is_refused(tmp_path: Path) -> None:
    deleter, _part, files = _world(tmp_path)
    (Path(files["pg_dump_file"]) / "subdir").mkdir()
    with pytest.raises(UnsafePathError, match="holds 'subdir'"):
        deleter.backup_paths(IDENT, files)


def test_symlinks_are_refused(tmp_path: Path) -> None:
    deleter, _part, files = _world(tmp_path)
    victim = tmp_path / "victim"
    victim.write_text("keep")
    roles = Path(files["pg_dump_roles_file"])
    roles.unlink()
    roles.symlink_to(victim)
    with pytest.raises(UnsafePathError, match="symlink"):
        deleter.backup_paths(IDENT, files)
    assert victim.read_text() == "keep"


def test_a_partition_outside_the_local_root_is_no_deletion_root(tmp_path: Path) -> None:
    _deleter, part, files = _world(tmp_path)
    for partition in (
        str(tmp_path / "elsewhere"),
        str(tmp_path / "srv"),
        str(part) + "/",
    ):
        deleter = Deleter(str(tmp_path / "srv"), {1: NodeDirs(partition, FQDN)})
        with pytest.raises(UnsafePathError):
            deleter.backup_paths(IDENT, files)
    # ... nor a dump/ directory that is a symlink leading out of it.
    outside = tmp_path / "outside"
    outside.mkdir()
    deleter = Deleter(str(tmp_path / "srv"), {1: NodeDirs(str(part), FQDN)})
    os.rename(part / "dump", tmp_path / "outside" / "dump")
    (part / "dump").symlink_to(outside / "dump")
    with pytest.raises(UnsafePathError, match="leads elsewhere"):
        deleter.backup_paths(IDENT, files)


def test_restore_logs(tmp_path: Path) -> None:
    deleter, part, _files = _world(tmp_path)
    name = naming.restore_log_name("app1", FQDN, "15", 4, "20260101T010101")
    log = part / "log" / name
    log.write_text("x")
    assert deleter.restore_log_path(str(log), 4, 1, "app1") == log
    assert naming.restore_log_pattern("app1", FQDN, 4).fullmatch(
        name[: -len(".log")] + "-2.log"
    )
    for restore_def, target in ((5, "app1"), (4, "app2"), (None, "app1")):
        with pytest.raises(UnsafePathError):
            deleter.restore_log_path(str(log), restore_def, 1, target)


def test_restore_logs_named_by_1x(tmp_path: Path) -> None:
    """1.x: <target>-<fqdn>-v<R>-restoredef<N>.log, raw names, no timestamp."""
    deleter, part, _files = _world(tmp_path)
    log = part / "log" / f"app 1-{FQDN}-v9_6-restoredef4.log"
    log.write_text("x")
    assert deleter.restore_log_path(str(log), 4, 1, "app 1") == log
    for restore_def, target in ((5, "app 1"), (4, "app 2"), (4, "app")):
        with pytest.raises(UnsafePathError):
            deleter.restore_log_path(str(log), restore_def, 1, target)


def test_a_directory_swapped_after_a_batch_is_resolved_again(tmp_path: Path) -> None:
    """Within a batch each directory is resolved once; the next batch resolves it again:
    a dump/ moved out of the partition and replaced by a symlink to it is refused."""
    deleter, part, files = _world(tmp_path)
    with deleter.batch():
        first = deleter.backup_paths(IDENT, files)
        assert deleter.backup_paths(IDENT, files) == first
    outside = tmp_path / "outside"
    outside.mkdir()
    os.rename(part / "dump", outside / "dump")
    (part / "dump").symlink_to(outside / "dump")
    with deleter.batch(), pytest.raises(UnsafePathError, match="leads elsewhere"):
        deleter.backup_paths(IDENT, files)
    # A path checked before the swap is not removed through the symlink either.
    removed, errors = deleter.remove_all(first)
    dump_files = [p for p in first if p.parent.name == "dump"]
    assert (removed, len(errors)) == (len(first) - len(dump_files), len(dump_files))
    assert sorted(p.name for p in (outside / "dump").iterdir()) == sorted(
        p.name for p in dump_files
    )


def test_a_directory_replaced_after_the_check_is_not_removed_from(
    tmp_path: Path,
) -> None:
    """remove() deletes only in the directory the check resolved: one moved away and
    replaced by another (same path, other inode) is refused."""
    deleter, part, files = _world(tmp_path)
    with deleter.batch():
        checked = deleter.backup_paths(IDENT, files)
    os.rename(part / "dump", tmp_path / "moved")
    (part / "dump").mkdir()
    for p in checked:
        if p.parent.name == "dump":
            target = part / "dump" / p.name
            target.mkdir() if p.name.endswith("-DATABASE") else target.write_text("x")
    removed, errors = deleter.remove_all(checked)
    dump_files = [p for p in checked if p.parent.name == "dump"]
    assert removed == len(checked) - len(dump_files)
    assert len(errors) == len(dump_files)
    assert all("changed since it was checked" in e for e in errors)
    assert all(p.exists() for p in dump_files)
