"""The shipped common-password list and the screening function on their own."""

from __future__ import annotations

import random
from importlib import resources

from bastion.recipe.emailpassword.screening import (
    COMMON_PASSWORD,
    CONTEXT_PASSWORD,
    common_passwords,
    context_words,
    screen_password,
)


def test_every_listed_password_is_refused_and_passphrases_are_not() -> None:
    listed = common_passwords()
    assert len(listed) >= 9900
    assert all(screen_password(p, context=[], blocklist=listed) for p in listed)
    assert all(screen_password(p.upper(), context=[], blocklist=listed) for p in listed)
    # A control set: 3,000 passphrases of four listed words each are not refused.
    words = sorted(p for p in listed if p.isalpha() and len(p) >= 4)
    rng = random.Random(8)
    phrases = {" ".join(rng.sample(words, 4)) for _ in range(3000)}
    assert len(phrases) == 3000
    assert [p for p in phrases if screen_password(p, context=[], blocklist=listed)] == []


def test_the_list_is_shipped_with_its_source_and_licence() -> None:
    data = resources.files("bastion.recipe.emailpassword").joinpath("data")
    lines = data.joinpath("common-passwords.txt").read_text("utf-8").splitlines()
    assert lines == sorted(set(lines))
    assert all(line == line.casefold() for line in lines)
    source = data.joinpath("common-passwords.SOURCE.md").read_text("utf-8")
    assert "SecLists" in source
    assert "MIT License" in source


def test_context_words_and_what_they_refuse() -> None:
    words = context_words("ada.lovelace+news@example.com", "My Bank", ["Acme Corp"])
    assert {"ada", "lovelace", "news", "bank", "acme", "corp"} <= set(words)
    listed = common_passwords()

    def verdict(password: str) -> str | None:
        return screen_password(password, context=words, blocklist=listed)

    assert verdict("Lovelace!1815") == CONTEXT_PASSWORD
    assert verdict("MyBank2024") == CONTEXT_PASSWORD
    assert verdict("acme-corp-99") == CONTEXT_PASSWORD
    assert verdict("lovelace wrote the first program") is None  # more than the name
    assert verdict("monkey") == COMMON_PASSWORD
    assert screen_password("monkey", context=[], blocklist=None) is None  # blocklist off
