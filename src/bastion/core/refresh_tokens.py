"""Opaque refresh tokens and the decision of what presenting one means.

A token reads ``<session handle>.<secret>.<tag>``. The secret is 256 random bits for a new session;
each rotation derives the next secret from the presented token with HMAC, so two requests that
rotate the same token at the same moment receive the *same* successor and the session keeps one
live chain. The tag is an HMAC over handle and secret: a forged token for somebody's handle is
rejected as garbage instead of being taken for a stolen one (which would revoke their session).

Storage keeps only ``hash2 = sha256(sha256(token))``; the access token carries ``hash1``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

from bastion.core.encoding import b64url_decode, b64url_encode, sha256_hex

__all__ = [
    "RefreshTokenCodec",
    "Rotation",
    "RotationState",
    "decide_rotation",
    "hash1",
    "hash2",
]

_TAG_BYTES = 16
MAX_REFRESH_TOKEN_LENGTH = 256


def hash1(token: str) -> str:
    return sha256_hex(token)


def hash2(token: str) -> str:
    return sha256_hex(sha256_hex(token))


class RefreshTokenCodec:
    """Makes, derives and authenticates refresh tokens with one server key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the refresh-token key must be at least 256 bits")
        self._key = key

    def _mac(self, label: bytes, data: str) -> bytes:
        return hmac.new(self._key, label + data.encode("utf-8"), hashlib.sha256).digest()

    def _assemble(self, handle: str, secret: str) -> str:
        tag = b64url_encode(self._mac(b"tag:", f"{handle}.{secret}")[:_TAG_BYTES])
        return f"{handle}.{secret}.{tag}"

    def new_token(self, handle: str) -> str:
        return self._assemble(handle, b64url_encode(secrets.token_bytes(32)))

    def successor(self, token: str, handle: str) -> str:
        """The token that replaces ``token``: the same for everyone who presents it."""
        return self._assemble(handle, b64url_encode(self._mac(b"next:", token)))

    def anti_csrf_token(self, token: str) -> str:
        """The anti-CSRF value bound to a refresh token (used with ``VIA_TOKEN``)."""
        return b64url_encode(self._mac(b"csrf:", token)[:18])

    def session_handle_of(self, token: str) -> str | None:
        """Return the handle of a genuine token, or None for anything we did not issue."""
        if len(token) > MAX_REFRESH_TOKEN_LENGTH or not token.isascii():
            return None  # ours are ASCII; anything else (a lone surrogate) cannot be encoded
        parts = token.split(".")
        if len(parts) != 3:
            return None
        handle, secret, tag = parts
        try:
            presented = b64url_decode(tag)
            b64url_decode(secret)
        except ValueError:
            return None
        expected = self._mac(b"tag:", f"{handle}.{secret}")[:_TAG_BYTES]
        if not handle or not hmac.compare_digest(presented, expected):
            return None
        return handle


@dataclass(frozen=True, slots=True)
class RotationState:
    """The refresh-token columns of a session row."""

    current_hash2: str
    prev_hash2: str | None
    rotated_at_ms: int | None


class Rotation(Enum):
    """What to do with a presented refresh token."""

    ROTATE = "rotate"
    """It is the current token: its successor becomes current, it becomes previous."""
    ALREADY_ROTATED = "already_rotated"
    """It is the previous token, within the grace period, and its successor is current."""
    REPLACE_CURRENT = "replace_current"
    """It is the previous token within grace, but current is not its successor: re-rotate."""
    THEFT = "theft"
    """Anything else: an old token reused, so the session is revoked."""


def decide_rotation(
    state: RotationState, presented_hash2: str, successor_hash2: str, *, now_ms: int, grace_ms: int
) -> Rotation:
    """Classify a refresh attempt (pure; the caller applies it atomically)."""
    if hmac.compare_digest(state.current_hash2, presented_hash2):
        return Rotation.ROTATE
    in_grace = (
        state.prev_hash2 is not None
        and state.rotated_at_ms is not None
        and now_ms - state.rotated_at_ms <= grace_ms
        and hmac.compare_digest(state.prev_hash2, presented_hash2)
    )
    if not in_grace:
        return Rotation.THEFT
    if hmac.compare_digest(state.current_hash2, successor_hash2):
        return Rotation.ALREADY_ROTATED
    return Rotation.REPLACE_CURRENT
