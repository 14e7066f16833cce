"""Email addresses and phone numbers: validation, normalisation, which ones a user has."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bastion.storage.base import UserRecord
from bastion.users.emails import email_key, is_valid_email, normalise_email

__all__ = [
    "RECIPE_ID",
    "EMAIL_INVALID",
    "PHONE_INVALID",
    "Contact",
    "contact_on_file",
    "default_email_error",
    "default_phone_error",
    "is_fake_email",
    "normalise_phone_number",
    "phone_numbers",
    "real_emails",
]

RECIPE_ID = "passwordless"
EMAIL_INVALID = "Email is invalid"
PHONE_INVALID = "Phone number is invalid"
MAX_PHONE_INPUT = 64
_SEPARATORS = re.compile(r"[ \t\-().]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)
_FAKE_EMAIL_SUFFIXES = ("@stfakeemail.supertokens.com", ".fakeemail.com")


@dataclass(frozen=True, slots=True)
class Contact:
    """Where a code goes: exactly one of a (trimmed) email and an E.164 phone number."""

    email: str | None = None
    phone_number: str | None = None

    def __post_init__(self) -> None:
        if (self.email is None) == (self.phone_number is None):
            raise ValueError("a contact is an email or a phone number")

    @property
    def key(self) -> str:
        """What identifies the contact: the email's key, or the phone number."""
        return email_key(self.email) if self.email is not None else str(self.phone_number)

    @property
    def kind(self) -> str:
        """``"email"`` or ``"phone"``, as in factor ids (``otp-email``)."""
        return "email" if self.email is not None else "phone"

    @property
    def address(self) -> str:
        return self.email if self.email is not None else str(self.phone_number)


def normalise_phone_number(value: str) -> str | None:
    """``value`` in E.164 (``+`` and 7 to 15 digits, the first not 0), or None.

    Spaces, hyphens, dots and parentheses are dropped (``+1 (555) 010-0000``). Only the shape
    is checked, not whether the country plan has such a number; pass ``validate_phone_number``
    to ``passwordless.init`` (for instance with the ``phonenumbers`` package) to check more.
    """
    if len(value) > MAX_PHONE_INPUT:
        return None
    compact = _SEPARATORS.sub("", value.strip())
    return compact if _E164.fullmatch(compact) else None


def default_email_error(email: str) -> str | None:
    """The default email check (``email`` already trimmed)."""
    return None if is_valid_email(email) else EMAIL_INVALID


def default_phone_error(phone_number: str) -> str | None:
    """The default phone check: E.164 after dropping separators."""
    return None if normalise_phone_number(phone_number) is not None else PHONE_INVALID


def is_fake_email(email: str) -> bool:
    """Placeholder addresses some systems give users without one (spec 9.3): never a factor."""
    folded = normalise_email(email).lower()
    return folded.endswith(_FAKE_EMAIL_SUFFIXES)


def real_emails(user: UserRecord | None) -> list[str]:
    """The user's emails that can receive codes (no placeholders), oldest first."""
    found: list[str] = []
    for method in user.login_methods if user is not None else ():
        email = method.email
        if email is not None and not is_fake_email(email) and email not in found:
            found.append(email)
    return found


def phone_numbers(user: UserRecord | None) -> list[str]:
    found: list[str] = []
    for method in user.login_methods if user is not None else ():
        if method.phone_number is not None and method.phone_number not in found:
            found.append(method.phone_number)
    return found


def contact_on_file(user: UserRecord | None, contact: Contact) -> Contact | None:
    """The user's own address matching ``contact`` (emails compared by key), or None.

    Codes go to the address on file, never to the typed variant: a look-alike that folds to
    the same key must not receive the owner's code.
    """
    if contact.email is not None:
        key = email_key(contact.email)
        match = next((e for e in real_emails(user) if email_key(e) == key), None)
        return Contact(email=match) if match is not None else None
    if contact.phone_number in phone_numbers(user):
        return contact
    return None
