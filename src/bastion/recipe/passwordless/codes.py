"""Device ids, codes and their hashes (pure: no I/O, no clock).

- A device id is 32 random bytes, standard base64; the client keeps it, storage never sees it.
- ``preAuthSessionId`` is base64url (no padding) of SHA-256 of the device id's bytes (spec 7.3).
- The user input code is 6 digits from :mod:`secrets` (ASVS 2.7.6: at least 20 bits).
- The link code is 256 random bits, base64url.

Only keyed hashes are stored: HMAC-SHA256 under a server key, over the device's
``preAuthSessionId``, the session handle the code is bound to (empty for a sign-in) and the code;
the user input code's hash also covers the device id. A 6-digit code has too little entropy to
survive a plain hash, but without the device id (never stored) and the key, a leaked row cannot
be brute-forced. Binding the session handle into the hash means a code issued for one purpose or
session cannot match under another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

__all__ = [
    "DEVICE_ID_BYTES",
    "device_matches",
    "link_code_hash",
    "new_device",
    "new_link_code",
    "new_user_input_code",
    "normalise_user_input_code",
    "pre_auth_session_id_of",
    "user_input_code_hash",
]

DEVICE_ID_BYTES = 32
CODE_DIGITS = 6


def new_device() -> tuple[str, str]:
    """A fresh device id (standard base64 of 32 random bytes) and its ``preAuthSessionId``."""
    raw = secrets.token_bytes(DEVICE_ID_BYTES)
    return base64.b64encode(raw).decode("ascii"), _pre_auth(raw)


def _pre_auth(raw: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).rstrip(b"=").decode("ascii")


def pre_auth_session_id_of(device_id: str) -> str | None:
    """The ``preAuthSessionId`` of ``device_id``, or None if it is not a device id."""
    try:
        raw = base64.b64decode(device_id.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return _pre_auth(raw) if len(raw) == DEVICE_ID_BYTES else None


def device_matches(device_id: str, pre_auth_session_id: str) -> bool:
    """Whether ``device_id`` is the device that ``pre_auth_session_id`` names."""
    computed = pre_auth_session_id_of(device_id)
    return computed is not None and hmac.compare_digest(
        computed.encode("ascii"), pre_auth_session_id.encode("utf-8", "surrogatepass")
    )


def new_user_input_code() -> str:
    """Six random decimal digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_link_code() -> str:
    """256 random bits, URL-safe (it travels in the magic link's fragment)."""
    return secrets.token_urlsafe(32)


def normalise_user_input_code(code: str) -> str:
    """The code as typed, without any whitespace (``"123 456"`` is ``"123456"``)."""
    return "".join(code.split())


def _mac(key: bytes, *parts: str) -> str:
    # Length-prefixed fields: no choice of values can make two different tuples collide.
    message = b"".join(
        len(encoded).to_bytes(4, "big") + encoded
        for encoded in (p.encode("utf-8", "surrogatepass") for p in parts)
    )
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def user_input_code_hash(
    key: bytes,
    *,
    device_id: str,
    pre_auth_session_id: str,
    session_handle: str | None,
    code: str,
) -> str:
    """The stored form of a user input code."""
    return _mac(key, "otp", pre_auth_session_id, session_handle or "", device_id, code)


def link_code_hash(
    key: bytes, *, pre_auth_session_id: str, session_handle: str | None, link_code: str
) -> str:
    """The stored form of a link code."""
    return _mac(key, "link", pre_auth_session_id, session_handle or "", link_code)
