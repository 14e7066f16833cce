"""UserStore, CredentialStore, TokenStore and CounterStore, checked against what is stored."""

from __future__ import annotations

from typing import Any

from bastion.bridge import run_sync
from bastion.storage.base import PasswordlessDeviceRecord, PasswordReset, SessionRecord, Store
from bastion.users.tokens import EMAIL_VERIFICATION, PASSWORD_RESET, new_token
from tests.databases import rows
from tests.storage.contract.conftest import T0


def _user(store: Store, user_id: str, email: str, at: int = T0) -> Any:
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


def _token(store: Store, digest: str, purpose: str) -> None:
    """A token of ``purpose`` for u@example.com, live for 1 s from ``T0``."""
    run_sync(
        store.add_token(
            digest,
            purpose=purpose,
            user_id="u",
            email_key="u@example.com",
            expires_at_ms=T0 + 1000,
            now_ms=T0,
        )
    )


def _rows(store: Store, sql: str, *params: Any) -> list[Any]:
    return rows(store, sql, *params)


def test_one_account_per_email_key(store: Store) -> None:
    first = _user(store, "u1", "Ann@Example.com")
    assert first.login_methods[0].email == "Ann@Example.com"
    assert _user(store, "u2", "ann@example.com") is None
    assert _rows(store, "SELECT id FROM users") == [("u1",)]
    assert _rows(store, "SELECT COUNT(*) FROM password_credentials") == [(1,)]


def test_pages_of_users_in_both_orders_with_ties(store: Store) -> None:
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


def test_delete_user_removes_everything_of_the_user(store: Store) -> None:
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


def test_tokens_are_single_use_expire_and_keep_to_their_purpose(store: Store) -> None:
    _user(store, "u", "u@example.com")
    token, digest = new_token()
    other, other_digest = new_token()
    for value in (digest, other_digest):
        _token(store, value, EMAIL_VERIFICATION)
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


def test_reset_with_token_checks_the_email_and_drops_every_reset_token(store: Store) -> None:
    _user(store, "u", "u@example.com")
    digests = []
    for _ in range(3):
        _, digest = new_token()
        digests.append(digest)
        _token(store, digest, PASSWORD_RESET)
    assert _reset(store, digests[0], "h2", now_ms=T0 + 1000) is None  # expired
    assert _reset(store, digests[1], "h2") == PasswordReset("u", "u@example.com", [])
    assert _rows(store, "SELECT password_hash FROM password_credentials") == [("h2",)]
    assert _rows(store, "SELECT COUNT(*) FROM user_tokens") == [(0,)]
    # A token issued before an email change no longer works.
    _, digest = new_token()
    _token(store, digest, PASSWORD_RESET)
    assert (
        run_sync(store.update_password_login("u", email=("new@example.com", "new@example.com")))
        == "OK"
    )
    assert _reset(store, digest, "h3") is None
    assert _rows(store, "SELECT password_hash FROM password_credentials") == [("h2",)]


def _reset(store: Store, digest: str, new_hash: str, **options: Any) -> Any:
    kwargs: dict[str, Any] = {
        "purpose": PASSWORD_RESET,
        "new_hash": new_hash,
        "now_ms": T0,
        "revoke_sessions": False,
        "mark_email_verified": False,
    }
    kwargs.update(options)
    return run_sync(store.reset_password_with_token(digest, **kwargs))


def _session(store: Store, handle: str, user_id: str) -> None:
    run_sync(
        store.create_session(
            SessionRecord(handle, user_id, user_id, "public", {}, {}, "h", None, None, T0, T0 + 10)
        )
    )


def test_a_reset_ends_everything_the_old_password_allowed_in_one_call(store: Store) -> None:
    _user(store, "u", "u@example.com")
    _user(store, "v", "v@example.com")
    for handle, user in (("s1", "u"), ("s2", "u"), ("s3", "v")):
        _session(store, handle, user)
    _, digest = new_token()
    _token(store, digest, PASSWORD_RESET)
    for key in ("k-u", "k-v"):
        run_sync(
            store.take_counter(
                "signin-account", key, now_ms=T0, window_ms=1000, max_hits=10, max_consecutive=100
            )
        )
    for device, user, handle, purpose in (
        ("d1", "u", "s1", "factor"),  # a second-factor code bound to a revoked session
        ("d2", "u", None, "signinup"),  # a sign-in code: not bound to any session
        ("d3", "v", "s3", "factor"),
    ):
        run_sync(
            store.add_passwordless_device(
                PasswordlessDeviceRecord(
                    device,
                    "public",
                    "x@example.com",
                    "x@example.com",
                    None,
                    purpose,
                    user,
                    handle,
                    "c" + device,
                    "h",
                    "l",
                    0,
                    T0,
                    T0,
                    T0 + 1000,
                ),
                purge_expired_before_ms=0,
            )
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
    assert _rows(store, "SELECT recipe_user_id, email_key FROM verified_emails") == [
        ("u", "u@example.com")
    ]
    assert _rows(store, "SELECT counter_key FROM rate_counters") == [("k-v",)]
    assert _rows(
        store, "SELECT pre_auth_session_id FROM passwordless_devices ORDER BY pre_auth_session_id"
    ) == [("d2",), ("d3",)]
    assert _rows(
        store, "SELECT password_hash FROM password_credentials WHERE recipe_user_id = 'u'"
    )[0] == ("h2",)
    assert _reset(store, digest, "h3", revoke_sessions=True, mark_email_verified=True) is None


def test_update_password_login_outcomes(store: Store) -> None:
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


def test_counters_are_atomic_windows_with_a_hard_stop(store: Store) -> None:
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


# -- guarantees under concurrent callers ------------------------------------------------------


def test_one_email_signed_up_at_once_makes_one_user(store: Store, concurrently: Any) -> None:
    made = concurrently(
        12,
        lambda i: store.create_password_user(
            user_id=f"u{i}",
            tenant_id="public",
            email="Race@example.com",
            email_key="race@example.com",
            password_hash="h",
            now_ms=T0,
        ),
    )
    winners = [m for m in made if m is not None]
    assert len(winners) == 1
    assert _rows(store, "SELECT COUNT(*) FROM users") == [(1,)]
    assert _rows(store, "SELECT COUNT(*) FROM password_credentials") == [(1,)]
    # The same email in another tenant is another account.
    other = run_sync(
        store.create_password_user(
            user_id="t2",
            tenant_id="t2",
            email="race@example.com",
            email_key="race@example.com",
            password_hash="h",
            now_ms=T0,
        )
    )
    assert other is not None


def test_two_logins_moving_to_one_email_at_once(store: Store, concurrently: Any) -> None:
    _user(store, "a", "a@example.com")
    _user(store, "b", "b@example.com")
    outcomes = concurrently(
        2,
        lambda i: store.update_password_login(
            "ab"[i], email=("Same@example.com", "same@example.com")
        ),
    )
    assert sorted(outcomes) == ["EMAIL_EXISTS", "OK"]
    assert _rows(
        store, "SELECT COUNT(*) FROM login_methods WHERE email_key = ?", "same@example.com"
    ) == [(1,)]


def test_a_reset_token_works_once_however_many_use_it(store: Store, concurrently: Any) -> None:
    _user(store, "u", "u@example.com")
    _, digest = new_token()
    _token(store, digest, PASSWORD_RESET)
    done = concurrently(
        10,
        lambda i: store.reset_password_with_token(
            digest,
            purpose=PASSWORD_RESET,
            new_hash=f"h{i}",
            now_ms=T0,
            revoke_sessions=True,
            mark_email_verified=False,
        ),
    )
    assert [d.recipe_user_id for d in done if d is not None] == ["u"]
    winner = next(i for i, d in enumerate(done) if d is not None)
    assert _rows(store, "SELECT password_hash FROM password_credentials") == [(f"h{winner}",)]


def test_a_token_is_consumed_once(store: Store, concurrently: Any) -> None:
    _user(store, "u", "u@example.com")
    _, digest = new_token()
    _token(store, digest, EMAIL_VERIFICATION)
    got = concurrently(
        10, lambda i: store.consume_token(digest, purpose=EMAIL_VERIFICATION, now_ms=T0)
    )
    assert sum(g is not None for g in got) == 1


def test_an_expired_token_is_used_up_by_trying_it(store: Store) -> None:
    _, digest = new_token()
    run_sync(
        store.add_token(
            digest,
            purpose=EMAIL_VERIFICATION,
            user_id="u",
            email_key="u@example.com",
            expires_at_ms=T0,
            now_ms=T0 - 1,
        )
    )
    assert run_sync(store.consume_token(digest, purpose=EMAIL_VERIFICATION, now_ms=T0)) is None
    assert _rows(store, "SELECT COUNT(*) FROM user_tokens") == [(0,)]


def test_adding_a_token_drops_the_users_expired_ones_and_delete_counts(store: Store) -> None:
    for i, (purpose, expires) in enumerate(
        [(PASSWORD_RESET, T0), (PASSWORD_RESET, T0 + 5), (EMAIL_VERIFICATION, T0 + 5)]
    ):
        run_sync(
            store.add_token(
                f"t{i}",
                purpose=purpose,
                user_id="u",
                email_key="u@example.com",
                expires_at_ms=expires,
                now_ms=T0 if i else T0 - 10,
            )
        )
    assert sorted(r[0] for r in _rows(store, "SELECT token_hash FROM user_tokens")) == ["t1", "t2"]
    found = run_sync(store.find_token("t1", purpose=PASSWORD_RESET, now_ms=T0))
    assert found is not None and found.email_key == "u@example.com"
    assert run_sync(store.delete_tokens("u", purpose=PASSWORD_RESET)) == 1
    assert run_sync(store.delete_tokens("u")) == 1
    assert run_sync(store.delete_tokens("u")) == 0


def test_a_rehash_never_undoes_a_concurrent_password_change(store: Store) -> None:
    _user(store, "u", "u@example.com")
    current = run_sync(store.get_password_credential_of_user("u"))
    assert current is not None
    assert run_sync(store.update_password_login("u", password_hash="changed")) == "OK"
    assert (
        run_sync(store.replace_password_hash("u", "rehashed", expected_hash=current.password_hash))
        is False
    )
    assert run_sync(store.replace_password_hash("u", "rehashed", expected_hash="changed")) is True
    by_email = run_sync(store.get_password_credential("u@example.com", tenant_id="public"))
    assert by_email is not None and by_email.password_hash == "rehashed"
    assert run_sync(store.get_password_credential("u@example.com", tenant_id="t2")) is None


def test_users_by_recipe_user_id_and_email_and_verification(store: Store) -> None:
    _user(store, "u", "u@example.com")
    assert run_sync(store.get_user("missing")) is None
    user = run_sync(store.get_user("u"))
    assert user is not None and user.login_methods[0].verified is False
    run_sync(store.set_email_verified("u", "u@example.com", True))
    run_sync(store.set_email_verified("u", "u@example.com", True))  # idempotent
    assert run_sync(store.is_email_verified("u", "u@example.com")) is True
    user = run_sync(store.get_user("u"))
    assert user is not None and user.login_methods[0].verified is True
    assert [
        u.id for u in run_sync(store.list_users_by_email("u@example.com", tenant_id="public"))
    ] == ["u"]
    assert run_sync(store.list_users_by_email("u@example.com", tenant_id="t2")) == []
    run_sync(store.set_email_verified("u", "u@example.com", False))
    assert run_sync(store.is_email_verified("u", "u@example.com")) is False


def test_throttle_counts_no_more_than_its_limit_under_a_crowd(
    store: Store, concurrently: Any
) -> None:
    taken = concurrently(
        30,
        lambda i: store.take_counter(
            "crowd", "k", now_ms=T0, window_ms=60_000, max_hits=5, max_consecutive=None
        ),
    )
    assert sum(allowed for allowed, _ in taken) == 5
    state = run_sync(store.get_counter("crowd", "k"))
    assert state is not None and (state.hits, state.consecutive) == (5, 5)
    run_sync(store.refund_counter("crowd", "k"))
    for _ in range(10):
        run_sync(store.refund_counter("crowd", "k"))  # never below zero
    state = run_sync(store.get_counter("crowd", "k"))
    assert state is not None and (state.hits, state.consecutive) == (0, 0)
    assert run_sync(store.get_counter("crowd", "other")) is None
