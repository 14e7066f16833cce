"""Where tokens travel: cookies or headers (spec section 4).

Reading prefers the ``Authorization`` header over the cookie; writing uses the method the
session was read with (or chose at creation) and clears the other one if the client sent it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bastion.core.cookies import CookieSpec, serialise_cookie
from bastion.core.front_token import REMOVE
from bastion.http.types import BaseRequest, ResponseChanges
from bastion.sessions.config import SessionConfig, TokenTransferMethod

__all__ = [
    "ACCESS_TOKEN_COOKIE",
    "REFRESH_TOKEN_COOKIE",
    "IssuedTokens",
    "bearer_token",
    "clear_tokens",
    "write_tokens",
]

ACCESS_TOKEN_COOKIE = "sAccessToken"
REFRESH_TOKEN_COOKIE = "sRefreshToken"
LEGACY_ID_REFRESH_COOKIE = "sIdRefreshToken"
ACCESS_TOKEN_HEADER = "st-access-token"
REFRESH_TOKEN_HEADER = "st-refresh-token"
FRONT_TOKEN_HEADER = "front-token"
ANTI_CSRF_HEADER = "anti-csrf"
ONE_YEAR_MS = 365 * 24 * 3600 * 1000


def bearer_token(request: BaseRequest) -> str | None:
    """The token in ``Authorization: Bearer <token>``, if any."""
    value = request.get_header("authorization")
    if value is None or not value.startswith("Bearer "):
        return None
    token = value[7:].strip()
    return token or None


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """Tokens to hand to the client after create, refresh or a payload update."""

    access_token: str
    front_token: str
    refresh_token: str | None = None
    refresh_expires_ms: int = 0
    anti_csrf_token: str | None = None


def write_tokens(
    changes: ResponseChanges,
    config: SessionConfig,
    method: TokenTransferMethod,
    tokens: IssuedTokens,
    *,
    now_ms: int,
) -> None:
    """Queue the headers and cookies that hand ``tokens`` to the client."""
    changes.set_header(FRONT_TOKEN_HEADER, tokens.front_token, expose=True)
    if method == "cookie":
        _set_cookie(
            changes,
            config.cookie,
            ACCESS_TOKEN_COOKIE,
            tokens.access_token,
            now_ms + ONE_YEAR_MS,
            config.access_token_path,
        )
        if config.expose_access_token_to_frontend_in_cookie_based_auth:
            changes.set_header(ACCESS_TOKEN_HEADER, tokens.access_token, expose=True)
        if tokens.refresh_token is not None:
            _set_cookie(
                changes,
                config.cookie,
                REFRESH_TOKEN_COOKIE,
                tokens.refresh_token,
                tokens.refresh_expires_ms,
                config.refresh_token_path,
            )
    else:
        changes.set_header(ACCESS_TOKEN_HEADER, tokens.access_token, expose=True)
        if tokens.refresh_token is not None:
            changes.set_header(REFRESH_TOKEN_HEADER, tokens.refresh_token, expose=True)
    if tokens.anti_csrf_token is not None:
        changes.set_header(ANTI_CSRF_HEADER, tokens.anti_csrf_token, expose=True)


def clear_tokens(
    changes: ResponseChanges,
    config: SessionConfig,
    method: TokenTransferMethod,
    *,
    domain: str | None = None,
    front_token: bool = True,
) -> None:
    """Queue what makes the client forget its session tokens in ``method``."""
    if method == "cookie":
        spec = (
            config.cookie
            if domain is None
            else CookieSpec(config.cookie.secure, config.cookie.same_site, domain)
        )
        _set_cookie(changes, spec, ACCESS_TOKEN_COOKIE, "", 0, config.access_token_path)
        _set_cookie(changes, spec, REFRESH_TOKEN_COOKIE, "", 0, config.refresh_token_path)
    else:
        changes.set_header(ACCESS_TOKEN_HEADER, "", expose=True)
        changes.set_header(REFRESH_TOKEN_HEADER, "", expose=True)
    changes.remove_header(ANTI_CSRF_HEADER)
    if front_token:
        changes.set_header(FRONT_TOKEN_HEADER, REMOVE, expose=True)


def clear_legacy_cookie(changes: ResponseChanges, config: SessionConfig) -> None:
    _set_cookie(changes, config.cookie, LEGACY_ID_REFRESH_COOKIE, "", 0, config.refresh_token_path)


def _set_cookie(
    changes: ResponseChanges,
    spec: CookieSpec,
    name: str,
    value: str,
    expires_ms: int,
    path: str,
) -> None:
    raw = serialise_cookie(name, value, expires_ms=expires_ms, path=path, spec=spec)
    changes.set_cookie(name, path, spec.domain, raw)
