"""RS256 access tokens in SuperTokens' v5 layout (RFC 7515 compact serialisation).

Only one algorithm is ever accepted (RFC 8725 section 3.1): the header must say ``RS256`` with
``typ: JWT``, ``version: "5"`` and a ``kid`` that names one of our own keys. Keys never come
from the token (``jwk``/``jku``/``x5u`` are ignored) and an unknown ``crit`` is refused.
"""

from __future__ import annotations

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
    "TokenFormatError",
    "parse_token",
    "sign_token",
    "verify_signature",
]

MAX_TOKEN_LENGTH = 8192
TOKEN_VERSION = "5"


class TokenFormatError(ValueError):
    """The string is not an access token bastion could have issued."""


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """An access token split and decoded, its signature not yet checked."""

    raw: str
    kid: str
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def exp_ms(self) -> int:
        return int(self.payload["exp"]) * 1000


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


def _json_object(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment), object_pairs_hook=_no_duplicate_keys)
    except (ValueError, UnicodeDecodeError) as exc:
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


def parse_token(raw: str) -> ParsedToken:
    """Decode and check the structure of a token; :class:`TokenFormatError` if not ours."""
    if len(raw) > MAX_TOKEN_LENGTH:
        raise TokenFormatError("token too long")
    parts = raw.split(".")
    if len(parts) != 3:
        raise TokenFormatError("not a compact JWS")
    header = _json_object(parts[0])
    if (
        header.get("alg") != "RS256"
        or header.get("typ") != "JWT"
        or header.get("version") != TOKEN_VERSION
        or not isinstance(header.get("kid"), str)
        or "crit" in header
    ):
        raise TokenFormatError("header does not match our access token structure")
    payload = _json_object(parts[1])
    _check_payload(payload)
    try:
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise TokenFormatError("bad signature encoding") from exc
    return ParsedToken(
        raw, header["kid"], payload, (parts[0] + "." + parts[1]).encode("ascii"), signature
    )


def _check_payload(payload: dict[str, Any]) -> None:
    for name in _STRING_FIELDS:
        if not isinstance(payload.get(name), str):
            raise TokenFormatError(f"payload field {name} missing or not a string")
    for name in _NULLABLE_STRING_FIELDS:
        if name not in payload or not isinstance(payload[name], str | None):
            raise TokenFormatError(f"payload field {name} missing")
    for name in ("exp", "iat"):
        value = payload.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TokenFormatError(f"payload field {name} missing or not an integer")
    if "stt" in payload and payload["stt"] != 0:
        raise TokenFormatError("wrong token type")


def verify_signature(token: ParsedToken, key: SigningKey) -> bool:
    """Check the RS256 signature of ``token`` against ``key``."""
    try:
        public_key_of(key).verify(
            token.signature, token.signing_input, padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True
