"""Strict base64url and compact JSON, as used in tokens and headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

__all__ = ["b64url_decode", "b64url_encode", "compact_json", "sha256_hex"]

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; raise ``ValueError`` on anything non-canonical.

    Padding, characters outside the alphabet and non-zero trailing bits are all refused, so a
    token has exactly one accepted spelling.
    """
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not canonical base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the regex screens these
        raise ValueError("not canonical base64url") from exc
    if b64url_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


def compact_json(value: Any, *, sort_keys: bool = False) -> str:
    """JSON with no whitespace, as SuperTokens writes it."""
    return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=False)


def sha256_hex(text: str) -> str:
    """Lowercase hex SHA-256 of a UTF-8 string (the protocol's ``hash1``)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
