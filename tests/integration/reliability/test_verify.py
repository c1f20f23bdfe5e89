"""Case 5 — bit rot after success: ``pgbackman_maintenance --verify [--bck-id N]`` re-checks
the SHA-256 manifests and the catalog checksum and names exactly the damaged backup and file.
(The restore side, refusing a mismatching backup, is tests/integration/restore.)"""

from __future__ import annotations

from pathlib import Path

from rel_helpers import RelEnv


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _lines(res) -> list[str]:  # type: ignore[no-untyped-def]
    return [ln for ln in res.stdout.splitlines() if ln.startswith("bck_id ")]


def test_verify_reports_the_damaged_backup_only(rel: RelEnv) -> None:
    d1, d2 = rel.define("app1"), rel.define("app2")
    assert rel.dump(d1).returncode == 0 and rel.dump(d2).returncode == 0
    [a], [b] = rel.rows(d1), rel.rows(d2)
    res = rel.run("pgbackman_maintenance", "--verify")
    assert res.returncode == 0, res.stdout + res.stderr
    assert _lines(res) == [f"bck_id {a['bck_id']} OK", f"bck_id {b['bck_id']} OK"]

    dump_dir = Path(a["pg_dump_file"])
    victim = min(p for p in dump_dir.iterdir() if p.name != "toc.dat")
    _flip_byte(victim)
    rel_name = f"{dump_dir.name}/{victim.name}"
    res = rel.run("pgbackman_maintenance", "--verify")
    assert res.returncode == 1
    assert _lines(res) == [
        f"bck_id {a['bck_id']} MISMATCH {rel_name}",
        f"bck_id {b['bck_id']} OK",
    ]
    assert "Traceback" not in res.stderr

    one = rel.run("pgbackman_maintenance", "--verify", "--bck-id", str(b["bck_id"]))
    assert one.returncode == 0 and _lines(one) == [f"bck_id {b['bck_id']} OK"]
    one = rel.run("pgbackman_maintenance", "--verify", "--bck-id", str(a["bck_id"]))
    assert one.returncode == 1 and _lines(one) == [
        f"bck_id {a['bck_id']} MISMATCH {rel_name}"
    ]

    # A missing file, and a manifest edited to hide the rot (caught by the catalog checksum).
    Path(b["pg_dump_roles_file"]).unlink()
    manifest = Path(a["pg_dump_manifest_file"])
    manifest.write_text(manifest.read_text().replace(victim.name, victim.name + "x"))
    res = rel.run("pgbackman_maintenance", "--verify")
    assert res.returncode == 1
    got = dict(ln.split(" ", 2)[1:] for ln in _lines(res))
    assert got[str(a["bck_id"])].startswith(f"MISMATCH {manifest.name}")
    assert got[str(b["bck_id"])] == f"MISSING {Path(b['pg_dump_roles_file']).name}"
    # Verification changes nothing in the catalog.
    assert [r["execution_status"] for r in rel.rows(d1) + rel.rows(d2)] == [
        "SUCCEEDED",
        "SUCCEEDED",
    ]


def test_verify_usage_errors(rel: RelEnv) -> None:
    res = rel.run("pgbackman_maintenance", "--verify", "--bck-id", "999999")
    assert res.returncode == 1
    assert (
        "999999 is not a SUCCEEDED backup" in res.stderr
        and "Traceback" not in res.stderr
    )
    res = rel.run("pgbackman_maintenance", "--bck-id", "3")
    assert res.returncode == 2 and "--bck-id needs --verify" in res.stderr
