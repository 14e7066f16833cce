"""Password hashing: argon2id for new hashes; argon2 and bcrypt hashes from other systems verify.

Pure and synchronous: hashing is CPU work, not I/O. Callers decide where it runs (the
email-password recipe runs it in a worker thread under an event loop, capped per process).

Rules (NIST SP 800-63B 5.1.1.2, ASVS 5.0 6.2.8): passwords are NFKC-normalised before hashing
and verifying, never truncated, and longer than ``max_length`` code points they are refused
before any hashing. bcrypt only reads 72 bytes, so a longer password never matches a bcrypt
hash (no silent truncation); such a user resets the password once.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from typing import Literal

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from bastion.errors import ConfigError, MissingExtra

__all__ = [
    "BCRYPT_MAX_BYTES",
    "PasswordHasher",
    "PasswordHashing",
    "hash_scheme",
    "normalise_password",
]

BCRYPT_MAX_BYTES = 72
Scheme = Literal["argon2", "bcrypt"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordHashing:
    """Parameters for new hashes. The defaults are OWASP's argon2id floor (t=2, m=19 MiB, p=1).

    Stored hashes made with other parameters still verify and are rehashed at the next
    successful sign-in.
    """

    time_cost: int = 2
    """argon2 iterations."""
    memory_cost_kib: int = 19 * 1024
    """argon2 memory in KiB."""
    parallelism: int = 1
    """argon2 lanes."""
    hash_len: int = 32
    salt_len: int = 16
    max_length: int = 128
    """Longest accepted password, in code points after normalisation (ASVS 4.0.3 2.1.2)."""

    def __post_init__(self) -> None:
        if self.time_cost < 1 or self.parallelism < 1:
            raise ConfigError("time_cost and parallelism must be at least 1")
        if self.memory_cost_kib < 8 * self.parallelism:
            raise ConfigError("memory_cost_kib must be at least 8 KiB per lane")
        if self.hash_len < 16 or self.salt_len < 16:
            raise ConfigError("hash_len and salt_len must be at least 16 bytes")
        if not 64 <= self.max_length <= 4096:
            raise ConfigError("max_length must be between 64 and 4096 (allow at least 64)")


def normalise_password(password: str) -> str:
    """NFKC, so that the same password typed on different keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


def hash_scheme(stored: str) -> Scheme | None:
    """The scheme of a stored hash (``argon2`` or ``bcrypt``), or None if not supported."""
    if stored.startswith(("$argon2id$", "$argon2i$", "$argon2d$")):
        return "argon2"
    if stored.startswith(("$2a$", "$2b$", "$2y$")) and len(stored) == 60:
        return "bcrypt"
    return None


class PasswordHasher:
    """Hashes and verifies passwords; knows when a stored hash should be upgraded."""

    def __init__(self, params: PasswordHashing | None = None) -> None:
        self.params = params or PasswordHashing()
        self._argon2 = argon2.PasswordHasher(
            time_cost=self.params.time_cost,
            memory_cost=self.params.memory_cost_kib,
            parallelism=self.params.parallelism,
            hash_len=self.params.hash_len,
            salt_len=self.params.salt_len,
            type=argon2.Type.ID,
        )

    def is_too_long(self, password: str) -> bool:
        """True when ``password`` exceeds ``max_length`` (checked before any hashing)."""
        if len(password) > 4 * self.params.max_length:
            return True  # not worth normalising
        return len(normalise_password(password)) > self.params.max_length

    def hash(self, password: str) -> str:
        """An argon2id hash of the normalised password.

        Raises:
            ValueError: the password is longer than ``max_length``.
        """
        if self.is_too_long(password):
            raise ValueError("password is too long")
        return self._argon2.hash(normalise_password(password))

    def verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches ``stored``; False for malformed or unknown hashes.

        Raises:
            MissingExtra: ``stored`` is a bcrypt hash and the ``bcrypt`` package is missing.
        """
        if self.is_too_long(password):
            return False
        candidate = normalise_password(password)
        scheme = hash_scheme(stored)
        if scheme == "argon2":
            try:
                return self._argon2.verify(stored, candidate)
            except (VerificationError, InvalidHashError):
                return False
        if scheme == "bcrypt":
            return _bcrypt_verify(stored, candidate)
        return False

    def needs_rehash(self, stored: str) -> bool:
        """True when ``stored`` is not argon2id with the current parameters."""
        if hash_scheme(stored) != "argon2":
            return True
        try:
            return self._argon2.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return True

    def dummy_hash(self) -> str:
        """A hash of a random password with the current parameters.

        Verifying against it costs what a real verification costs, so an unknown email takes
        as long to reject as a wrong password.
        """
        return self.hash(secrets.token_urlsafe(24))


def _bcrypt_verify(stored: str, candidate: str) -> bool:
    try:
        import bcrypt
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtra("bcrypt", "bcrypt") from exc
    raw = candidate.encode("utf-8")
    if len(raw) > BCRYPT_MAX_BYTES:
        return False  # bcrypt would compare a truncated prefix: refuse instead
    try:
        return bool(bcrypt.checkpw(raw, stored.encode("ascii")))
    except ValueError:
        return False
