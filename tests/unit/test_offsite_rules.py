"""The pure offsite rules: URLs, endpoints, key segments, manifests, bandwidth, validation."""

from __future__ import annotations

import datetime as dt

import pytest

from pgbackman.config import parse_config_file
from pgbackman.errors import ConfigError
from pgbackman.core import offsite as core
from pgbackman.core import validate
from pgbackman.errors import UserInputError

FINISHED = dt.datetime(2026, 3, 1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_url_parts_and_normal_form() -> None:
    u = core.parse_url("s3://my-bucket.eu/fleet/prod/")
    assert (u.bucket, u.prefix, str(u)) == (
        "my-bucket.eu",
        "fleet/prod",
        "s3://my-bucket.eu/fleet/prod",
    )
    assert core.parse_url("s3://bkt").prefix == ""
    assert u.key("a", "b") == "fleet/prod/a/b"
    assert core.parse_url("s3://bkt").key("a") == "a"


@pytest.mark.parametrize(
    "bad",
    ["http://bucket/x", "s3://", "s3://B", "s3://ab", "s3://a..b/x", "s3://bkt/../x",
     "s3://bkt/a b", "s3://bkt/a/./b", "s3://bkt/a%2F", "s3://bkt//x", "bkt/prefix"],
)  # fmt: skip
def test_bad_urls_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        core.parse_url(bad)
    with pytest.raises(UserInputError):
        validate.offsite_url(bad)


def test_endpoints_without_credentials() -> None:
    assert (
        core.check_endpoint("https://minio.example.org:9000/")
        == "https://minio.example.org:9000"
    )
    assert core.check_endpoint("") == ""
    for bad in ("https://key:secret@minio:9000", "ftp://x", "minio:9000", "http://a b"):
        with pytest.raises(ValueError):
            core.check_endpoint(bad)


def test_names_are_one_segment_of_data() -> None:
    hostile = "we'ird db; $(touch /tmp/P) %x/..\\z é"
    enc = core.encode(hostile)
    assert "/" not in enc and " " not in enc and "'" not in enc
    assert core.decode(enc) == hostile
    assert core.encode("..") == "%2E."
    assert core.encode(".hidden") == "%2Ehidden"
    assert core.encode("") == "%00"
    assert core.encode("app_1-x.y") == "app_1-x.y"


def test_backup_segments_name_server_node_database_definition_and_time() -> None:
    seg = core.backup_segments(
        server_fqdn="backup01.example.org", node_fqdn="pg1.example.org", node_port=5432,
        dbname="a/b", def_id=7, snapshot_id=None, finished=FINISHED, bck_id=42,
    )  # fmt: skip
    assert seg == [
        "backup01.example.org", "pg1.example.org%3A5432", "a%2Fb", "defid7",
        "20260301T000304Z-bck42",
    ]  # fmt: skip
    cluster = core.backup_segments(
        server_fqdn="s", node_fqdn="n", node_port=1, dbname="", def_id=None,
        snapshot_id=3, finished=FINISHED, bck_id=1,
    )  # fmt: skip
    assert cluster[2:4] == [core.CLUSTER_SEGMENT, "snapid3"]
    assert core.encode("@cluster") != core.CLUSTER_SEGMENT  # no name can produce it
    with pytest.raises(ValueError):
        core.backup_segments(
            server_fqdn="s", node_fqdn="n", node_port=1, dbname="x", def_id=1,
            snapshot_id=None, finished=FINISHED.replace(tzinfo=None), bck_id=1,
        )  # fmt: skip


def test_location_round_trip_and_unsafe_names() -> None:
    loc = core.location(core.parse_url("s3://bkt/p"), ["a", "b"])
    assert loc == "s3://bkt/p/a/b/"
    assert core.split_location(loc) == ("bkt", "p/a/b/")
    for bad in ("s3://bkt/", "s3://bkt/a/../", "s3://bkt/a", "file:///x/"):
        with pytest.raises(ValueError):
            core.split_location(bad)
    assert core.object_key("p/", "x-DATABASE/toc.dat") == "p/x-DATABASE/toc.dat"
    for bad in ("/etc/passwd", "../x", "a//b", ""):
        with pytest.raises(ValueError):
            core.object_key("p/", bad)


def test_manifest_entries() -> None:
    d = "a" * 64
    assert core.manifest_entries(f"{d}  x/y\n{d}  z\n") == [(d, "x/y"), (d, "z")]
    for bad in (f"{d} x", "zz  x", f"{d}  ../etc/passwd"):
        with pytest.raises(ValueError):
            core.manifest_entries(bad)


def test_bandwidth_and_retention() -> None:
    assert core.parse_bandwidth("0") == 0
    assert core.parse_bandwidth("500K") == 500 * 1024
    assert core.parse_bandwidth("20M") == 20 * 1024**2
    assert core.parse_bandwidth("1GiB/s") == 1024**3
    with pytest.raises(ValueError):
        core.parse_bandwidth("fast")
    assert validate.offsite_retention_period("90 days") == "90 days"
    for bad in ("0 days", "101 years", "soon"):
        with pytest.raises(UserInputError):
            validate.offsite_retention_period(bad)


def test_local_offsite_section(tmp_path: object) -> None:
    from pathlib import Path

    p = Path(str(tmp_path)) / "c.conf"
    p.write_text("[pgbackman_offsite]\nmax_bandwidth = 20M\nchunk_size_mb = 16\n")
    cfg = parse_config_file(p)
    assert cfg.offsite.bandwidth == 20 * 1024**2 and cfg.offsite.chunk_size_mb == 16
    for bad in (
        "max_bandwidth = lots",
        "chunk_size_mb = 1",
        "max_concurrency = 0",
        "staging_dir = rel",
    ):
        p.write_text(f"[pgbackman_offsite]\n{bad}\n")
        with pytest.raises(ConfigError):
            parse_config_file(p)


def test_this_server_decides_where_its_backups_may_go() -> None:
    urls = core.allowed_urls("s3://bkt/fleet s3://other")
    endpoints = core.allowed_endpoints("aws https://minio.example.org:9000/")
    assert endpoints == ["", "https://minio.example.org:9000"]
    ok = core.parse_url("s3://bkt/fleet/eu")
    assert core.refusal(ok, "", urls, endpoints) is None
    assert (
        core.refusal(core.parse_url("s3://other/any/thing"), "", urls, endpoints)
        is None
    )
    assert "allowed_urls" in str(
        core.refusal(core.parse_url("s3://bkt/fleetx"), "", urls, endpoints)
    )
    assert "allowed_urls" in str(
        core.refusal(core.parse_url("s3://bkt"), "", urls, endpoints)
    )
    assert "allowed_endpoints" in str(
        core.refusal(ok, "https://evil.example.org", urls, endpoints)
    )
    assert (
        core.refusal(ok, "", [], []) is not None
    )  # nothing configured: nothing allowed
    assert core.within(ok, "bkt", "fleet/eu/x/y") and not core.within(
        ok, "bkt", "fleet/eux"
    )
