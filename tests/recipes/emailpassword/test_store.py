"""The user, credential, token and counter storage on SQLite, checked against what is stored."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bastion.bridge import run_sync
from bastion.storage.base import PasswordReset, SessionRecord
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
    assert _reset(store, digests[0], "h2", now_ms=T0 + 1000) is None  # expired
    assert _reset(store, digests[1], "h2") == PasswordReset("u", "u@example.com", [])
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
    assert _reset(store, digest, "h3") is None
    assert _rows(store, "SELECT password_hash FROM password_credentials") == [("h2",)]


def _reset(store: SQLiteStore, digest: str, new_hash: str, **options: Any) -> Any:
    kwargs: dict[str, Any] = {
        "purpose": PASSWORD_RESET,
        "new_hash": new_hash,
        "now_ms": T0,
        "revoke_sessions": False,
        "mark_email_verified": False,
    }
    kwargs.update(options)
    return run_sync(store.reset_password_with_token(digest, **kwargs))


def _session(store: SQLiteStore, handle: str, user_id: str) -> None:
    run_sync(
        store.create_session(
            SessionRecord(handle, user_id, user_id, "public", {}, {}, "h", None, None, T0, T0 + 10)
        )
    )


def test_a_reset_ends_everything_the_old_password_allowed_in_one_call(store: SQLiteStore) -> None:
    _user(store, "u", "u@example.com")
    _user(store, "v", "v@example.com")
    for handle, user in (("s1", "u"), ("s2", "u"), ("s3", "v")):
        _session(store, handle, user)
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
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "INSERT INTO rate_counters VALUES ('signin-account', 'k-u', ?, 10, 100)", (T0,)
        )
        conn.execute(
            "INSERT INTO rate_counters VALUES ('signin-account', 'k-v', ?, 10, 100)", (T0,)
        )
        for device, user, handle, purpose in (
            ("d1", "u", "s1", "factor"),  # a second-factor code bound to a revoked session
            ("d2", "u", None, "signinup"),  # a sign-in code: not bound to any session
            ("d3", "v", "s3", "factor"),
        ):
            conn.execute(
                "INSERT INTO passwordless_devices (pre_auth_session_id, tenant_id, email, "
                "email_key, purpose, user_id, session_handle, code_id, code_hash, "
                "link_code_hash, created_at_ms, code_created_at_ms, expires_at_ms) "
                "VALUES (?, 'public', 'x@example.com', 'x@example.com', ?, ?, ?, ?, 'h', 'l', "
                "?, ?, ?)",
                (device, purpose, user, handle, "c" + device, T0, T0, T0 + 1000),
            )
    done = _reset(
        store,
        digest,
        "h2",
        revoke_sessions=True,
        mark_email_verified=True,
        clear_counter=("signin-account", "k-u"),
    )
    assert done == PasswordReset("u", "u@example.com", ["s1", "s2"])
    assert _rows(store, "SELECT handle FROM sessions") == [("s3",)]
    assert _rows(store, "SELECT * FROM verified_emails") == [("u", "u@example.com")]
    assert _rows(store, "SELECT counter_key FROM rate_counters") == [("k-v",)]
    assert _rows(store, "SELECT pre_auth_session_id FROM passwordless_devices") == [
        ("d2",),
        ("d3",),
    ]
    assert _rows(
        store, "SELECT password_hash FROM password_credentials WHERE recipe_user_id = 'u'"
    )[0] == ("h2",)
    assert _reset(store, digest, "h3", revoke_sessions=True, mark_email_verified=True) is None


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
