"""age encryption of backup files (archive/crypt.py) and the recipients value
(core/recipients.py), without PostgreSQL: the ephemeral read-back identity, identity files,
tampering and truncation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyrage import x25519

from pgbackman.archive import compress, crypt
from pgbackman.core import compression, recipients
from pgbackman.errors import CryptError


def _key() -> tuple[str, x25519.Identity]:
    ident = x25519.Identity.generate()
    return str(ident.to_public()), ident


def test_recipients_are_age_public_keys() -> None:
    a, _ = _key()
    b, _ = _key()
    assert recipients.parse(f" {a.upper()},{b}  {a} ") == [a, b]
    assert recipients.normalise("") == "" and recipients.parse(None) == []
    with pytest.raises(recipients.RecipientsError, match="not an age public key"):
        recipients.parse("ssh-ed25519 AAAA")
    with pytest.raises(recipients.RecipientsError, match="not a valid age public key"):
        recipients.parse(a[:-1] + ("q" if a[-1] != "q" else "p"))  # Bech32 checksum
    _, ident = _key()
    with pytest.raises(recipients.RecipientsError, match="must never be stored"):
        recipients.parse(str(ident))


def test_sealed_files_decrypt_for_every_recipient_and_are_checked(
    tmp_path: Path,
) -> None:
    (a, ida), (b, idb) = _key(), _key()
    sealer = crypt.Sealer([a, b])
    d = tmp_path / "dump"
    d.mkdir()
    (d / "toc.dat").write_bytes(b"PGDMP" + os.urandom(1000))
    (d / "3001.dat.gz").write_bytes(os.urandom(300_000))
    sealed = sealer.seal_tree(d)
    assert sorted(p.name for p in d.iterdir()) == ["3001.dat.gz.age", "toc.dat.age"]
    assert sealed and all(
        p.read_bytes().startswith(b"age-encryption.org/v1") for p in sealed
    )
    roles = sealer.seal_bytes(b"CREATE ROLE x;", tmp_path / "USERS.sql.age")
    for p in [*sealed, roles]:
        sealer.check(p)  # the read-back check with the run's ephemeral identity
    for ident in (ida, idb):
        out = tmp_path / "plain"
        crypt.decrypt_file(roles, out, [ident])
        assert out.read_bytes() == b"CREATE ROLE x;"
        out.unlink()
    # Once the run forgets its identity, nothing here decrypts the files any more.
    sealer.forget()
    with pytest.raises(CryptError):
        sealer.check(roles)


def test_a_changed_file_fails_the_read_back_check_and_decryption(
    tmp_path: Path,
) -> None:
    a, ident = _key()
    sealer = crypt.Sealer([a])
    p = tmp_path / "data"
    p.write_bytes(os.urandom(200_000))
    enc = sealer.seal_file(p)
    raw = bytearray(enc.read_bytes())
    raw[150_000] ^= 1
    enc.write_bytes(bytes(raw))
    with pytest.raises(CryptError, match="back failed"):
        sealer.check(enc)
    with pytest.raises(CryptError, match="authentication"):
        crypt.decrypt_file(enc, tmp_path / "out", [ident])
    assert not (tmp_path / "out").exists()
    enc.write_bytes(bytes(raw[:100_000]))  # truncated
    with pytest.raises(CryptError, match="authentication"):
        crypt.decrypt_file(enc, tmp_path / "out", [ident])


def test_identity_files(tmp_path: Path) -> None:
    a, ident = _key()
    f = tmp_path / "key.txt"
    f.write_text(f"# created: today\n# public key: {a}\n{ident}\n")
    f.chmod(0o600)
    (loaded,) = crypt.load_identities(str(f))
    enc = crypt.Sealer([a]).seal_bytes(b"x" * 10, tmp_path / "x.age")
    crypt.probe(enc, [loaded])
    other, other_ident = _key()
    with pytest.raises(CryptError, match="not one of the recipients"):
        crypt.probe(enc, [other_ident])
    f.chmod(0o640)
    with pytest.raises(CryptError, match="group or others"):
        crypt.load_identities(str(f))
    f.chmod(0o600)
    f.write_text("# nothing\n")
    with pytest.raises(CryptError, match="holds no age identity"):
        crypt.load_identities(str(f))
    f.write_text("AGE-SECRET-KEY-1NOPE\n")
    with pytest.raises(CryptError, match="line 1"):
        crypt.load_identities(str(f))
    with pytest.raises(CryptError, match="cannot be read"):
        crypt.load_identities(str(tmp_path / "missing"))


def test_streams_compress_encrypt_and_read_back(tmp_path: Path) -> None:
    a, ident = _key()
    sealer = crypt.Sealer([a])
    data = b"".join(b"line %d\n" % i for i in range(200_000)) + compress.CLUSTER_TRAILER
    z = compress.compressor(compression.parse("zstd:3"))
    w = sealer.writer(tmp_path / "c.sql.zst.age")
    for i in range(0, len(data), 1 << 20):
        w.write(z.compress(data[i : i + (1 << 20)]))
    w.write(z.flush())
    sealer.finish(w)
    r = crypt.DecryptingReader(tmp_path / "c.sql.zst.age", [ident])
    method, stream = compress.open_reader(r)
    assert method == "zstd" and stream.read(-1) == data
    r.close()
    reader = sealer.reader(tmp_path / "c.sql.zst.age")
    assert compress.open_reader(reader)[1].read(-1) == data
    reader.close()
    # Stopping early (psql failed) ends the worker without an error.
    r = crypt.DecryptingReader(tmp_path / "c.sql.zst.age", [ident])
    r.read(10)
    r.close()


def test_aborted_writer_leaves_no_file(tmp_path: Path) -> None:
    a, _ = _key()
    w = crypt.Sealer([a]).writer(tmp_path / "x.age")
    w.write(b"partial")
    w.abort()
    assert not (tmp_path / "x.age").exists()
    with pytest.raises(CryptError):
        crypt.Sealer([])
