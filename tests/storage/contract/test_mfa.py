"""TOTPStore, MFAStore and RecoveryCodeStore."""

from __future__ import annotations

import dataclasses
from typing import Any

from bastion.core.attempts import AttemptPolicy, AttemptState
from bastion.storage.base import RecoveryCodeRecord, Store, TOTPDeviceRecord
from tests.storage.contract.conftest import T0, run

POLICY = AttemptPolicy(max_attempts=5, cooldown_ms=900_000, hard_lock_after=8)


def device(device_id: str = "d1", name: str = "phone", **changes: Any) -> TOTPDeviceRecord:
    made = TOTPDeviceRecord(device_id, "u", name, "bx1.s", "SHA1", 6, 30, 1, False, T0, None)
    return dataclasses.replace(made, **changes)


def codes(prefix: str, n: int = 3) -> list[RecoveryCodeRecord]:
    return [
        RecoveryCodeRecord("u", f"{prefix}{i}", f"hash-{prefix}{i}", T0, None) for i in range(n)
    ]


# -- TOTP devices -------------------------------------------------------------------------------


def test_an_unverified_device_is_replaced_a_verified_one_is_kept(store: Store) -> None:
    assert run(store.put_totp_device(device("d1"))) is True
    assert run(store.put_totp_device(device("d2", sealed_secret="bx1.t"))) is True  # replaced
    assert [d.device_id for d in run(store.list_totp_devices("u"))] == ["d2"]
    assert run(store.accept_totp_step("d2", 10, mark_verified=True)) is True
    assert run(store.put_totp_device(device("d3"))) is False  # verified: nothing changes
    assert run(store.list_totp_devices("u")) == [
        device("d2", sealed_secret="bx1.t", verified=True, last_used_step=10)
    ]


def test_devices_list_in_creation_order(store: Store) -> None:
    for i, name in enumerate(["b", "a", "c"]):
        run(store.put_totp_device(device(f"d-{name}", name, created_at_ms=T0 + i // 2)))
    assert [d.name for d in run(store.list_totp_devices("u"))] == ["b", "a", "c"]
    assert run(store.list_totp_devices("nobody")) == []
    assert run(store.remove_totp_device("u", "a")) is True
    assert run(store.remove_totp_device("u", "a")) is False


def test_concurrent_enrolments_of_one_name_leave_one_device(
    store: Store, concurrently: Any
) -> None:
    outcomes = concurrently(8, lambda i: store.put_totp_device(device(f"d{i}")))
    assert all(outcomes)  # each replaced an unverified one
    assert len(run(store.list_totp_devices("u"))) == 1


def test_a_step_is_accepted_once_and_never_an_older_one(store: Store, concurrently: Any) -> None:
    run(store.put_totp_device(device()))
    run(store.begin_factor_attempt("u", now_ms=T0, policy=POLICY, honour_hard_lock=True))
    accepted = concurrently(10, lambda i: store.accept_totp_step("d1", 100, mark_verified=False))
    assert accepted.count(True) == 1
    assert run(store.get_factor_attempts("u")).failures == 0  # reset with the success
    assert run(store.accept_totp_step("d1", 99, mark_verified=False)) is False
    assert run(store.accept_totp_step("d1", 101, mark_verified=False)) is True
    assert run(store.list_totp_devices("u"))[0].verified is False
    assert run(store.accept_totp_step("missing", 200, mark_verified=True)) is False


def test_resealing_changes_only_what_differs(store: Store) -> None:
    run(store.put_totp_device(device("d1", "one")))
    run(store.put_totp_device(device("d2", "two", sealed_secret="bx2.s")))
    changed = run(store.reseal_totp_secrets(lambda d: d.sealed_secret.replace("bx1", "bx2")))
    assert changed == 1
    assert {d.sealed_secret for d in run(store.list_totp_devices("u"))} == {"bx2.s"}


# -- failed attempts ----------------------------------------------------------------------------


def test_parallel_guesses_get_exactly_the_attempts_left(store: Store, concurrently: Any) -> None:
    decisions = concurrently(
        20,
        lambda i: store.begin_factor_attempt("u", now_ms=T0, policy=POLICY, honour_hard_lock=True),
    )
    assert sum(d.allowed for d in decisions) == 5
    assert sorted(d.failures for d in decisions if d.allowed) == [1, 2, 3, 4, 5]
    assert run(store.get_factor_attempts("u")) == AttemptState(5, 5, T0)
    run(store.reset_factor_attempts("u"))
    assert run(store.get_factor_attempts("u")) == AttemptState(0, 0, T0)
    assert run(store.get_factor_attempts("nobody")) == AttemptState()


def test_the_hard_lock_holds_except_for_recovery_codes(store: Store) -> None:
    now = T0
    for _ in range(8):
        now += POLICY.cooldown_ms  # each run of failures is separated by a cooldown
        assert run(
            store.begin_factor_attempt("u", now_ms=now, policy=POLICY, honour_hard_lock=True)
        ).allowed
    locked = run(
        store.begin_factor_attempt("u", now_ms=now * 2, policy=POLICY, honour_hard_lock=True)
    )
    assert locked.hard_locked and not locked.allowed
    recovery = run(
        store.begin_factor_attempt("u", now_ms=now * 2, policy=POLICY, honour_hard_lock=False)
    )
    assert recovery.allowed


# -- required factors ---------------------------------------------------------------------------


def test_required_factors_keep_their_order_and_scope(store: Store) -> None:
    for factor in ("totp", "otp-email", "otp-phone"):
        assert run(store.add_required_factor("user", "u", factor)) is True
    assert run(store.add_required_factor("user", "u", "totp")) is False
    assert run(store.add_required_factor("app", "", "totp")) is True
    assert run(store.list_required_factors("user", "u")) == ["totp", "otp-email", "otp-phone"]
    assert run(store.remove_required_factor("user", "u", "otp-email")) is True
    assert run(store.remove_required_factor("user", "u", "otp-email")) is False
    assert run(store.list_required_factors("user", "u")) == ["totp", "otp-phone"]
    assert run(store.list_required_factors("app", "")) == ["totp"]


def test_deleting_mfa_data_takes_only_that_users(store: Store) -> None:
    run(store.put_totp_device(device()))
    run(store.put_totp_device(device("dv", user_id="v")))
    run(store.replace_recovery_codes("u", codes("a")))
    run(store.begin_factor_attempt("u", now_ms=T0, policy=POLICY, honour_hard_lock=True))
    run(store.add_required_factor("user", "u", "totp"))
    run(store.add_required_factor("app", "", "totp"))
    run(store.delete_mfa_data("u"))
    assert run(store.list_totp_devices("u")) == []
    assert run(store.list_recovery_codes("u")) == []
    assert run(store.get_factor_attempts("u")) == AttemptState()
    assert run(store.list_required_factors("user", "u")) == []
    assert run(store.list_required_factors("app", "")) == ["totp"]
    assert len(run(store.list_totp_devices("v"))) == 1


# -- recovery codes -----------------------------------------------------------------------------


def test_recovery_codes_are_replaced_whole_and_listed_in_order(store: Store) -> None:
    run(store.replace_recovery_codes("u", codes("a")))
    run(store.replace_recovery_codes("u", codes("b", 4)))
    assert [c.code_id for c in run(store.list_recovery_codes("u"))] == ["b0", "b1", "b2", "b3"]


def test_concurrent_replacements_keep_one_whole_set(store: Store, concurrently: Any) -> None:
    concurrently(6, lambda i: store.replace_recovery_codes("u", codes(f"s{i}-", 5)))
    kept = {c.code_id.split("-")[0] for c in run(store.list_recovery_codes("u"))}
    assert len(kept) == 1 and len(run(store.list_recovery_codes("u"))) == 5


def test_a_recovery_code_works_once_whoever_races(store: Store, concurrently: Any) -> None:
    run(store.replace_recovery_codes("u", codes("a")))
    used = concurrently(
        10,
        lambda i: store.use_recovery_code("u", "a0", "hash-a0", now_ms=T0, reset_attempts=True),
    )
    assert used.count(True) == 1
    assert run(store.list_recovery_codes("u"))[0].used_at_ms == T0
    assert run(store.use_recovery_code("u", "a1", "wrong", now_ms=T0, reset_attempts=True)) is False


def test_a_recovery_code_clears_or_refunds_the_attempt_counter(store: Store) -> None:
    run(store.replace_recovery_codes("u", codes("a")))
    for _ in range(3):
        run(store.begin_factor_attempt("u", now_ms=T0, policy=POLICY, honour_hard_lock=False))
    run(store.use_recovery_code("u", "a0", "hash-a0", now_ms=T0, reset_attempts=False))
    assert run(store.get_factor_attempts("u")).failures == 2  # this attempt's failure taken back
    run(store.use_recovery_code("u", "a1", "hash-a1", now_ms=T0, reset_attempts=True))
    attempts = run(store.get_factor_attempts("u"))
    assert (attempts.failures, attempts.consecutive) == (0, 0)
