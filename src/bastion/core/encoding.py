"""Strict base64url and compact JSON, as used in tokens and headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

__all__ = ["b64url_decode", "b64url_encode", "compact_json", "sha256_hex"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_URL_TO_STD = str.maketrans("-_", "+/")


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; raise ``ValueError`` on anything non-canonical.

    Padding, characters outside the alphabet and non-zero trailing bits are all refused, so a
    token has exactly one accepted spelling.
    """
    remainder = len(text) % 4
    if remainder == 1 or "+" in text or "/" in text or "=" in text:
        raise ValueError("not canonical base64url")
    if remainder:
        # The unused low bits of the last character must be zero (RFC 4648 section 3.5).
        last = _ALPHABET.find(text[-1])
        if last < 0 or last & (0x0F if remainder == 2 else 0x03):
            raise ValueError("not canonical base64url")
    try:
        return binascii.a2b_base64(
            text.translate(_URL_TO_STD) + "=" * (-len(text) % 4), strict_mode=True
        )
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not canonical base64url") from exc


def compact_json(value: Any, *, sort_keys: bool = False) -> str:
    """JSON with no whitespace, as SuperTokens writes it."""
    return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=False)


def sha256_hex(text: str) -> str:
    """Lowercase hex SHA-256 of a UTF-8 string (the protocol's ``hash1``)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
