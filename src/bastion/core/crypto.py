"""Encryption of secrets at rest (TOTP seeds): AES-256-GCM with a key ring for rotation.

A sealed value is ASCII text::

    bx1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>

- ``bx1`` names this format (version 1).
- ``key id`` is the first 8 hex digits of SHA-256 over the key: it tells which key of the ring
  sealed the value without revealing anything usable about the key.
- ``nonce`` is 96 random bits (a fresh one per seal); ``tag`` is GCM's 128-bit tag.
- The caller's *associated data* (for TOTP: ``totp:<user id>:<device id>``) is authenticated but
  not stored, so a sealed value copied to another row no longer opens.

The ring seals with its first key and opens with any of them. To rotate, put the new key first
and keep the old ones until :meth:`SecretBox.reseal` (``totp.asyncio.reencrypt_secrets``) has
moved every value; then drop them.

Keys are 32 bytes: ``bytes``, or text in hex (64 digits) or base64/base64url (padding optional).
:func:`generate_key` makes one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bastion.core.encoding import b64url_decode, b64url_encode

__all__ = ["DecryptionError", "SecretBox", "generate_key", "key_id", "parse_key"]

PREFIX = "bx1"
KEY_BYTES = 32
NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A sealed value is malformed, sealed by no key in the ring, or was tampered with."""


def parse_key(key: str | bytes) -> bytes:
    """A 32-byte key from bytes, hex text or base64(url) text.

    Raises:
        ValueError: the key is not 32 bytes long once decoded.
    """
    if isinstance(key, bytes):
        raw = key
    else:
        text = key.strip()
        raw = b""
        if len(text) == 2 * KEY_BYTES:
            try:
                raw = bytes.fromhex(text)
            except ValueError:
                raw = b""
        if not raw:
            try:
                raw = base64.urlsafe_b64decode(
                    text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
                )
            except (binascii.Error, ValueError) as exc:
                raise ValueError("an encryption key must be hex or base64 text") from exc
    if len(raw) != KEY_BYTES:
        raise ValueError(f"an encryption key must be {KEY_BYTES} bytes (256 bits)")
    return raw


def key_id(key: bytes) -> str:
    """The public id of a key: 8 hex digits of its SHA-256."""
    return hashlib.sha256(b"bastion-secretbox-key-id:" + key).hexdigest()[:8]


def generate_key() -> str:
    """A new random key as base64url text, for ``bastion.init(encryption_keys=[...])``."""
    return b64url_encode(secrets.token_bytes(KEY_BYTES))


class SecretBox:
    """Seals and opens small secrets with a ring of AES-256-GCM keys (the first one seals)."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ValueError("a SecretBox needs at least one key")
        parsed = [parse_key(k) for k in keys]
        self._ring: dict[str, AESGCM] = {}
        for raw in parsed:
            self._ring.setdefault(key_id(raw), AESGCM(raw))
        self.primary_id = key_id(parsed[0])

    @property
    def key_ids(self) -> list[str]:
        """Ids of the keys in the ring, the sealing key first."""
        return list(self._ring)

    def seal(self, plaintext: bytes, associated_data: bytes) -> str:
        """Encrypt ``plaintext`` with the first key, bound to ``associated_data``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ring[self.primary_id].encrypt(nonce, plaintext, associated_data)
        return f"{PREFIX}.{self.primary_id}.{b64url_encode(nonce + sealed)}"

    def open(self, token: str, associated_data: bytes) -> bytes:
        """Decrypt a value sealed by any key of the ring.

        Raises:
            DecryptionError: the value is malformed, its key is not in the ring, or it fails
                authentication (tampered, or sealed for other associated data).
        """
        prefix, kid, body = _split(token)
        if prefix != PREFIX:
            raise DecryptionError("unknown sealed-value format")
        cipher = self._ring.get(kid)
        if cipher is None:
            raise DecryptionError(f"no key with id {kid} in the ring")
        try:
            blob = b64url_decode(body)
        except ValueError as exc:
            raise DecryptionError("the sealed value is not base64url") from exc
        if len(blob) < NONCE_BYTES + 16:
            raise DecryptionError("the sealed value is too short")
        try:
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
        except InvalidTag as exc:
            raise DecryptionError("the sealed value failed authentication") from exc

    def needs_reseal(self, token: str) -> bool:
        """True when ``token`` was sealed by a key other than the first one."""
        return _split(token)[1] != self.primary_id

    def reseal(self, token: str, associated_data: bytes) -> str:
        """Open ``token`` and seal it again with the first key (no-op if it already is)."""
        if not self.needs_reseal(token):
            return token
        return self.seal(self.open(token, associated_data), associated_data)


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(".")
    if len(parts) != 3:
        raise DecryptionError("a sealed value has three dot-separated parts")
    return parts[0], parts[1], parts[2]
