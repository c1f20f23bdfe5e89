"""Offsite copies against a real S3 API server (moto in server mode): upload with checksums,
restore from offsite after the local files are gone, an upload killed with the server, and
offsite retention."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from psycopg2 import sql

from offsite_helpers import PREFIX, VENV_BIN, OffsiteEnv, run
from pgbackman.core import offsite as core
from support.agekeys import new_key, set_identity_file
from support.damage import flip_a_byte
from support.pgcluster import PgCluster

# Quotes, a shell command, '%', '/', '..', a backslash, a space and non-ASCII: names are data.
HOSTILE = "we'ird db; $(touch /tmp/P) %x/..\\z é"


def _local_files_gone(row: dict[str, object]) -> None:
    for col in (
        "pg_dump_file",
        "pg_dump_roles_file",
        "pg_dump_dbconfig_file",
        "pg_dump_manifest_file",
    ):
        p = Path(str(row[col]))
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()


def _restore(
    off: OffsiteEnv, node_id: int, bck_id: int, dbname: str
) -> tuple[int, Any]:
    """Register a restore of ``bck_id`` as ``dbname`` on node ``node_id`` and run it as its
    at job would: (restore definition, finished process)."""
    restore_def = int(
        off.pgb.su_query(
            "SELECT register_restore_definition(now(), %s, %s, %s, %s, NULL, '', '{}')",
            (off.pgb.server_id, node_id, bck_id, dbname),
        )[0][0]
    )
    res = run(
        [str(VENV_BIN / "pgbackman_restore"), "--restore-def", str(restore_def)],
        off.pgb.env,
    )
    return restore_def, res


def test_upload_checksums_then_restore_from_offsite(
    off: OffsiteEnv, node2: PgCluster
) -> None:
    off.create_database(HOSTILE, rows=500)
    before = off.fingerprint(off.node, HOSTILE)
    def_id = off.define(HOSTILE)
    row = off.dump(def_id)
    # The dump job never waits for the upload: the row waits for maintenance.
    assert row["execution_status"] == "SUCCEEDED"
    assert row["offsite_status"] == "PENDING"

    res = off.maintenance()
    assert res.returncode == 0, res.stderr
    row = off.row(row["bck_id"])
    assert row is not None and row["offsite_status"] == "UPLOADED", row
    assert row["offsite_error"] is None and row["offsite_updated"] is not None
    assert row["offsite_endpoint"] == off.s3.url

    # The key names server, node, database (encoded as data), definition and time.
    location = str(row["offsite_location"])
    key_prefix = location.removeprefix(f"s3://{off.bucket}/")
    parts = key_prefix.rstrip("/").split("/")
    assert "/".join(parts[:2]) == PREFIX
    assert core.decode(parts[2]) == "backup01.pgbackman.test"
    assert core.decode(parts[3]) == f"127.0.0.1:{off.node.port}"
    assert core.decode(parts[4]) == HOSTILE  # one segment, never "." or ".."
    assert parts[4] == core.encode(HOSTILE) and "/" not in parts[4]
    assert parts[5] == f"defid{def_id}"
    assert parts[6].endswith(f"Z-bck{row['bck_id']}")

    # Every object is there and its SHA-256 is the manifest's; the manifest is the catalog's.
    stored = off.object_digests(location)
    manifest_name = Path(row["pg_dump_manifest_file"]).name
    entries = dict((rel, digest) for digest, rel in off.manifest_entries(row))
    assert set(stored) == set(entries) | {manifest_name}
    for rel, digest in entries.items():
        assert stored[rel] == digest, rel
    assert stored[manifest_name] == row["checksum"]

    # The local files go; the restore fetches the copy, verifies it and restores it.
    _local_files_gone(row)
    node2_id = off.pgb.register_node(node2)
    try:
        _, res = _restore(off, node2_id, row["bck_id"], HOSTILE)
        assert res.returncode == 0, res.stderr
        assert off.fingerprint(node2, HOSTILE) == before
        staging = off.pgb.root / "offsite_staging"
        assert staging.is_dir() and list(staging.iterdir()) == []  # staged copy removed
        assert oct(staging.stat().st_mode & 0o777) == "0o700"
    finally:
        conn = node2.connect("postgres")
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(HOSTILE)
                )
            )
        conn.close()
    assert not os.path.exists("/tmp/P")

    # --verify --offsite reads every object back; a changed object is a MISMATCH.
    res = off.maintenance("--verify", "--offsite")
    assert res.returncode == 0 and f"bck_id {row['bck_id']} OFFSITE OK" in res.stdout, (
        res.stdout
    )
    data_key = next(
        k for k in off.s3.keys(off.bucket, key_prefix) if k.endswith(".dat.gz")
    )
    off.s3.client().put_object(Bucket=off.bucket, Key=data_key, Body=b"rotten")
    res = off.maintenance("--verify", "--offsite", "--bck-id", str(row["bck_id"]))
    assert res.returncode == 1
    assert f"bck_id {row['bck_id']} OFFSITE MISMATCH " in res.stdout, res.stdout


def test_upload_killed_with_the_server_is_error_then_uploaded(off: OffsiteEnv) -> None:
    # A slow link (bandwidth limit) so that the server can be killed mid-upload.
    off.configure(local="max_bandwidth = 256K")
    off.create_database("offsite_big", rows=60000)
    row = off.dump(off.define("offsite_big"))
    assert row["offsite_status"] == "PENDING"
    log_file = off.pgb.tmp / "pgbackman.log"
    proc = __import__("subprocess").Popen(
        [str(VENV_BIN / "pgbackman_maintenance"), "--once"],
        env=off.pgb.env,
        stdout=-1,
        stderr=-1,
        text=True,
    )
    deadline = time.monotonic() + 60
    while f"uploading backup {row['bck_id']}" not in log_file.read_text(
        errors="replace"
    ):
        assert time.monotonic() < deadline, "the upload did not start"
        time.sleep(0.2)
    time.sleep(1)
    off.s3.kill()
    _out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err  # the pass reports the failed upload
    failed = off.row(row["bck_id"])
    assert failed is not None
    assert failed["execution_status"] == "SUCCEEDED"  # the backup itself stays good
    assert failed["offsite_status"] == "ERROR"
    assert failed["offsite_error"]
    alerts = off.pgb.cat.query(
        "SELECT alert_type, bck_id, error_message FROM alerts WHERE alert_type = 'Offsite'"
    )
    assert [(a["alert_type"], a["bck_id"]) for a in alerts] == [
        ("Offsite", row["bck_id"])
    ]
    # ... and a check exit code and a metric.
    check = run([str(VENV_BIN / "pgbackman_check")], off.pgb.env)
    assert check.returncode == 1, check.stdout
    assert "1 offsite copy(ies) failed" in check.stdout, check.stdout
    metrics = run([str(VENV_BIN / "pgbackman_metrics")], off.pgb.env)
    assert (
        'pgbackman_offsite_copies{server="backup01.pgbackman.test",status="ERROR"} 1.0'
        in metrics.stdout
    ), metrics.stdout

    off.s3.start()
    off.s3.create_bucket(off.bucket)  # moto keeps nothing across a restart
    res = off.maintenance()
    assert res.returncode == 0, res.stderr
    done = off.row(row["bck_id"])
    assert done is not None and done["offsite_status"] == "UPLOADED", done
    assert done["offsite_error"] is None
    stored = off.object_digests(str(done["offsite_location"]))
    for digest, rel in off.manifest_entries(done):
        assert stored[rel] == digest
    episodes = off.pgb.cat.query(
        "SELECT 1 FROM alert_episode WHERE episode_key = %s",
        (f"offsite:bck:{row['bck_id']}",),
    )
    assert episodes == []  # the episode is over: a new failure alerts again


def test_offsite_retention_deletes_exactly_the_expired_objects(off: OffsiteEnv) -> None:
    off.create_database("offsite_ret")
    def_id = off.define("offsite_ret")
    old, middle, new = (off.dump(def_id) for _ in range(3))
    # Ages before the upload (the keys carry the finish time): local retention is 7 days,
    # offsite retention 90 days.
    for r, days in ((old, 100), (middle, 50), (new, 1)):
        off.pgb.su(
            f"UPDATE backup_catalog SET finished = now() - interval '{days} days',"
            f" started = now() - interval '{days} days' WHERE bck_id = {r['bck_id']}"
        )
    foreign = f"{PREFIX}/backup01.pgbackman.test/not-ours.txt"
    off.s3.client().put_object(Bucket=off.bucket, Key=foreign, Body=b"someone else's")

    res = off.maintenance()
    assert res.returncode == 0, res.stderr
    rows = {r: off.row(r) for r in (old["bck_id"], middle["bck_id"], new["bck_id"])}
    # 100 days: past both retentions -> objects deleted, row deleted (no copy left).
    assert rows[old["bck_id"]] is None
    # 50 days: local files removed, the row and its offsite copy kept.
    kept = rows[middle["bck_id"]]
    assert kept is not None and kept["offsite_status"] == "UPLOADED"
    assert kept["local_deleted_at"] is not None
    assert not Path(kept["pg_dump_manifest_file"]).exists()
    # 1 day: everything kept.
    newest = rows[new["bck_id"]]
    assert newest is not None and newest["local_deleted_at"] is None
    assert Path(newest["pg_dump_manifest_file"]).exists()

    remaining = set(off.s3.keys(off.bucket))
    expected = {foreign}
    for r in (kept, newest):
        prefix = str(r["offsite_location"]).removeprefix(f"s3://{off.bucket}/")
        expected |= {
            prefix + rel for rel in off.object_digests(str(r["offsite_location"]))
        }
    assert remaining == expected
    assert not any(f"-bck{old['bck_id']}/" in k for k in remaining)

    # The newest intact copy is never deleted, however old.
    off.pgb.su(
        "UPDATE backup_server_config SET value = '1 day'"
        f" WHERE server_id = {off.pgb.server_id} AND parameter = 'offsite_retention_period'"
    )
    res = off.maintenance()
    assert res.returncode == 0, res.stderr
    assert off.row(middle["bck_id"]) is None
    survivor = off.row(new["bck_id"])
    assert survivor is not None and survivor["offsite_status"] == "UPLOADED"
    assert set(off.s3.keys(off.bucket)) - {foreign} == {
        str(survivor["offsite_location"]).removeprefix(f"s3://{off.bucket}/") + rel
        for rel in off.object_digests(str(survivor["offsite_location"]))
    }


def test_copies_of_a_force_deleted_definition_are_deleted(off: OffsiteEnv) -> None:
    off.create_database("offsite_forced")
    def_id = off.define("offsite_forced")
    row = off.dump(def_id)
    assert off.maintenance().returncode == 0
    location = str(off.row(row["bck_id"])["offsite_location"])  # type: ignore[index]
    prefix = location.removeprefix(f"s3://{off.bucket}/")
    assert off.s3.keys(off.bucket, prefix)
    off.pgb.su(f"SELECT delete_force_backup_definition_id({def_id})")
    queued = off.pgb.su_query(
        "SELECT bck_id, offsite_location FROM offsite_copies_to_delete"
    )
    assert queued == [(row["bck_id"], location)]

    res = off.maintenance()
    assert res.returncode == 0, res.stderr
    assert off.s3.keys(off.bucket, prefix) == []
    assert off.pgb.su_query("SELECT count(*) FROM offsite_copies_to_delete") == [(0,)]


def test_a_target_this_server_does_not_allow_gets_nothing(off: OffsiteEnv) -> None:
    # The catalog names another bucket, or another endpoint: this server's own
    # configuration decides where its backups may go.
    off.create_database("offsite_refused")
    row = off.dump(off.define("offsite_refused"))
    off.s3.create_bucket("somebody-else")
    log_file = off.pgb.tmp / "pgbackman.log"
    allowed_url = f"s3://{off.bucket}/{PREFIX}"
    for url, endpoint, reason in (
        (
            "s3://somebody-else/x",
            off.s3.url,
            "is not under [pgbackman_offsite] allowed_urls",
        ),
        (
            allowed_url,
            "http://127.0.0.2:9",
            "is not in [pgbackman_offsite] allowed_endpoints",
        ),
    ):
        for parameter, value in (
            ("offsite_url", url),
            ("offsite_endpoint_url", endpoint),
        ):
            off.pgb.su(
                f"UPDATE backup_server_config SET value = '{value}'"
                f" WHERE server_id = {off.pgb.server_id} AND parameter = '{parameter}'"
            )
        res = off.maintenance()
        assert res.returncode == 1
        assert reason in log_file.read_text(errors="replace")
        pending = off.row(row["bck_id"])
        assert (
            pending is not None and pending["offsite_status"] == "PENDING"
        )  # not its fault
    refused = off.pgb.cat.query(
        "SELECT error_message FROM alerts WHERE alert_type = 'Config-refused'"
    )
    assert len(refused) == 1, refused  # one alert for the episode
    assert off.s3.keys("somebody-else") == [] and off.s3.keys(off.bucket) == []


def test_an_encrypted_backup_goes_offsite_as_it_is_on_disk_and_restores(
    off: OffsiteEnv, node2: PgCluster, tmp_path: Path
) -> None:
    key = new_key(tmp_path)
    off.pgb.su_query(
        "SELECT update_backup_server_config(%s, 'encryption_recipients', %s)",
        (off.pgb.server_id, key.recipient),
    )
    off.create_database("offsite_sealed", rows=200)
    before = off.fingerprint(off.node, "offsite_sealed")
    row = off.dump(off.define("offsite_sealed", encryption=True))
    assert row["encrypted"] is True
    assert off.maintenance().returncode == 0
    row = off.row(row["bck_id"])  # type: ignore[assignment]
    assert row["offsite_status"] == "UPLOADED"
    # Every object is byte for byte the file on disk: age files, never plaintext.
    prefix = str(row["offsite_location"]).removeprefix(f"s3://{off.bucket}/")
    dump_dir = Path(row["pg_dump_manifest_file"]).parent
    for _digest, rel in off.manifest_entries(row):
        stored = off.s3.get(off.bucket, prefix + rel)
        assert stored == (dump_dir / rel).read_bytes()
        assert stored.startswith(b"age-encryption.org/v1")
    _local_files_gone(row)
    set_identity_file(off.pgb.config_path, key.identity_file)
    node2_id = off.pgb.register_node(node2)
    try:
        _, res = _restore(off, node2_id, row["bck_id"], "offsite_sealed")
        assert res.returncode == 0, res.stderr
        assert off.fingerprint(node2, "offsite_sealed") == before
    finally:
        node2.psql('DROP DATABASE IF EXISTS "offsite_sealed" WITH (FORCE)')


def test_damaged_local_files_are_restored_from_the_offsite_copy(
    off: OffsiteEnv, node2: PgCluster
) -> None:
    """Local files that fail their checksum are not restored (nor is the restore refused)
    when a verified offsite copy exists: the copy is fetched and restored instead."""
    off.create_database("offsite_rotten", rows=300)
    before = off.fingerprint(off.node, "offsite_rotten")
    row = off.dump(off.define("offsite_rotten"))
    assert off.maintenance().returncode == 0
    row = off.row(row["bck_id"])  # type: ignore[assignment]
    assert row["offsite_status"] == "UPLOADED"
    victim = flip_a_byte(Path(row["pg_dump_file"]))
    damaged = victim.read_bytes()
    node2_id = off.pgb.register_node(node2)
    try:
        restore_def, res = _restore(off, node2_id, row["bck_id"], "offsite_rotten")
        assert res.returncode == 0, res.stderr
        assert off.fingerprint(node2, "offsite_rotten") == before
        (log_file,) = off.pgb.su_query(
            "SELECT restore_log_file FROM restore_catalog WHERE restore_def = %s",
            (restore_def,),
        )[0]
        text = Path(log_file).read_text(encoding="utf-8")
        assert (
            f"The local files of backup {row['bck_id']} are CORRUPT" in text
            and "restoring from its offsite copy" in text
        ), text
        assert victim.read_bytes() == damaged  # the local files are left as found
        assert list((off.pgb.root / "offsite_staging").iterdir()) == []
    finally:
        node2.psql('DROP DATABASE IF EXISTS "offsite_rotten" WITH (FORCE)')
