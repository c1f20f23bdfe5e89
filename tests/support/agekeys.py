"""Real age keys for the encryption tests: made by Debian's ``age-keygen`` (the reference
tool, so the tests also prove PgBackMan's files are standard age files), and a restoring
server's ``[pgbackman_restore] identity_file`` written into a test's configuration file.

``age`` is a hard requirement like PostgreSQL (scripts/install-system-deps.sh installs it):
there is no skip, under ``CI=true`` or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AgeKey:
    identity_file: Path  # AGE-SECRET-KEY-1... (mode 0600), as age-keygen writes it
    recipient: str  # age1...


def age_tool(name: str = "age") -> str:
    path = shutil.which(name)
    assert path, (
        f"{name} is not installed (scripts/install-system-deps.sh installs age)"
    )
    return path


def new_key(directory: Path, name: str = "identity.txt") -> AgeKey:
    path = directory / name
    subprocess.run(
        [age_tool("age-keygen"), "-o", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    os.chmod(path, 0o600)
    public = subprocess.run(
        [age_tool("age-keygen"), "-y", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    assert public.startswith("age1"), public
    return AgeKey(path, public)


def age_decrypt(path: Path, key: AgeKey) -> bytes:
    """Decrypt one file with the age CLI (what an operator would do by hand)."""
    res = subprocess.run(
        [age_tool(), "--decrypt", "-i", str(key.identity_file), str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    return res.stdout


def set_identity_file(config_path: Path, identity_file: Path | None) -> None:
    """Name (or stop naming) an identity file in ``[pgbackman_restore]``."""
    text = config_path.read_text(encoding="utf-8")
    head, sep, _tail = text.partition("[pgbackman_restore]")
    text = head.rstrip("\n") + "\n"
    if identity_file is not None:
        text += f"\n[pgbackman_restore]\nidentity_file = {identity_file}\n"
    config_path.write_text(text, encoding="utf-8")
