"""RSA signing keys for access tokens: creation, JWK form and the rotation schedule.

Dynamic keys are named ``d-<creation ms>`` and rotate on a fixed interval; the static key is
``s-<uuid>`` and never rotates. A successor is published ``PUBLISH_AHEAD_MS`` before it starts
signing so that every verifier can already see it in the JWKS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bastion.core.encoding import b64url_encode

__all__ = [
    "CLOCK_SKEW_MS",
    "PUBLISH_AHEAD_MS",
    "KeyPlan",
    "SigningKey",
    "generate_signing_key",
    "plan_rotation",
]

PUBLISH_AHEAD_MS = 60_000
CLOCK_SKEW_MS = 5_000
"""How far ahead of this process's clock a key may start and still sign when no other does."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One RSA key pair with the window in which it signs and the time until it verifies."""

    kid: str
    private_pem: bytes = field(repr=False)
    sign_from_ms: int
    sign_until_ms: int
    verify_until_ms: int

    @property
    def is_dynamic(self) -> bool:
        return self.kid.startswith("d-")

    def signs_at(self, now_ms: int) -> bool:
        return self.sign_from_ms <= now_ms < self.sign_until_ms

    def verifies_at(self, now_ms: int) -> bool:
        return now_ms < self.verify_until_ms

    def jwk(self) -> dict[str, Any]:
        """The public half as a JWKS entry."""
        return _KeyMaterial.of(self).jwk


class _KeyMaterial:
    """Parsed key objects, cached per key id (parsing a PEM costs ~1 ms)."""

    _cache: dict[str, _KeyMaterial] = {}  # noqa: RUF012 - process-wide cache by design

    def __init__(self, key: SigningKey) -> None:
        loaded = serialization.load_pem_private_key(key.private_pem, password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError("signing keys must be RSA")
        self.private_key = loaded
        self.public_key = loaded.public_key()
        self.kid = key.kid

    @classmethod
    def of(cls, key: SigningKey) -> _KeyMaterial:
        found = cls._cache.get(key.kid)
        if found is None:
            found = cls._cache[key.kid] = cls(key)
        return found

    @cached_property
    def jwk(self) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "n": b64url_encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url_encode(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            "alg": "RS256",
            "use": "sig",
        }


def private_key_of(key: SigningKey) -> rsa.RSAPrivateKey:
    return _KeyMaterial.of(key).private_key


def public_key_of(key: SigningKey) -> rsa.RSAPublicKey:
    return _KeyMaterial.of(key).public_key


def generate_signing_key(
    *, dynamic: bool, sign_from_ms: int, interval_ms: int, access_validity_ms: int
) -> SigningKey:
    """Create a fresh RSA-2048 key; static keys sign forever."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if dynamic:
        kid = f"d-{sign_from_ms}"
        sign_until = sign_from_ms + interval_ms
        verify_until = sign_until + 2 * access_validity_ms
    else:
        kid = f"s-{uuid.uuid4()}"
        sign_until = verify_until = 2**62
    return SigningKey(kid, pem, sign_from_ms, sign_until, verify_until)


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """What the key set needs at a given moment."""

    signing: SigningKey | None
    """The key to sign with now, if one exists."""
    create_from_ms: int | None
    """Create a dynamic key that starts signing at this time (None: nothing to create)."""
    expired: tuple[str, ...]
    """Key ids that no longer verify anything and can be deleted."""
    create_slot: str | None = None
    """Names the key to create so that processes planning the same key at once store only one
    (storage keeps one key per slot): the successor of a key, or the first key."""


def plan_rotation(keys: list[SigningKey], *, dynamic: bool, now_ms: int) -> KeyPlan:
    """Decide which key signs now and whether a new one must be made.

    A dynamic key is needed when none signs now, or when the current one stops signing within
    ``PUBLISH_AHEAD_MS`` and has no successor yet.
    """
    live = [k for k in keys if k.verifies_at(now_ms) and k.is_dynamic == dynamic]
    expired = tuple(k.kid for k in keys if not k.verifies_at(now_ms))
    signing = max(
        (k for k in live if k.signs_at(now_ms)), key=lambda k: k.sign_from_ms, default=None
    )
    if signing is None:
        # A key another process made a moment ago on a clock a little ahead of this one.
        signing = min(
            (
                k
                for k in live
                if now_ms < k.sign_until_ms and k.sign_from_ms - now_ms <= CLOCK_SKEW_MS
            ),
            key=lambda k: k.sign_from_ms,
            default=None,
        )
    create_from: int | None = None
    slot: str | None = None
    if signing is None:
        create_from = now_ms
        if not dynamic:
            slot = "static"
        else:
            # Whoever finds no signing key makes the successor of the newest one (or the first):
            # the same slot on every process, whatever each one's clock says.
            newest = max(
                (k for k in keys if k.is_dynamic), key=lambda k: k.sign_from_ms, default=None
            )
            slot = "first" if newest is None else f"after:{newest.kid}"
    elif dynamic and now_ms >= signing.sign_until_ms - PUBLISH_AHEAD_MS:
        has_successor = any(k.sign_from_ms >= signing.sign_until_ms for k in live)
        if not has_successor:
            create_from = signing.sign_until_ms
            slot = str(create_from)
    return KeyPlan(signing, create_from, expired, slot)
