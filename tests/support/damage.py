"""Damage done to backups on disk, the way bit rot or a careless hand does it: the tests that
check what pgbackman notices (restore, drills, maintenance --verify, offsite fallback)."""

from __future__ import annotations

from pathlib import Path


def flip_a_byte(dump_dir: Path) -> Path:
    """Flip one byte in the middle of the largest compressed data file of a directory dump
    (same size, other content: only a checksum or the decoding can tell); returns it."""
    victim = max(
        (p for p in dump_dir.iterdir() if p.name.endswith(".dat.gz")),
        key=lambda p: p.stat().st_size,
    )
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    return victim
