"""Access-token payloads: the protected fields, building one, and merging updates into one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "PROTECTED_PROPS",
    "build_access_payload",
    "custom_claims",
    "merge_payload",
]

PROTECTED_PROPS = frozenset(
    {
        "sub",
        "iat",
        "exp",
        "sessionHandle",
        "parentRefreshTokenHash1",
        "refreshTokenHash1",
        "antiCsrfToken",
        "rsub",
        "tId",
        "stt",
    }
)


def custom_claims(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The user-controlled part of a payload (everything but the protected fields)."""
    return {k: v for k, v in payload.items() if k not in PROTECTED_PROPS}


def merge_payload(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Apply ``update`` on top of ``base``: a ``None`` value deletes the key.

    Protected fields in either input are dropped, silently, as the protocol does.
    """
    merged = custom_claims(base)
    for key, value in update.items():
        if key in PROTECTED_PROPS:
            continue
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def build_access_payload(
    custom: Mapping[str, Any],
    *,
    user_id: str,
    recipe_user_id: str,
    tenant_id: str,
    session_handle: str,
    refresh_token_hash1: str,
    anti_csrf_token: str | None,
    iat_s: int,
    exp_s: int,
) -> dict[str, Any]:
    """The v5 payload: protected fields first, then the custom claims."""
    payload: dict[str, Any] = {
        "sub": user_id,
        "exp": exp_s,
        "iat": iat_s,
        "tId": tenant_id,
        "rsub": recipe_user_id,
        "sessionHandle": session_handle,
        "refreshTokenHash1": refresh_token_hash1,
        "parentRefreshTokenHash1": None,
        "antiCsrfToken": anti_csrf_token,
    }
    payload.update(custom_claims(custom))
    return payload
