"""PasswordlessStore: devices, the code check decided in core, and the users they sign in."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bastion.storage.base import PasswordlessDeviceRecord, Store
from tests.databases import rows
from tests.storage.contract.conftest import T0, run

MAX = 5


def device(pre: str = "pre1", **changes: Any) -> PasswordlessDeviceRecord:
    made = PasswordlessDeviceRecord(
        pre, "public", "Ann@Example.com", "ann@example.com", None, "signinup", None, None,
        f"code-{pre}", "c" * 64, "l" * 64, 0, T0, T0, T0 + 600_000,
    )  # fmt: skip
    return dataclasses.replace(made, **changes)


def consume(store: Store, pre: str = "pre1", *, code: str | None = "c" * 64, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "code_hash": code,
        "link_code_hash": None,
        "session_handle": None,
        "max_attempts": MAX,
        "now_ms": T0,
        "new_user_id": "new-user",
    }
    args.update(kw)
    return store.consume_passwordless_code(pre, **args)


def test_devices_are_found_by_contact_and_purged_when_long_expired(store: Store) -> None:
    run(store.add_passwordless_device(device("a"), purge_expired_before_ms=T0))
    run(
        store.add_passwordless_device(device("b", created_at_ms=T0 - 1), purge_expired_before_ms=T0)
    )
    sms = device("c", email=None, email_key=None, phone_number="+15555550100")
    run(store.add_passwordless_device(sms, purge_expired_before_ms=T0))
    assert run(store.get_passwordless_device("a")) == device("a")
    assert run(store.get_passwordless_device("zz")) is None
    by_email = run(store.list_passwordless_devices(tenant_id="public", email_key="ann@example.com"))
    assert [d.pre_auth_session_id for d in by_email] == ["b", "a"]
    by_phone = run(store.list_passwordless_devices(tenant_id="public", phone_number="+15555550100"))
    assert by_phone == [sms]
    with pytest.raises(ValueError, match="exactly one"):
        run(store.list_passwordless_devices(tenant_id="public"))
    run(store.add_passwordless_device(device("d"), purge_expired_before_ms=T0 + 600_001))
    assert [d.pre_auth_session_id for d in rows_of(store)] == ["d"]


def rows_of(store: Store) -> list[PasswordlessDeviceRecord]:
    return [PasswordlessDeviceRecord(*r) for r in rows(store, "SELECT * FROM passwordless_devices")]


def test_a_new_code_replaces_the_old_and_keeps_the_count(store: Store) -> None:
    run(store.add_passwordless_device(device(failed_attempts=2), purge_expired_before_ms=0))
    replaced = run(
        store.replace_passwordless_code(
            "pre1",
            code_id="code-2",
            code_hash="d" * 64,
            link_code_hash="m" * 64,
            now_ms=T0 + 5,
            expires_at_ms=T0 + 10,
        )
    )
    assert replaced == device(
        code_id="code-2",
        code_hash="d" * 64,
        link_code_hash="m" * 64,
        failed_attempts=2,
        code_created_at_ms=T0 + 5,
        expires_at_ms=T0 + 10,
    )
    assert run(consume(store)).status == "INCORRECT_CODE"  # the old code stopped working
    assert run(store.replace_passwordless_code(
        "gone", code_id="x", code_hash="x", link_code_hash="x", now_ms=T0, expires_at_ms=T0
    )) is None  # fmt: skip


def test_deleting_devices_needs_a_filter_and_matches_all_given(store: Store) -> None:
    run(store.add_passwordless_device(device("a"), purge_expired_before_ms=0))
    run(store.add_passwordless_device(device("b", tenant_id="t2"), purge_expired_before_ms=0))
    with pytest.raises(ValueError, match="filter"):
        run(store.delete_passwordless_devices())
    assert run(store.delete_passwordless_devices(tenant_id="t2", code_id="code-a")) == 0
    assert run(store.delete_passwordless_devices(email_key="ann@example.com")) == 2


def test_a_first_factor_code_creates_the_user_once_and_proves_the_email(store: Store) -> None:
    run(store.add_passwordless_device(device(), purge_expired_before_ms=0))
    done = run(consume(store))
    assert (done.status, done.user_id, done.created_login_method) == ("OK", "new-user", True)
    user = run(store.get_user("new-user"))
    assert user is not None and user.login_methods[0].verified is True
    assert run(store.get_passwordless_device("pre1")) is None  # used up
    run(store.add_passwordless_device(device("pre2"), purge_expired_before_ms=0))
    again = run(consume(store, "pre2", new_user_id="other"))
    assert (again.status, again.user_id, again.created_login_method) == ("OK", "new-user", False)


def test_wrong_expired_and_exhausted_codes(store: Store) -> None:
    run(store.add_passwordless_device(device(), purge_expired_before_ms=0))
    wrong = run(consume(store, code="w" * 64))
    assert (wrong.status, wrong.failed_attempts) == ("INCORRECT_CODE", 1)
    late = run(consume(store, now_ms=T0 + 600_000))
    assert (late.status, late.failed_attempts) == ("EXPIRED_CODE", 2)
    for n in (3, 4):
        assert run(consume(store, code="w" * 64)).failed_attempts == n
    last = run(consume(store, code="w" * 64))
    assert last.status == "RESTART"  # the last allowed failure ends the attempt
    assert run(store.get_passwordless_device("pre1")) is None
    assert run(consume(store)).status == "RESTART"


def test_a_device_answers_only_its_own_session_and_a_bad_link_changes_nothing(store: Store) -> None:
    bound = device(purpose="factor", user_id="u", session_handle="s1")
    run(store.add_passwordless_device(bound, purge_expired_before_ms=0))
    assert run(consume(store, session_handle=None)).status == "RESTART"
    assert run(consume(store, session_handle="s2")).status == "RESTART"
    assert run(consume(store, code=None, link_code_hash="x" * 64, session_handle="s1")).status == (
        "RESTART"
    )
    assert run(store.get_passwordless_device("pre1")) == bound  # untouched, attempts not counted
    with pytest.raises(ValueError, match="exactly one"):
        run(consume(store, code=None, session_handle="s1"))


def test_second_factor_and_setup_purposes(store: Store) -> None:
    run(
        store.get_or_create_passwordless_user(
            tenant_id="public",
            email=None,
            email_key=None,
            phone_number="+15555550100",
            new_user_id="u",
            now_ms=T0,
        )
    )
    # A challenge for a contact the user does not have: refused.
    challenge = device(purpose="factor", user_id="u", session_handle="s1")
    run(store.add_passwordless_device(challenge, purge_expired_before_ms=0))
    assert run(consume(store, session_handle="s1")).status == "RESTART"
    # Setting up the email adds it to the user and proves it.
    setup = device("pre2", purpose="setup", user_id="u", session_handle="s1")
    run(store.add_passwordless_device(setup, purge_expired_before_ms=0))
    done = run(consume(store, "pre2", session_handle="s1", new_user_id="lm-2"))
    assert (done.status, done.user_id, done.created_login_method) == ("OK", "u", True)
    got = run(store.get_user("u"))
    assert got is not None and {m.email for m in got.login_methods} == {None, "Ann@Example.com"}
    # Another user cannot set up a contact that is taken.
    run(store.create_password_user(
        user_id="v", tenant_id="public", email="v@example.com", email_key="v@example.com",
        password_hash="h", now_ms=T0,
    ))  # fmt: skip
    taken = device("pre3", purpose="setup", user_id="v", session_handle="s9")
    run(store.add_passwordless_device(taken, purge_expired_before_ms=0))
    assert run(consume(store, "pre3", session_handle="s9")).status == "CONTACT_TAKEN"
    # Now the challenge for the email passes.
    again = device("pre4", purpose="factor", user_id="u", session_handle="s1")
    run(store.add_passwordless_device(again, purge_expired_before_ms=0))
    assert run(consume(store, "pre4", session_handle="s1")).status == "OK"


def test_one_code_sent_many_times_at_once_signs_in_once(store: Store, concurrently: Any) -> None:
    run(store.add_passwordless_device(device(), purge_expired_before_ms=0))
    outcomes = concurrently(10, lambda i: consume(store, new_user_id=f"u{i}"))
    assert [o.status for o in outcomes].count("OK") == 1
    assert {o.status for o in outcomes} == {"OK", "RESTART"}
    assert rows(store, "SELECT COUNT(*) FROM users") == [(1,)]


def test_parallel_guesses_never_get_more_than_max_checks(store: Store, concurrently: Any) -> None:
    run(store.add_passwordless_device(device(), purge_expired_before_ms=0))
    outcomes = concurrently(20, lambda i: consume(store, code=f"{i:064d}"))
    statuses = [o.status for o in outcomes]
    assert statuses.count("INCORRECT_CODE") == MAX - 1
    assert statuses.count("RESTART") == 20 - (MAX - 1)
    assert sorted(o.failed_attempts for o in outcomes if o.status == "INCORRECT_CODE") == [
        1,
        2,
        3,
        4,
    ]


def test_one_contact_signed_up_on_two_devices_at_once_is_one_user(
    store: Store, concurrently: Any
) -> None:
    for i in range(6):
        run(store.add_passwordless_device(device(f"p{i}"), purge_expired_before_ms=0))
    outcomes = concurrently(6, lambda i: consume(store, f"p{i}", new_user_id=f"u{i}"))
    assert {o.status for o in outcomes} == {"OK"}
    assert len({o.user_id for o in outcomes}) == 1
    assert sum(o.created_login_method for o in outcomes) == 1


def test_get_or_create_makes_one_user_per_contact(store: Store, concurrently: Any) -> None:
    made = concurrently(
        8,
        lambda i: store.get_or_create_passwordless_user(
            tenant_id="public",
            email=None,
            email_key=None,
            phone_number="+15555550199",
            new_user_id=f"u{i}",
            now_ms=T0,
        ),
    )
    assert len({user.id for user, _ in made}) == 1
    assert sum(created for _, created in made) == 1
    found = run(store.list_users_by_phone_number("+15555550199", tenant_id="public"))
    assert [u.id for u in found] == [made[0][0].id]
    assert run(store.list_users_by_phone_number("+15555550199", tenant_id="t2")) == []
    with pytest.raises(ValueError, match="exactly one"):
        run(
            store.get_or_create_passwordless_user(
                tenant_id="public",
                email="a@b.c",
                email_key="a@b.c",
                phone_number="+15555550199",
                new_user_id="x",
                now_ms=T0,
            )
        )
