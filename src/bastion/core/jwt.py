"""RS256 access tokens in SuperTokens' v5 layout (RFC 7515 compact serialisation).

Only one algorithm is ever accepted (RFC 8725 section 3.1): the header must say ``RS256`` with
``typ: JWT``, ``version: "5"`` and a ``kid`` that names one of our own keys. Keys never come
from the token (``jwk``/``jku``/``x5u`` are ignored) and an unknown ``crit`` is refused.

Header and payload are JSON objects without duplicate keys (RFC 8725 section 3.11: two parsers
must not read two different tokens). A payload's ``iss`` must be ours, and ``exp``/``nbf`` are
enforced by :func:`check_lifetime` (RFC 7519 sections 4.1.1, 4.1.4, 4.1.5).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bastion.core.encoding import b64url_decode, b64url_encode, compact_json
from bastion.core.keys import SigningKey, private_key_of, public_key_of

__all__ = [
    "MAX_TOKEN_LENGTH",
    "ParsedToken",
    "TokenExpired",
    "TokenFormatError",
    "TokenNotYetValid",
    "TokenParts",
    "check_lifetime",
    "decode_payload",
    "sign_token",
    "split_token",
    "verify_signature",
]

MAX_TOKEN_LENGTH = 8192
TOKEN_VERSION = "5"


class TokenFormatError(ValueError):
    """The string is not an access token bastion could have issued."""


class TokenExpired(ValueError):
    """The token's ``exp`` has passed."""


class TokenNotYetValid(ValueError):
    """The token's ``nbf`` is still ahead."""


@dataclass(frozen=True, slots=True)
class TokenParts:
    """A token split at its dots with the header checked; the payload not yet decoded."""

    raw: str
    kid: str
    signing_input: bytes
    payload_segment: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A token whose signature has been checked, with its decoded payload."""

    raw: str
    kid: str
    payload: dict[str, Any]

    @property
    def exp_ms(self) -> int:
        return int(self.payload["exp"]) * 1000

    @property
    def nbf_ms(self) -> int | None:
        """``nbf`` in milliseconds, or None when the token has none (ours never do)."""
        nbf = self.payload.get("nbf")
        return None if nbf is None else int(nbf) * 1000


def sign_token(payload: dict[str, Any], key: SigningKey) -> str:
    """Serialise and sign ``payload`` with ``key``."""
    header = {"alg": "RS256", "typ": "JWT", "version": TOKEN_VERSION, "kid": key.kid}
    signing_input = (
        b64url_encode(compact_json(header).encode())
        + "."
        + b64url_encode(compact_json(payload).encode())
    )
    signature = private_key_of(key).sign(
        signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
    )
    return signing_input + "." + b64url_encode(signature)


def _json_object(segment: str, *, strict: bool) -> dict[str, Any]:
    """Decode one segment, refusing duplicate keys at any depth; ``strict`` also insists on
    the one canonical base64url spelling (for the header, read before the signature check)."""
    try:
        text = b64url_decode(segment) if strict else _lenient_b64url(segment)
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise TokenFormatError("segment is not a JSON object") from exc
    if not isinstance(value, dict):
        raise TokenFormatError("segment is not a JSON object")
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


_STRING_FIELDS = ("sub", "sessionHandle", "refreshTokenHash1", "tId", "rsub")
_NULLABLE_STRING_FIELDS = ("parentRefreshTokenHash1", "antiCsrfToken")


def split_token(raw: str) -> TokenParts:
    """Split ``raw`` and check its header; :class:`TokenFormatError` if it is not ours.

    Only the header is decoded here: the payload is read after the signature is verified, so a
    forged token costs no more than a header parse and one RSA verification.
    """
    if len(raw) > MAX_TOKEN_LENGTH:
        raise TokenFormatError("token too long")
    if not raw.isascii():
        raise TokenFormatError("a token is ASCII")
    parts = raw.split(".")
    if len(parts) != 3:
        raise TokenFormatError("not a compact JWS")
    kid = _kid_of_header(parts[0])
    try:
        # The signature is the one segment not covered by the signature: insist on one spelling.
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise TokenFormatError("bad signature encoding") from exc
    return TokenParts(raw, kid, (parts[0] + "." + parts[1]).encode("ascii"), parts[1], signature)


@functools.lru_cache(maxsize=64)
def _kid_of_header(segment: str) -> str:
    """The ``kid`` of an access-token header segment, or :class:`TokenFormatError`.

    Every token signed with one key has the same header text, so the few live ones are cached
    (failures are not: an exception is never cached).
    """
    header = _json_object(segment, strict=True)
    kid = header.get("kid")
    if (
        header.get("alg") != "RS256"
        or header.get("typ") != "JWT"
        or header.get("version") != TOKEN_VERSION
        or not isinstance(kid, str)
        or "crit" in header
    ):
        raise TokenFormatError("header does not match our access token structure")
    return kid


def decode_payload(parts: TokenParts, *, issuer: str | None = None) -> ParsedToken:
    """Decode and check the payload of a token whose signature has been verified.

    With ``issuer``, a payload naming another ``iss`` is refused (one without ``iss`` passes).
    """
    payload = _json_object(parts.payload_segment, strict=False)
    _check_payload(payload)
    if issuer is not None and payload.get("iss", issuer) != issuer:
        raise TokenFormatError("token issued by someone else")
    return ParsedToken(parts.raw, parts.kid, payload)


def check_lifetime(token: ParsedToken, now_ms: int) -> None:
    """Raise :class:`TokenExpired` at or after ``exp``, :class:`TokenNotYetValid` before
    ``nbf`` (no leeway: only this server's clock ever sets or reads them)."""
    if now_ms >= token.exp_ms:
        raise TokenExpired("access token expired")
    nbf = token.nbf_ms
    if nbf is not None and now_ms < nbf:
        raise TokenNotYetValid("access token not valid yet")


def _check_payload(payload: dict[str, Any]) -> None:
    for name in _STRING_FIELDS:
        if not isinstance(payload.get(name), str):
            raise TokenFormatError(f"payload field {name} missing or not a string")
    for name in _NULLABLE_STRING_FIELDS:
        if name not in payload or not isinstance(payload[name], str | None):
            raise TokenFormatError(f"payload field {name} missing")
    for name in ("exp", "iat", "nbf"):
        value = payload.get(name)
        if name == "nbf" and value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise TokenFormatError(f"payload field {name} missing or not an integer")
    if not isinstance(payload.get("iss", ""), str):
        raise TokenFormatError("payload field iss not a string")
    if "stt" in payload and payload["stt"] != 0:
        raise TokenFormatError("wrong token type")


def _lenient_b64url(segment: str) -> bytes:
    # Signed segments: any change to their text breaks the signature, so no canonical check.
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verify_signature(token: TokenParts, key: SigningKey) -> bool:
    """Check the RS256 signature of ``token`` against ``key``."""
    try:
        public_key_of(key).verify(
            token.signature, token.signing_input, padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True
