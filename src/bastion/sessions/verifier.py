"""Access-token verification with a cache of tokens already verified.

A token's exact text is verified once (structure, key, RS256 signature) and then remembered, so
a client sending the same token again costs a dictionary lookup plus the expiry check. A cached
token whose key has been retired since is verified again (and then refused).
"""

from __future__ import annotations

import threading

from bastion.core.jwt import (
    ParsedToken,
    TokenFormatError,
    TokenParts,
    decode_payload,
    split_token,
    verify_signature,
)
from bastion.errors import TryRefreshTokenError, UnauthorisedError
from bastion.sessions.keyring import KeyRing

__all__ = ["AccessTokenVerifier"]

CACHE_SIZE = 10_000
PARSED_MEMO_SIZE = 256
TOKEN_PARSING_FAILED = "Token parsing failed"


class AccessTokenVerifier:
    """Verifies access tokens against a :class:`KeyRing`; caches successes by token text."""

    def __init__(self, keyring: KeyRing, *, dynamic_keys: bool, issuer: str | None = None) -> None:
        self._keyring = keyring
        self._dynamic_keys = dynamic_keys
        self._issuer = issuer
        self._verified: dict[str, ParsedToken] = {}
        # Tokens split by looks_like_ours() and about to be verified: split each text once.
        self._parsed: dict[str, TokenParts] = {}
        self._lock = threading.Lock()

    def _cached(self, raw: str) -> ParsedToken | None:
        parsed = self._verified.get(raw)
        if parsed is not None and self._keyring.cached_key(parsed.kid) is None:
            return None
        return parsed

    def looks_like_ours(self, raw: str) -> bool:
        """True if ``raw`` has the structure of one of our access tokens (no signature check)."""
        if raw in self._verified:
            return True
        try:
            parsed = split_token(raw)
        except TokenFormatError:
            return False
        with self._lock:
            if len(self._parsed) >= PARSED_MEMO_SIZE:
                self._parsed.clear()
            self._parsed[raw] = parsed
        return True

    async def verify(self, raw: str) -> ParsedToken:
        """The verified token; :class:`UnauthorisedError` if it is not a token at all (or not
        ours: another ``iss``, duplicate keys), :class:`TryRefreshTokenError` if its key or
        signature is not good. ``exp`` and ``nbf`` are not checked here (they depend on the
        time of each request: :func:`bastion.core.jwt.check_lifetime`)."""
        parsed = self._cached(raw)
        if parsed is not None:
            return parsed
        parts = self._parsed.pop(raw, None)
        try:
            if parts is None:
                parts = split_token(raw)
        except TokenFormatError as exc:
            raise UnauthorisedError(TOKEN_PARSING_FAILED, clear_tokens=False) from exc
        if parts.kid.startswith("d-") != self._dynamic_keys:
            raise TryRefreshTokenError(
                "The access token doesn't match the useDynamicAccessTokenSigningKey setting"
            )
        key = await self._keyring.verification_key(parts.kid)
        if key is None or not verify_signature(parts, key):
            raise TryRefreshTokenError("Access token signature or key id is not valid")
        try:
            parsed = decode_payload(parts, issuer=self._issuer)
        except TokenFormatError as exc:
            raise UnauthorisedError(TOKEN_PARSING_FAILED, clear_tokens=False) from exc
        with self._lock:
            if len(self._verified) >= CACHE_SIZE:
                del self._verified[next(iter(self._verified))]
            self._verified[raw] = parsed
        return parsed
