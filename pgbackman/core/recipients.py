"""The backup server configuration ``encryption_recipients``: one or more age X25519 public
keys (``age1...``), separated by spaces or commas (pure rules, no I/O).

A backup server holds only these public keys: it can encrypt a backup to them, never decrypt
one. Each key is checked by the age implementation itself (Bech32 checksum included), so a
mistyped key is refused when it is set, not when the first encrypted backup runs. The
catalog checks the shape again (``validate_encryption_recipients`` in SQL).
"""

from __future__ import annotations

import re

from pyrage import RecipientError, x25519

_KEY_RE = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")
_SPLIT_RE = re.compile(r"[\s,]+")


class RecipientsError(ValueError):
    """A recipients value that is not a list of age public keys (one-line message)."""


def parse(text: str | None) -> list[str]:
    """The keys of ``text`` in order, duplicates removed ([] for an empty value)."""
    keys: list[str] = []
    for word in _SPLIT_RE.split((text or "").strip()):
        if not word:
            continue
        key = word.lower()
        if key.startswith("age-secret-key-"):
            raise RecipientsError(
                "encryption_recipients takes age PUBLIC keys (age1...): an identity "
                "(AGE-SECRET-KEY-...) must never be stored on a backup server"
            )
        if not _KEY_RE.match(key):
            raise RecipientsError(
                f"encryption recipient {word[:80]!r} is not an age public key (age1... "
                "as printed by age-keygen -y)"
            )
        try:
            x25519.Recipient.from_str(key)
        except RecipientError as exc:
            raise RecipientsError(
                f"encryption recipient {word[:80]!r} is not a valid age public key: {exc}"
            ) from None
        if key not in keys:
            keys.append(key)
    return keys


def render(keys: list[str]) -> str:
    """The stored form: the keys separated by one space."""
    return " ".join(keys)


def normalise(text: str) -> str:
    return render(parse(text))
