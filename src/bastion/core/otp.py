"""One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), Base32 secrets, ``otpauth://`` URIs.

Pure functions: the current time is always an argument (``now_ms``). The counter is a full
64-bit big-endian integer (RFC 6238 section 4.2: time steps beyond 2^32 must work), and the
dynamic-truncation offset comes from the last byte of the digest, whatever the hash (RFC 4226
section 5.3), which is what makes SHA-256/512 match the RFC 6238 errata vectors.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from typing import Literal
from urllib.parse import quote

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "InvalidSecretError",
    "base32_secret",
    "hotp",
    "is_code_shaped",
    "match_step",
    "new_secret",
    "normalise_code",
    "otpauth_uri",
    "parse_base32_secret",
    "time_step",
    "totp",
]

Algorithm = Literal["SHA1", "SHA256", "SHA512"]
ALGORITHMS: dict[str, str] = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}
DIGITS = (6, 7, 8)
SECRET_BYTES = 20
"""160 bits, the length RFC 4226 (R6) recommends."""
MAX_SECRET_TEXT = 1024
_BASE32 = re.compile(r"[A-Z2-7]+")
_CODE = re.compile(r"[0-9]{6,8}")


class InvalidSecretError(ValueError):
    """A Base32 secret that cannot be decoded (bad alphabet, empty, too long)."""


def hotp(key: bytes, counter: int, *, digits: int = 6, algorithm: Algorithm = "SHA1") -> str:
    """The HOTP value of ``counter`` (RFC 4226 section 5.3), zero-padded to ``digits``."""
    if digits not in DIGITS:
        raise ValueError("digits must be 6, 7 or 8")
    if not 0 <= counter < 1 << 64:
        raise ValueError("the counter must fit in 64 unsigned bits")
    digest = hmac.new(key, counter.to_bytes(8, "big"), ALGORITHMS[algorithm]).digest()
    offset = digest[-1] & 0x0F
    binary = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFF_FFFF
    return str(binary % 10**digits).zfill(digits)


def time_step(now_ms: int, period: int) -> int:
    """The RFC 6238 time step ``T = floor((now - T0) / X)`` with ``T0 = 0``."""
    if period <= 0:
        raise ValueError("the period must be positive")
    return (now_ms // 1000) // period


def totp(
    key: bytes,
    now_ms: int,
    *,
    period: int = 30,
    digits: int = 6,
    algorithm: Algorithm = "SHA1",
) -> str:
    """The TOTP value at ``now_ms`` (RFC 6238 section 4)."""
    return hotp(key, time_step(now_ms, period), digits=digits, algorithm=algorithm)


def normalise_code(code: str) -> str:
    """Drop spaces and surrounding whitespace: apps show codes as ``123 456``."""
    return code.strip().replace(" ", "")


def is_code_shaped(code: str, digits: int) -> bool:
    """True when ``code`` is exactly ``digits`` ASCII digits (no Unicode digits, no signs)."""
    return len(code) == digits and _CODE.fullmatch(code) is not None


def match_step(
    key: bytes,
    code: str,
    now_ms: int,
    *,
    period: int,
    skew: int,
    digits: int,
    algorithm: Algorithm,
    after_step: int | None = None,
) -> int | None:
    """The time step ``code`` is valid for, within ``skew`` steps of now, or None.

    Only steps greater than ``after_step`` (the last step already accepted for this device)
    count, so a code is never accepted twice and, once a code has been used, no earlier code of
    the window is accepted either (RFC 6238 section 5.2). Every candidate is compared in
    constant time; the smallest matching step wins, leaving later codes usable.
    """
    if not is_code_shaped(code, digits):
        return None
    current = time_step(now_ms, period)
    found: int | None = None
    for step in range(max(0, current - skew), current + skew + 1):
        expected = hotp(key, step, digits=digits, algorithm=algorithm)
        matches = hmac.compare_digest(expected.encode(), code.encode())
        if matches and found is None and (after_step is None or step > after_step):
            found = step
    return found


def new_secret(nbytes: int = SECRET_BYTES) -> bytes:
    """A fresh random secret (160 bits by default) from :mod:`secrets`."""
    if nbytes < 16:
        raise ValueError("an OTP secret must have at least 128 bits")
    return secrets.token_bytes(nbytes)


def base32_secret(key: bytes) -> str:
    """RFC 4648 Base32 without padding (32 characters for 160 bits), as apps expect."""
    return base64.b32encode(key).decode("ascii").rstrip("=")


def parse_base32_secret(text: str) -> bytes:
    """Decode a Base32 secret as people type it: any case, spaces and missing padding accepted.

    Raises:
        InvalidSecretError: empty, longer than 1 KiB, or characters outside ``A-Z2-7``
            (``0``, ``1``, ``8`` and ``9`` included).
    """
    if len(text) > MAX_SECRET_TEXT:
        raise InvalidSecretError("the secret is too long")
    cleaned = re.sub(r"[\s-]", "", text).upper().rstrip("=")
    if not cleaned or not _BASE32.fullmatch(cleaned):
        raise InvalidSecretError("the secret is not Base32 (A-Z, 2-7)")
    if len(cleaned) % 8 in (1, 3, 6):
        raise InvalidSecretError("the secret has an impossible Base32 length")
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except binascii.Error as exc:  # pragma: no cover - the checks above screen these
        raise InvalidSecretError("the secret is not Base32") from exc


def otpauth_uri(
    secret: str,
    *,
    issuer: str,
    account: str | None = None,
    digits: int = 6,
    period: int = 30,
    algorithm: Algorithm = "SHA1",
) -> str:
    """The Key URI authenticator apps read from a QR code (spec section 9.4).

    ``otpauth://totp/<issuer>[:<account>]?secret=…&issuer=…&digits=…&period=…``, plus
    ``&algorithm=…`` when it is not SHA1 (apps assume SHA1 when it is absent).
    """
    label = quote(issuer, safe="")
    if account:
        label += ":" + quote(account, safe="")
    uri = (
        f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer, safe='')}"
        f"&digits={digits}&period={period}"
    )
    if algorithm != "SHA1":
        uri += f"&algorithm={algorithm}"
    return uri
