"""Secrets at rest, key rotation, replay across processes, and the pure MFA building blocks."""

from __future__ import annotations

import base64
import multiprocessing
from pathlib import Path
from typing import Any

import pyotp
import pytest

import bastion
from bastion.bridge import run_sync
from bastion.clock import ManualClock
from bastion.core.attempts import AttemptPolicy, AttemptState, begin_attempt
from bastion.core.crypto import DecryptionError, SecretBox, generate_key, parse_key
from bastion.core.mfa import next_unsatisfied, requirement_failure, validate_requirements
from bastion.core.otp import InvalidSecretError, new_secret, otpauth_uri, parse_base32_secret
from bastion.core.recovery_codes import parse_code
from bastion.errors import ConfigError
from bastion.recipe import multifactorauth, session, totp
from bastion.recipe.totp import syncio as totp_syncio
from bastion.storage import open_store
from bastion.storage.base import TOTPDeviceRecord
from tests.conftest import app_info
from tests.databases import Databases, dump
from tests.recipes.mfa.conftest import T0_MS

# -- encryption -----------------------------------------------------------------------------


def test_secret_box_seals_opens_and_rotates() -> None:
    old, new = generate_key(), generate_key()
    box = SecretBox([old])
    sealed = box.seal(b"seed", b"totp:u:d")
    assert sealed.startswith("bx1.") and "seed" not in sealed
    assert box.open(sealed, b"totp:u:d") == b"seed"
    with pytest.raises(DecryptionError):
        box.open(sealed, b"totp:u:other")  # bound to its row
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(DecryptionError):
        box.open(tampered, b"totp:u:d")
    rotated = SecretBox([new, old])
    assert rotated.open(sealed, b"totp:u:d") == b"seed" and rotated.needs_reseal(sealed)
    resealed = rotated.reseal(sealed, b"totp:u:d")
    assert not rotated.needs_reseal(resealed)
    with pytest.raises(DecryptionError):
        SecretBox([new]).open(sealed, b"totp:u:d")  # the old key is gone
    assert SecretBox([new]).open(resealed, b"totp:u:d") == b"seed"


def test_encryption_keys_accept_hex_and_base64_only_of_256_bits() -> None:
    raw = bytes(range(32))
    assert parse_key(raw.hex()) == parse_key(raw) == raw
    assert parse_key(base64.b64encode(raw).decode()) == raw
    assert parse_key(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    assert parse_key(generate_key()) != parse_key(generate_key())
    for bad in ("short", "00" * 31, b"x" * 16):
        with pytest.raises(ValueError, match=r"32 bytes|hex or base64"):
            parse_key(bad)


def _app(db: str, keys: list[str] | None, clock: ManualClock) -> bastion.Bastion:
    return bastion.init(
        app_info=app_info(),
        recipe_list=[session.init(), multifactorauth.init(), totp.init()],
        database_url=db,
        clock=clock,
        encryption_keys=keys,
    )


def test_totp_secrets_are_encrypted_at_rest_and_survive_key_rotation(
    databases: Databases,
) -> None:
    db, clock = databases.fresh(), ManualClock(T0_MS)
    old, new = generate_key(), generate_key()
    app = _app(db, [old], clock)
    created = totp_syncio.create_device("user-1", "phone")
    secret = created["secret"]
    code = pyotp.TOTP(secret).at(clock.now_ms() // 1000)
    assert totp_syncio.verify_device("user-1", "phone", code)["status"] == "OK"
    raw = parse_base32_secret(secret)
    everything = dump(app.store)
    assert "bx1." in everything
    assert secret not in everything and raw.hex() not in everything
    app.close()

    app = _app(db, [new, old], clock)  # new key first: old secrets still open
    clock.advance(30)
    assert totp_syncio.verify_totp("user-1", pyotp.TOTP(secret).at(clock.now_ms() // 1000)) == {
        "status": "OK"
    }
    assert totp_syncio.reencrypt_secrets() == 1
    assert totp_syncio.reencrypt_secrets() == 0
    app.close()

    app = _app(db, [new], clock)  # the old key can go
    clock.advance(30)
    assert totp_syncio.verify_totp("user-1", pyotp.TOTP(secret).at(clock.now_ms() // 1000)) == {
        "status": "OK"
    }
    app.close()


def test_without_keys_one_is_generated_and_kept(databases: Databases) -> None:
    db, clock = databases.fresh(), ManualClock(T0_MS)
    app = _app(db, None, clock)
    secret = totp_syncio.create_device("user-1", "phone")["secret"]
    app.close()
    app = _app(db, None, clock)  # the same generated key is found again
    code = pyotp.TOTP(secret).at(clock.now_ms() // 1000)
    assert totp_syncio.verify_device("user-1", "phone", code)["status"] == "OK"
    app.close()


def test_totp_needs_the_mfa_recipe(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="multifactorauth"):
        bastion.init(
            app_info=app_info(),
            recipe_list=[session.init(), totp.init()],
            database_url=f"sqlite:///{tmp_path / 'x.db'}",
        )


# -- replay across processes ----------------------------------------------------------------


def _accept(url: str, device_id: str, step: int, barrier: Any, results: Any) -> None:
    store = open_store(url)
    barrier.wait()
    results.put(run_sync(store.accept_totp_step(device_id, step, mark_verified=False)))
    store.close()


def test_a_step_is_accepted_once_across_processes(databases: Databases) -> None:
    path = databases.fresh()
    store = open_store(path)
    device = TOTPDeviceRecord("d1", "user-1", "phone", "bx1.x.y", "SHA1", 6, 30, 1, True, 0, None)
    assert run_sync(store.put_totp_device(device))
    store.close()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [
        context.Process(target=_accept, args=(path, "d1", 100, barrier, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(outcomes) == [False, False, False, True]


# -- pure building blocks -------------------------------------------------------------------


def test_attempt_policy_counts_first_and_never_lifts_on_a_clock_step_back() -> None:
    policy = AttemptPolicy(max_attempts=2, cooldown_ms=1000, hard_lock_after=4)
    state = AttemptState()
    for n in (1, 2):
        decision = begin_attempt(state, 0, policy)
        assert decision.allowed and decision.failures == n
        state = decision.state
    refused = begin_attempt(state, 400, policy)
    assert (refused.allowed, refused.retry_after_ms, refused.state) == (False, 600, state)
    assert not begin_attempt(state, -5000, policy).allowed  # the clock went back
    state = begin_attempt(state, 1000, policy).state  # a new run, still consecutive
    state = begin_attempt(state, 1000, policy).state
    assert state.consecutive == 4
    locked = begin_attempt(state, 10**9, policy)
    assert locked.hard_locked and not locked.allowed
    assert begin_attempt(state, 10**9, policy, honour_hard_lock=False).allowed
    with pytest.raises(ValueError, match="hard_lock_after"):
        AttemptPolicy(max_attempts=5, hard_lock_after=4)


def test_requirement_grammar_and_reasons() -> None:
    reqs = validate_requirements(["emailpassword", {"oneOf": ["totp", "otp-email"]}])
    assert next_unsatisfied({"emailpassword"}, reqs) == ["totp", "otp-email"]
    assert next_unsatisfied({"emailpassword", "totp"}, reqs) == []
    assert requirement_failure(set(), reqs) == {
        "message": "Factor validation failed: emailpassword not completed",
        "factorId": "emailpassword",
    }
    assert requirement_failure({"emailpassword"}, reqs) == {
        "message": "None of these factors are complete in the session: totp, otp-email",
        "oneOf": ["totp", "otp-email"],
    }
    all_of = [{"allOfInAnyOrder": ["totp", "otp-email"]}]
    assert requirement_failure({"totp"}, all_of) == {
        "message": "Some of the factors are not complete in the session: otp-email",
        "allOfInAnyOrder": ["otp-email"],
    }
    for bad in ("totp", [{"anyOf": ["totp"]}], [3], [{"oneOf": "totp"}]):
        with pytest.raises(ValueError, match="requirement"):
            validate_requirements(bad)


def test_base32_and_uri_edges() -> None:
    for bad in ("", "GEZD0", "GEZD1NBV", "GEZD8", "é", "A" * 2000):
        with pytest.raises(InvalidSecretError):
            parse_base32_secret(bad)
    secrets_made = {new_secret() for _ in range(10_000)}
    assert len(secrets_made) == 10_000 and {len(s) for s in secrets_made} == {20}
    uri = otpauth_uri("ABC", issuer="My App", account="a@b.c", digits=8, algorithm="SHA256")
    assert uri == (
        "otpauth://totp/My%20App:a%40b.c?secret=ABC&issuer=My%20App&digits=8&period=30"
        "&algorithm=SHA256"
    )


def test_recovery_code_typing_is_forgiving_but_strict_about_alphabet() -> None:
    parsed = parse_code("abcd-efgh-jkmn")
    assert parsed is not None and (parsed.code_id, parsed.secret) == ("AB", "CDEFGHJKMN")
    assert parse_code("ABCD EFGH JKMN") == parsed
    assert parse_code("O1LI-0000-0000") == parse_code("0111-0000-0000")
    for bad in ("ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKMU", "x" * 100):
        assert parse_code(bad) is None
