"""What cron mails: a failing pgbackman_dump prints exactly one line on stderr that names the
job (definition or snapshot, database, node) and the reason; a successful one prints nothing.
And when the catalog is down and the spool directory is unusable, the complete dump is kept
and that one line says the result was not recorded (no traceback)."""

from __future__ import annotations

from pathlib import Path

from support.pgcluster import free_port


def _dead_catalog_env(dump_env, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    text = dump_env.pgb.config_path.read_text()
    port = str(dump_env.pgb.catalog_cluster.port)
    dead = tmp_path / "dead.conf"
    dead.write_text(text.replace(f"port = {port}", f"port = {free_port()}"))
    return dict(dump_env.pgb.env, PGBACKMAN_CONFIG=str(dead))


def _write_cache(dump_env) -> None:  # type: ignore[no-untyped-def]
    from pgbackman.catalog import jobs
    from pgbackman.infra import cache

    cat, pgb = dump_env.pgb.cat, dump_env.pgb
    cache.write_server_cache(pgb.root, jobs.build_server_cache(cat, pgb.server_id))
    data = jobs.build_node_cache(cat, pgb.server_id, dump_env.node_id)
    assert data is not None
    cache.write_node_cache(pgb.root, dump_env.node_id, data)


def test_success_prints_nothing(dump_env) -> None:  # type: ignore[no-untyped-def]
    res = dump_env.run("--def-id", str(dump_env.define("app1")))
    assert res.returncode == 0 and res.stderr == "" and res.stdout == ""


def test_failed_dump_prints_one_line_naming_the_definition(dump_env) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define("no_such_db")
    res = dump_env.run("--def-id", str(def_id))
    assert res.returncode == 1
    [line] = res.stderr.splitlines()
    assert line.startswith(f"pgbackman_dump: backup definition {def_id} ")
    assert "'no_such_db'" in line and f"127.0.0.1:{dump_env.node.port}" in line
    [row] = dump_env.rows(def_id)
    assert row["error_message"] in line  # the reason, as recorded in the catalog


def test_failed_snapshot_names_the_snapshot(dump_env) -> None:  # type: ignore[no-untyped-def]
    snap = dump_env.snapshot("no_such_db")
    res = dump_env.run("--snapshot-id", str(snap))
    assert res.returncode == 1
    [line] = res.stderr.splitlines()
    assert line.startswith(f"pgbackman_dump: snapshot {snap} (database 'no_such_db'")
    assert "not available" in line


def test_unknown_definition_and_bad_config_are_one_line_too(
    dump_env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    res = dump_env.run("--def-id", "999999")
    assert res.returncode == 1
    assert res.stderr.splitlines() == [
        "pgbackman_dump: backup definition 999999 failed: "
        "Backup definition 999999 does not exist in the catalog"
    ]
    bad = tmp_path / "bad.conf"
    bad.write_text("[pgbackman_database]\nport = not-a-port\n")
    res = dump_env.run(
        "--def-id", "7", env=dict(dump_env.pgb.env, PGBACKMAN_CONFIG=str(bad))
    )
    assert res.returncode == 1
    [line] = res.stderr.splitlines()
    assert line.startswith("pgbackman_dump: backup definition 7 failed: ")


def test_catalog_down_and_unusable_spool_keeps_the_dump_and_says_so(
    dump_env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    def_id = dump_env.define("app1")
    _write_cache(dump_env)
    # pending_updates exists, but as a file: nothing can be spooled into it.
    (dump_env.pgb.root / "pending_updates").write_text("not a directory")
    res = dump_env.run(
        "--def-id", str(def_id), env=_dead_catalog_env(dump_env, tmp_path)
    )
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    [line] = res.stderr.splitlines()
    assert line.startswith(f"pgbackman_dump: backup definition {def_id} ")
    assert "NOT recorded" in line and "pending_updates" in line
    kept = [p for p in (dump_env.partition / "dump").iterdir()]
    dumps = [p for p in kept if p.name.endswith("-DATABASE")]
    manifests = [p for p in kept if p.name.endswith("-MANIFEST.sha256")]
    assert len(dumps) == 1 and len(manifests) == 1  # the complete backup stays
    assert str(dumps[0]) in line
    assert dump_env.rows(def_id) == []
    log = (dump_env.pgb.tmp / "pgbackman.log").read_text()
    assert "NOT recorded" in log
