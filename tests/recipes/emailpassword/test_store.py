"""The user, credential, token and counter storage on SQLite, checked against what is stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bastion.bridge import run_sync
from bastion.storage.base import SessionRecord
from bastion.storage.sqlite import SQLiteStore
from bastion.users.tokens import EMAIL_VERIFICATION, PASSWORD_RESET, new_token

T0 = 1_800_000_000_000


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = SQLiteStore(str(tmp_path / "users.db"))
    yield opened
    opened.close()


def _user(store: SQLiteStore, user_id: str, email: str, at: int = T0) -> Any:
    return run_sync(
        store.create_password_user(
            user_id=user_id,
            tenant_id="public",
            email=email,
            email_key=email.lower(),
            password_hash="$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
            now_ms=at,
        )
    )


def _rows(store: SQLiteStore, sql: str, *params: Any) -> list[Any]:
    with sqlite3.connect(store.path) as conn:
        return conn.execute(sql, params).fetchall()


def test_one_account_per_email_key(store: SQLiteStore) -> None:
    first = _user(store, "u1", "Ann@Example.com")
    assert first.login_methods[0].email == "Ann@Example.com"
    assert _user(store, "u2", "ann@example.com") is None
    assert _rows(store, "SELECT id FROM users") == [("u1",)]
    assert _rows(store, "SELECT COUNT(*) FROM password_credentials") == [(1,)]


def test_pages_of_users_in_both_orders_with_ties(store: SQLiteStore) -> None:
    for i in range(7):
        _user(store, f"u{i}", f"p{i}@example.com", at=T0 + (i // 2))  # pairs share a time
    seen: list[str] = []
    after = None
    while True:
        page = run_sync(
            store.list_users(tenant_id="public", newest_first=False, limit=3, after=after)
        )
        if not page:
            break
        seen += [u.id for u in page]
        after = (page[-1].time_joined_ms, page[-1].id)
    assert seen == [f"u{i}" for i in range(7)]
    newest = run_sync(store.list_users(tenant_id="public", newest_first=True, limit=10, after=None))
    assert [u.id for u in newest] == [f"u{i}" for i in reversed(range(7))]
    assert run_sync(store.count_users(tenant_id="public")) == 7
    assert run_sync(store.count_users(tenant_id="other")) == 0


def test_delete_user_removes_everything_of_the_user(store: SQLiteStore) -> None:
    _user(store, "gone", "gone@example.com")
    _user(store, "kept", "kept@example.com")
    for owner in ("gone", "kept"):
        run_sync(
            store.create_session(
                SessionRecord(
                    f"h-{owner}", owner, owner, "public", {}, {}, "x", None, None, T0, T0 + 10**9
                )
            )
        )
        run_sync(store.set_email_verified(owner, f"{owner}@example.com", True))
        run_sync(
            store.add_token(
                new_token()[1],
                purpose=PASSWORD_RESET,
                user_id=owner,
                email_key=f"{owner}@example.com",
                expires_at_ms=T0 + 1000,
                now_ms=T0,
            )
        )
    assert run_sync(store.delete_user("gone")) is True
    assert run_sync(store.delete_user("gone")) is False
    for table, column in [
        ("users", "id"),
        ("login_methods", "user_id"),
        ("password_credentials", "recipe_user_id"),
        ("verified_emails", "recipe_user_id"),
        ("user_tokens", "user_id"),
        ("sessions", "user_id"),
    ]:
        rows = _rows(store, f"SELECT {column} FROM {table}")
        assert rows == [("kept",)], table


def test_tokens_are_single_use_expire_and_keep_to_their_purpose(store: SQLiteStore) -> None:
    _user(store, "u", "u@example.com")
    token, digest = new_token()
    other, other_digest = new_token()
    for value in (digest, other_digest):
        run_sync(
            store.add_token(
                value,
                purpose=EMAIL_VERIFICATION,
                user_id="u",
                email_key="u@example.com",
                expires_at_ms=T0 + 1000,
                now_ms=T0,
            )
        )
    # Only hashes are stored.
    stored = [r[0] for r in _rows(store, "SELECT token_hash FROM user_tokens")]
    assert token not in stored
    assert other not in stored
    assert run_sync(store.consume_token(digest, purpose=PASSWORD_RESET, now_ms=T0)) is None
    assert run_sync(store.find_token(digest, purpose=EMAIL_VERIFICATION, now_ms=T0 + 1000)) is None
    used = run_sync(store.consume_token(digest, purpose=EMAIL_VERIFICATION, now_ms=T0 + 999))
    assert used is not None
    assert used.user_id == "u"
    # Using one drops the user's other tokens of that purpose for that email.
    assert run_sync(store.consume_token(digest, purpose=EMAIL_VERIFICATION, now_ms=T0)) is None
    assert (
        run_sync(store.consume_token(other_digest, purpose=EMAIL_VERIFICATION, now_ms=T0)) is None
    )


def test_reset_with_token_checks_the_email_and_drops_every_reset_token(store: SQLiteStore) -> None:
    _user(store, "u", "u@example.com")
    digests = []
    for _ in range(3):
        _, digest = new_token()
        digests.append(digest)
        run_sync(
            store.add_token(
                digest,
                purpose=PASSWORD_RESET,
                user_id="u",
                email_key="u@example.com",
                expires_at_ms=T0 + 1000,
                now_ms=T0,
            )
        )
    assert (
        run_sync(
            store.reset_password_with_token(
                digests[0], purpose=PASSWORD_RESET, new_hash="h2", now_ms=T0 + 1000
            )
        )
        is None
    )  # expired
    assert (
        run_sync(
            store.reset_password_with_token(
                digests[1], purpose=PASSWORD_RESET, new_hash="h2", now_ms=T0
            )
        )
        == "u"
    )
    assert _rows(store, "SELECT password_hash FROM password_credentials") == [("h2",)]
    assert _rows(store, "SELECT COUNT(*) FROM user_tokens") == [(0,)]
    # A token issued before an email change no longer works.
    _, digest = new_token()
    run_sync(
        store.add_token(
            digest,
            purpose=PASSWORD_RESET,
            user_id="u",
            email_key="u@example.com",
            expires_at_ms=T0 + 1000,
            now_ms=T0,
        )
    )
    assert (
        run_sync(store.update_password_login("u", email=("new@example.com", "new@example.com")))
        == "OK"
    )
    assert (
        run_sync(
            store.reset_password_with_token(
                digest, purpose=PASSWORD_RESET, new_hash="h3", now_ms=T0
            )
        )
        is None
    )


def test_update_password_login_outcomes(store: SQLiteStore) -> None:
    _user(store, "a", "a@example.com")
    _user(store, "b", "b@example.com")
    assert run_sync(store.update_password_login("zzz", password_hash="h")) == "UNKNOWN_USER"
    assert (
        run_sync(store.update_password_login("a", email=("B@example.com", "b@example.com")))
        == "EMAIL_EXISTS"
    )
    assert (
        run_sync(store.update_password_login("a", email=("A@example.com", "a@example.com"))) == "OK"
    )
    assert _rows(store, "SELECT email FROM login_methods WHERE user_id = 'a'") == [
        ("A@example.com",)
    ]
    assert run_sync(store.replace_password_hash("a", "new", expected_hash="stale")) is False


def test_counters_are_atomic_windows_with_a_hard_stop(store: SQLiteStore) -> None:
    def take(now: int) -> tuple[bool, Any]:
        return run_sync(
            store.take_counter("n", "k", now_ms=now, window_ms=1000, max_hits=2, max_consecutive=5)
        )

    assert [take(T0)[0] for _ in range(3)] == [True, True, False]
    allowed, state = take(T0 + 999)
    assert not allowed
    assert (state.hits, state.consecutive, state.window_start_ms) == (2, 2, T0)
    assert take(T0 + 1000)[0]  # a new window
    run_sync(store.refund_counter("n", "k"))
    assert run_sync(store.get_counter("n", "k")).consecutive == 2
    assert take(T0 + 1001)[0]
    assert take(T0 + 5000)[0]
    assert take(T0 + 5001)[0]
    allowed, state = take(T0 + 99_000)
    assert not allowed
    assert state.consecutive == 5  # the hard stop outlives windows
    run_sync(store.clear_counter("n", "k"))
    assert run_sync(store.get_counter("n", "k")) is None
    assert take(T0 + 99_001)[0]
