"""Replay and brute force: codes work once, guesses hit a cooldown and then a hard lock.

Security plan tests 22-24 and 26 (``shared/guides/security.md``), over real HTTP (FastAPI).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bastion.recipe import multifactorauth, totp
from bastion.recipe.multifactorauth import syncio as mfa_syncio
from bastion.recipe.totp import syncio as totp_syncio
from tests.client import SessionClient
from tests.recipes.mfa.conftest import MFAStack, StartMFA, api, enroll

COOLDOWN_MS = 900_000
FULLWIDTH = "\uff11\uff12\uff13\uff14\uff15\uff16"  # digits str.isdigit() accepts
ARABIC_INDIC = "\u0660\u0661\u0662\u0663\u0664\u0665"
DAY_S = 86_400


def _user(stack: MFAStack, mode: str = "cookie") -> tuple[SessionClient, str]:
    """A signed-in user with a verified TOTP device: (client, secret)."""
    client = stack.client(mode)
    client.post("/first-factor")
    return client, enroll(stack, client)


def _verify(client: SessionClient, code: Any) -> dict[str, Any]:
    response = api(client, "POST", "/totp/verify", {"totp": code})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_code_works_once_and_then_no_earlier_code_works(start_mfa: StartMFA) -> None:
    stack = start_mfa()
    client, secret = _user(stack)  # the device was verified with this step's code
    with client:
        assert _verify(client, stack.code(secret))["status"] == "INVALID_TOTP_ERROR"
        stack.clock.advance(30)
        assert _verify(client, stack.code(secret)) == {"status": "OK"}
        assert _verify(client, stack.code(secret))["status"] == "INVALID_TOTP_ERROR"
        # The previous step is inside the skew window, but a later code has been used.
        assert _verify(client, stack.code(secret, steps=-1))["status"] == "INVALID_TOTP_ERROR"
        stack.clock.advance(30)
        assert _verify(client, stack.code(secret)) == {"status": "OK"}
        # A clock stepping back an hour does not make used codes valid again.
        stack.clock.advance(-3600)
        assert _verify(client, stack.code(secret))["status"] == "INVALID_TOTP_ERROR"


@pytest.mark.parametrize("skew", [0, 1])
def test_window_follows_the_skew(start_mfa: StartMFA, skew: int) -> None:
    stack = start_mfa(totp_config=totp.TOTPConfig(default_skew=skew, max_attempts=50))
    client, secret = _user(stack)
    with client:
        stack.clock.advance(120)
        results = {
            steps: _verify(client, stack.code(secret, steps=steps))["status"]
            for steps in (-2, 2, -1, 1, 0)  # earliest used codes last: used steps block earlier
        }
        accepted = {steps for steps, status in results.items() if status == "OK"}
        assert accepted == ({-1, 1} if skew else {0}) | ({0} if not skew else set())


def test_fifty_parallel_submissions_of_one_code_give_one_success(
    start_mfa: StartMFA, serve: Any
) -> None:
    # A generous limit, so that every request really checks the code and races to record it.
    stack = start_mfa(totp_config=totp.TOTPConfig(max_attempts=1000, hard_lock_after=None))
    from tests.recipes.mfa.apps import fastapi_app

    second = serve(fastapi_app())  # two servers, two event-loop threads, one database
    owner, secret = _user(stack)
    clients = [SessionClient(url) for url in (stack.url, second.url) * 5]
    for client in clients:
        client.post("/first-factor")
    try:
        for _round in range(3):
            stack.clock.advance(30)
            code = stack.code(secret)
            barrier = threading.Barrier(50)

            def submit(i: int, code: str = code, barrier: threading.Barrier = barrier) -> Any:
                client = clients[i % len(clients)]
                barrier.wait()
                return api(client, "POST", "/totp/verify", {"totp": code})

            with ThreadPoolExecutor(50) as pool:
                responses = list(pool.map(submit, range(50)))
            assert all(r.status_code == 200 for r in responses)
            statuses = [r.json()["status"] for r in responses]
            assert statuses.count("OK") == 1, statuses
            assert set(statuses) == {"OK", "INVALID_TOTP_ERROR"}
    finally:
        owner.close()
        for client in clients:
            client.close()


def test_thousand_wrong_codes(start_mfa: StartMFA) -> None:
    # Sessions that stay pending for hours: no deadline for the second factor here.
    mfa = multifactorauth.init(
        first_factors=["emailpassword"],
        required_secondary_factors=["totp"],
        second_factor_deadline_seconds=3 * DAY_S,
    )
    stack = start_mfa(mfa=mfa, access_token_validity=2 * DAY_S)
    clients = [stack.client() for _ in range(5)]
    owner, secret = _user(stack)
    recovery_codes = mfa_syncio.generate_recovery_codes("user-1")
    for client in clients:  # five sessions of the same user share one counter
        client.post("/first-factor")
    try:
        # Five wrong codes, then the cooldown refuses everything, the right code included.
        stack.clock.advance(30)
        for n in range(1, 6):
            assert _verify(clients[n % 5], stack.wrong_code(secret)) == {
                "status": "INVALID_TOTP_ERROR",
                "currentNumberOfFailedAttempts": n,
                "maxNumberOfFailedAttempts": 5,
            }
        assert _verify(clients[0], stack.code(secret)) == {
            "status": "LIMIT_REACHED_ERROR",
            "retryAfterMs": COOLDOWN_MS,
        }
        stack.clock.advance(899)
        assert _verify(clients[1], stack.code(secret)) == {
            "status": "LIMIT_REACHED_ERROR",
            "retryAfterMs": 1000,
        }
        stack.clock.advance(1)
        assert _verify(clients[2], stack.code(secret)) == {"status": "OK"}

        # A thousand wrong codes: the cooldown every five, the hard lock at 100.
        outcomes: dict[str, int] = {}
        for i in range(1000):
            body = _verify(clients[i % 5], stack.wrong_code(secret))
            key = body["status"] + (":locked" if body.get("hardLocked") else "")
            outcomes[key] = outcomes.get(key, 0) + 1
            if body["status"] == "LIMIT_REACHED_ERROR" and not body.get("hardLocked"):
                stack.clock.advance(ms=body["retryAfterMs"])
        assert outcomes.get("OK", 0) == 0
        assert outcomes["INVALID_TOTP_ERROR"] == 100
        assert outcomes["LIMIT_REACHED_ERROR"] == 19  # after each run of 5 but the last
        assert outcomes["LIMIT_REACHED_ERROR:locked"] == 1000 - 100 - 19
        assert totp_syncio.get_failed_attempts("user-1").consecutive == 100

        # Locked: waiting does not help, the right code is refused too.
        stack.clock.advance(DAY_S)
        assert _verify(clients[0], stack.code(secret))["hardLocked"] is True

        # A recovery code lifts the lock, once.
        used = api(
            clients[0],
            "POST",
            "/mfa/recovery-codes/verify",
            {"recoveryCode": recovery_codes[0]},
            "multifactorauth",
        )
        assert used.json() == {"status": "OK", "remainingCodes": 9}
        again = api(
            clients[1],
            "POST",
            "/mfa/recovery-codes/verify",
            {"recoveryCode": recovery_codes[0]},
            "multifactorauth",
        )
        assert again.json()["status"] == "INVALID_RECOVERY_CODE_ERROR"
        assert _verify(clients[3], stack.code(secret)) == {"status": "OK"}
    finally:
        owner.close()
        for client in clients:
            client.close()


def test_admin_reset_lifts_the_hard_lock(start_mfa: StartMFA) -> None:
    stack = start_mfa(totp_config=totp.TOTPConfig(max_attempts=3, hard_lock_after=6))
    client, secret = _user(stack)
    with client:
        stack.clock.advance(30)
        for _ in range(3):
            _verify(client, stack.wrong_code(secret))
        stack.clock.advance(900)
        for _ in range(3):
            _verify(client, stack.wrong_code(secret))
        stack.clock.advance(900)
        locked = _verify(client, stack.code(secret))
        assert locked == {
            "status": "LIMIT_REACHED_ERROR",
            "retryAfterMs": COOLDOWN_MS,
            "hardLocked": True,
        }
        totp_syncio.reset_failed_attempts("user-1")
        assert _verify(client, stack.code(secret)) == {"status": "OK"}


def test_recovery_code_can_be_kept_from_lifting_the_lock(start_mfa: StartMFA) -> None:
    config = totp.TOTPConfig(max_attempts=3, hard_lock_after=3, recovery_code_resets_lockout=False)
    stack = start_mfa(totp_config=config)
    client, secret = _user(stack)
    codes = mfa_syncio.generate_recovery_codes("user-1")
    with client:
        stack.clock.advance(30)
        for _ in range(3):
            _verify(client, stack.wrong_code(secret))
        stack.clock.advance(900)  # the cooldown applies to recovery codes too
        used = api(
            client,
            "POST",
            "/mfa/recovery-codes/verify",
            {"recoveryCode": codes[1]},
            "multifactorauth",
        )
        assert used.json()["status"] == "OK"  # the factor is completed...
        assert _verify(client, stack.code(secret))["hardLocked"] is True  # ...the lock stays


@pytest.mark.parametrize(
    "body",
    [{}, {"totp": None}, {"totp": 123456}, {"totp": ["123456"]}, {"totp": {"a": 1}}, []],
    ids=["missing", "null", "number", "list", "object", "array-body"],
)
def test_mistyped_code_is_400_and_not_an_attempt(start_mfa: StartMFA, body: Any) -> None:
    stack = start_mfa()
    client, _ = _user(stack)
    with client:
        response = api(client, "POST", "/totp/verify", body)
        assert response.status_code == 400
        assert set(response.json()) == {"message"}
        assert totp_syncio.get_failed_attempts("user-1").failures == 0


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "123456789", FULLWIDTH, ARABIC_INDIC, "12345a", "x" * 5000],
    ids=["empty", "5", "7", "9", "fullwidth", "arabic-indic", "letter", "long"],
)
def test_malformed_code_is_a_failed_attempt(start_mfa: StartMFA, code: str) -> None:
    stack = start_mfa()
    client, _ = _user(stack)
    with client:
        assert _verify(client, code) == {
            "status": "INVALID_TOTP_ERROR",
            "currentNumberOfFailedAttempts": 1,
            "maxNumberOfFailedAttempts": 5,
        }


def test_spaces_in_a_code_are_ignored_and_huge_bodies_refused(start_mfa: StartMFA) -> None:
    stack = start_mfa()
    client, secret = _user(stack)
    with client:
        stack.clock.advance(30)
        code = stack.code(secret)
        assert _verify(client, f" {code[:3]} {code[3:]} ") == {"status": "OK"}
        huge = api(client, "POST", "/totp/verify", {"totp": "1" * 70_000})
        assert huge.status_code == 400


def test_unknown_device_and_user_without_devices(start_mfa: StartMFA) -> None:
    stack = start_mfa(mfa=multifactorauth.init(first_factors=["emailpassword"]))
    with stack.client() as client:
        client.post("/first-factor")
        assert _verify(client, "123456") == {"status": "UNKNOWN_USER_ID_ERROR"}
        unknown = api(client, "POST", "/totp/device/verify", {"deviceName": "nope", "totp": "1"})
        assert unknown.json() == {"status": "UNKNOWN_DEVICE_ERROR"}
        # A device that was never verified does not make its codes valid for /totp/verify.
        created = api(client, "POST", "/totp/device", {"deviceName": "phone"}).json()
        assert _verify(client, stack.code(created["secret"]))["status"] == "INVALID_TOTP_ERROR"
