"""Single-use tokens sent by email (password reset, email verification).

256 bits from :mod:`secrets`, URL-safe; storage keeps only their SHA-256, so a database leak
does not hand out live links.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["EMAIL_VERIFICATION", "PASSWORD_RESET", "describe_lifetime", "new_token", "token_hash"]

PASSWORD_RESET = "password-reset"
EMAIL_VERIFICATION = "email-verification"


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def describe_lifetime(seconds: int) -> str:
    """``3600`` -> ``"1 hour"``, ``86400`` -> ``"1 day"``, for email bodies."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
