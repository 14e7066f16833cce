"""Recovery (look-up) codes: format, generation and salted slow hashing.

A code is 12 characters of Crockford's Base32 (``0-9 A-Z`` without ``I L O U``), shown as
``XXXX-XXXX-XXXX``. The first 2 characters are the code's *id* (10 bits, unique within a set,
stored in clear so a submitted code is checked against one hash instead of ten); the other 10
are the secret (50 random bits). People may type them in any case, with or without dashes and
spaces, and with ``I``/``L`` for ``1`` and ``O`` for ``0``.

Codes carry less than 112 bits, so only a salted slow hash is stored (ASVS 5.0 6.5.2, NIST
800-63B 5.1.2.2): argon2id with the password hasher's parameters
(:class:`bastion.core.passwords.PasswordHasher`, OWASP's floor t=2, m=19 MiB, p=1) and a
128-bit salt. That is about 20 ms per hash, so a submitted code is checked against one hash,
found by its id.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from bastion.core.passwords import PasswordHasher

__all__ = [
    "CODE_COUNT",
    "RecoveryCode",
    "format_code",
    "generate_codes",
    "hash_secret",
    "parse_code",
    "verify_secret",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_COUNT = 10
ID_CHARS = 2
SECRET_CHARS = 10
CODE_CHARS = ID_CHARS + SECRET_CHARS
_TRANSLATE = str.maketrans({"I": "1", "L": "1", "O": "0"})
_VALID = re.compile(f"[{ALPHABET}]{{{CODE_CHARS}}}")
_HASHER = PasswordHasher()


@dataclass(frozen=True, slots=True)
class RecoveryCode:
    """A parsed code: the public ``code_id`` and the ``secret`` to hash."""

    code_id: str
    secret: str


def _random_chars(count: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(count))


def format_code(raw: str) -> str:
    """``ABCDEFGHJKMN`` -> ``ABCD-EFGH-JKMN``."""
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def generate_codes(count: int = CODE_COUNT) -> list[str]:
    """``count`` new codes with distinct ids, formatted for display."""
    if not 1 <= count <= len(ALPHABET) ** ID_CHARS // 4:
        raise ValueError("unreasonable number of recovery codes")
    ids: set[str] = set()
    codes: list[str] = []
    while len(codes) < count:
        code_id = _random_chars(ID_CHARS)
        if code_id in ids:
            continue
        ids.add(code_id)
        codes.append(format_code(code_id + _random_chars(SECRET_CHARS)))
    return codes


def parse_code(text: str) -> RecoveryCode | None:
    """Normalise what a person typed; None if it cannot be a code."""
    if len(text) > 64:
        return None
    cleaned = re.sub(r"[\s-]", "", text).upper().translate(_TRANSLATE)
    if not _VALID.fullmatch(cleaned):
        return None
    return RecoveryCode(cleaned[:ID_CHARS], cleaned[ID_CHARS:])


def hash_secret(secret: str, hasher: PasswordHasher | None = None) -> str:
    """The salted argon2id hash of a code's secret."""
    return (hasher or _HASHER).hash(secret)


def verify_secret(secret: str, encoded: str, hasher: PasswordHasher | None = None) -> bool:
    """True when ``secret`` matches ``encoded``."""
    return (hasher or _HASHER).verify(encoded, secret)
