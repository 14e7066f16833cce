"""The decision on one passwordless code check: purpose, comparison, expiry and attempts.

Storage locks the login attempt (the "device"), asks :func:`check_code` what the presented code
means, and applies the answer in the same transaction, so every backend decides the same way:

- The device must be bound to the presenting session (None for a first factor): a device made
  for another purpose or another session answers RESTART and is left alone.
- A link code is all or nothing: it signs in if it matches and the code is live, otherwise
  RESTART (a link cannot be guessed, so it does not count as an attempt).
- A user input code counts as a failed attempt *before* it is compared, so parallel guesses
  can never pass ``max_attempts``; the last allowed failure deletes the device (RESTART). A
  correct but expired code is EXPIRED_CODE and counts too.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

__all__ = ["CodeCheck", "StoredCode", "check_code"]


@dataclass(frozen=True, slots=True)
class StoredCode:
    """What a device holds about its one live code."""

    session_handle: str | None
    code_hash: str
    link_code_hash: str
    failed_attempts: int
    expires_at_ms: int


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """What to answer, and what to write back to the device."""

    status: Literal["OK", "INCORRECT_CODE", "EXPIRED_CODE", "RESTART"]
    failed_attempts: int
    """The device's failed attempts after this check (reported with INCORRECT/EXPIRED)."""
    store_attempts: bool = False
    """Write ``failed_attempts`` back to the device."""
    delete_device: bool = False
    """The device is used up (signed in, or out of attempts)."""


def check_code(
    stored: StoredCode,
    *,
    code_hash: str | None,
    link_code_hash: str | None,
    session_handle: str | None,
    max_attempts: int,
    now_ms: int,
) -> CodeCheck:
    """Decide what presenting ``code_hash`` (typed) or ``link_code_hash`` (a link) means."""
    if (code_hash is None) == (link_code_hash is None):
        raise ValueError("give exactly one of code_hash and link_code_hash")
    failures = stored.failed_attempts
    if stored.session_handle != session_handle:
        return CodeCheck("RESTART", failures)  # another purpose or another session
    live = now_ms < stored.expires_at_ms
    if link_code_hash is not None:
        if live and hmac.compare_digest(stored.link_code_hash, link_code_hash):
            return CodeCheck("OK", failures, delete_device=True)
        return CodeCheck("RESTART", failures)
    if failures >= max_attempts:
        return CodeCheck("RESTART", failures, delete_device=True)
    failures += 1  # counted first, compared second
    matches = hmac.compare_digest(stored.code_hash, str(code_hash))
    if matches and live:
        return CodeCheck("OK", failures, delete_device=True)
    if failures >= max_attempts:
        return CodeCheck("RESTART", failures, delete_device=True)
    status: Literal["INCORRECT_CODE", "EXPIRED_CODE"] = (
        "EXPIRED_CODE" if matches else "INCORRECT_CODE"
    )
    return CodeCheck(status, failures, store_attempts=True)
