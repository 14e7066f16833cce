"""Reading the ``Cookie`` header and writing ``Set-Cookie`` lines.

bastion writes its own ``Set-Cookie`` lines so that every framework sends byte-identical ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate
from typing import Literal
from urllib.parse import quote, unquote

__all__ = ["CookieSpec", "parse_cookie_header", "serialise_cookie"]

SameSite = Literal["lax", "strict", "none"]


def parse_cookie_header(header: str | None) -> dict[str, list[str]]:
    """Split a ``Cookie`` header into name -> values (a name may repeat)."""
    cookies: dict[str, list[str]] = {}
    if not header:
        return cookies
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            continue
        name = name.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name:
            cookies.setdefault(name, []).append(unquote(value))
    return cookies


@dataclass(frozen=True, slots=True)
class CookieSpec:
    """Attributes shared by the session cookies."""

    secure: bool
    same_site: SameSite
    domain: str | None


def serialise_cookie(
    name: str, value: str, *, expires_ms: int, path: str, spec: CookieSpec, http_only: bool = True
) -> str:
    """One ``Set-Cookie`` value (without the header name)."""
    parts = [f"{name}={quote(value, safe='')}"]
    if spec.domain:
        parts.append(f"Domain={spec.domain}")
    parts.append(f"Path={path}")
    parts.append("Expires=" + formatdate(max(expires_ms, 0) / 1000, usegmt=True))
    if http_only:
        parts.append("HttpOnly")
    if spec.secure:
        parts.append("Secure")
    parts.append(f"SameSite={spec.same_site.capitalize()}")
    return "; ".join(parts)
