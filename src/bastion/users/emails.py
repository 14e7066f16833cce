"""Email addresses: trimming, the normalised key used for lookups and uniqueness, validity."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_EMAIL_LENGTH", "email_key", "is_valid_email", "normalise_email"]

MAX_EMAIL_LENGTH = 320
# The widely used "standard" email pattern that SuperTokens' default validator applies.
_EMAIL = re.compile(
    r'^(([^<>()\[\]\\.,;:\s@"]+(\.[^<>()\[\]\\.,;:\s@"]+)*)|(".+"))@'
    r"((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$"
)


def normalise_email(email: str) -> str:
    """The email as stored and shown: surrounding whitespace removed, case kept."""
    return email.strip()


def email_key(email: str) -> str:
    """The key that identifies an email: trimmed, NFKC-normalised and case-folded.

    ``User@Example.com``, ``user@EXAMPLE.COM`` and compatibility forms of the same letters share
    one key, so they are one account and one throttling counter.
    """
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def is_valid_email(email: str) -> bool:
    """Whether ``email`` (already trimmed) looks like an address."""
    return len(email) <= MAX_EMAIL_LENGTH and _EMAIL.match(email) is not None
