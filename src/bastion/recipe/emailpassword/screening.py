"""Which new passwords are refused, and why: the composition rule and the screening.

NIST SP 800-63B (5.1.1.2) and ASVS 5.0 (6.2.4, 6.2.11) ask that a new password be checked
against commonly used passwords and words from the context (the service's name, the user's
name); :class:`PasswordPolicy` does that at sign-up, reset and change, on top of its rule:

- ``supertokens`` (the default): SuperTokens' own rule, 8 to 99 characters with a letter and a
  digit, the one the prebuilt UI checks in the browser too;
- ``length`` (:meth:`PasswordPolicy.nist`): ``min_length`` to ``max_length`` characters and
  nothing else, as NIST asks (no composition rules).

Comparisons are on the NFKC-normalised, case-folded password. A password is *common* when it,
or what is left after trimming digits, spaces and punctuation from both ends
(``Password2024!`` → ``password``), is on the shipped list of 9,913 common passwords
(``data/common-passwords.txt``; its source and licence are beside it). It is *based on the
context* when it contains a context word (the email's local part, the app's name, the policy's
``context_words``, each also in its parts; 3 letters or digits at least) and fewer than 4
letters are left once the word is taken out (``alice1984`` for ``alice@example.com``,
``Bastion-app!`` for an app called "Bastion").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from bastion.errors import ConfigError

__all__ = [
    "COMMON_PASSWORD",
    "CONTEXT_PASSWORD",
    "PasswordPolicy",
    "common_passwords",
    "context_words",
    "screen_password",
]

COMMON_PASSWORD = "This password is too common: please choose one that is harder to guess"
CONTEXT_PASSWORD = (
    "Password must not be based on your email address or the name of this site: please choose "
    "another"
)
MIN_CONTEXT_WORD = 3
MIN_OTHER_LETTERS = 4
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_NOT_ALNUM = re.compile(r"[\W_]+")
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9]")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list (NFKC, case-folded), read once per process."""
    text = (
        resources.files("bastion.recipe.emailpassword")
        .joinpath("data/common-passwords.txt")
        .read_text("utf-8")
    )
    return frozenset(line for line in text.splitlines() if line)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _alnum(text: str) -> str:
    return _NOT_ALNUM.sub("", text)


def screen_password(
    password: str, *, context: Iterable[str], blocklist: frozenset[str] | None
) -> str | None:
    """Why ``password`` is refused (a message for the user), or None when it may be used.

    Args:
        context: words the password must not be based on (email local part, app name, ...).
        blocklist: common passwords (folded), or None to skip that check.
    """
    folded = _fold(password)
    if blocklist is not None:
        trimmed = _EDGES.sub("", folded)
        if folded in blocklist or folded.strip() in blocklist or trimmed in blocklist:
            return COMMON_PASSWORD
    letters = _alnum(folded)
    for word in context:
        key = _alnum(_fold(word))
        if len(key) < MIN_CONTEXT_WORD or key not in letters:
            continue
        rest = letters.replace(key, "", 1)
        if sum(ch.isalpha() for ch in rest) < MIN_OTHER_LETTERS:
            return CONTEXT_PASSWORD
    return None


def context_words(email: str | None, app_name: str, extra: Iterable[str]) -> list[str]:
    """The words a user's password is screened against: each given whole and in its parts
    (``ada.lovelace``: also ``ada`` and ``lovelace``; ``My Bank``: also ``bank``)."""
    given = [app_name, *extra]
    if email:
        given.append(email.rsplit("@", 1)[0])
    words: list[str] = []
    for word in given:
        words.append(word)
        words.extend(_NOT_ALNUM.split(_fold(word)))
    return words


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordPolicy:
    """How new passwords are checked: ``emailpassword.init(password_policy=...)``.

    The default keeps SuperTokens' rule and adds the screening; :meth:`nist` is the
    NIST SP 800-63B policy (length only, 8 to 128, screening). A ``validate`` given for the
    ``password`` sign-up field replaces the rule, never the screening.
    """

    rule: Literal["supertokens", "length"] = "supertokens"
    """``supertokens``: 8 to 99 characters with a letter and a digit; ``length``: between
    ``min_length`` and ``max_length`` characters."""
    min_length: int = 8
    """Shortest password (``length`` rule)."""
    max_length: int = 128
    """Longest password (``length`` rule); at most the hashing limit, 128 by default."""
    blocklist: bool = True
    """Refuse the common passwords of the shipped list."""
    context_words: tuple[str, ...] = ()
    """More words a password must not be based on (a company name), besides the app name and
    the email's local part."""

    def __post_init__(self) -> None:
        if self.rule not in ("supertokens", "length"):
            raise ConfigError("PasswordPolicy.rule must be 'supertokens' or 'length'")
        if not 1 <= self.min_length <= self.max_length:
            raise ConfigError("PasswordPolicy needs 1 <= min_length <= max_length")
        words: object = self.context_words  # typed as a tuple; a str would pass as one
        if isinstance(words, str):
            raise ConfigError("PasswordPolicy.context_words must be a tuple of words")

    @classmethod
    def nist(cls, **changes: Any) -> PasswordPolicy:
        """Length only (8 to 128 characters), common and context passwords refused."""
        return cls(rule="length", **changes)

    def check_rule(self, value: Any) -> str | None:
        """The rule's message for ``value``, or None (the default ``password`` validator)."""
        if not isinstance(value, str):
            return "Development bug: Please make sure the password field yields a string"
        if self.rule == "supertokens":
            return _supertokens_rule(value)
        if len(value) < self.min_length:
            return f"Password must contain at least {self.min_length} characters"
        if len(value) > self.max_length:
            return f"Password's length must be at most {self.max_length} characters"
        return None

    def screen(self, password: str, *, email: str | None, app_name: str) -> str | None:
        """The screening's message for ``password``, or None."""
        return screen_password(
            password,
            context=context_words(email, app_name, self.context_words),
            blocklist=common_passwords() if self.blocklist else None,
        )


def _supertokens_rule(value: str) -> str | None:
    """SuperTokens' default sign-up rule, with its messages (spec 7.2)."""
    if len(value) < 8:
        return "Password must contain at least 8 characters, including a number"
    if len(value) >= 100:
        return "Password's length must be lesser than 100 characters"
    if _LETTER.search(value) is None:
        return "Password must contain at least one alphabet"
    if _DIGIT.search(value) is None:
        return "Password must contain at least one number"
    return None
