"""Changing how a user signs in: a live session and, with a second factor, a recent one.

Attacks from the issue: a password thief with a stale session adds their own authenticator or
removes the owner's; a stolen access token keeps changing factors after "sign out everywhere",
on this process and on another one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pyotp

from bastion.bridge import run_sync
from bastion.recipe.multifactorauth import syncio as mfa_syncio
from tests.client import SessionClient
from tests.security.conftest import PASSWORD, ServerProcess, Stack, StartStack, api, form

EMAIL = "ada@example.com"
CHALLENGE = (
    'Bearer error="insufficient_user_authentication", '
    'error_description="A more recent second factor is required", max_age=300'
)
LAST_FACTOR = (
    "This is your last second factor and your account must have one: set up another before "
    "removing it."
)


def stale(age: int | None, factors: tuple[str, ...] = ("totp", "otp-email")) -> dict[str, Any]:
    return {
        "message": "invalid claim",
        "claimValidationErrors": [
            {
                "id": "st-mfa",
                "reason": {
                    "message": "factor not completed recently enough",
                    # The user's second factors: TOTP, and email codes (the email on file).
                    "oneOf": list(factors),
                    "ageInSeconds": age,
                    "maxAgeInSeconds": 300,
                },
            }
        ],
    }


def devices(stack: Stack, user_id: str) -> list[tuple[str, bool]]:
    return [(d.name, d.verified) for d in run_sync(stack.app.store.list_totp_devices(user_id))]


def _signed_up_with_totp(stack: Stack, client: SessionClient) -> tuple[str, str]:
    up = stack.sign_up(client, EMAIL)
    assert up.json()["status"] == "OK", up.text
    return up.json()["user"]["id"], stack.enroll(client)


def test_factor_changes_need_a_recent_second_factor(start_stack: StartStack) -> None:
    stack = start_stack()
    with stack.client() as client:
        user_id, secret = _signed_up_with_totp(stack, client)
        assert client.get("/protected").status_code == 200
        stack.clock.advance(301)  # the session's TOTP is now 301 s old
        attempts = {
            "remove the device": api(
                client, "POST", "/totp/device/remove", {"deviceName": "TOTP Device 0"}
            ),
            "add an authenticator": api(client, "POST", "/totp/device", {"deviceName": "mine"}),
            "new recovery codes": api(client, "POST", "/mfa/recovery-codes", {}, "multifactorauth"),
            "change the password": client.post(
                "/account/password",
                json={"oldPassword": PASSWORD, "newPassword": "a brand new passphrase 7"},
            ),
            "change the email": client.post("/account/email", json={"email": "eve@example.com"}),
        }
        for what, response in attempts.items():
            assert (response.status_code, response.json()) == (403, stale(301)), what
            assert response.headers["www-authenticate"] == CHALLENGE, what
        assert devices(stack, user_id) == [("TOTP Device 0", True)]
        assert run_sync(stack.app.store.list_recovery_codes(user_id)) == []
        assert stack.sign_in(client, EMAIL).json()["status"] == "OK"  # password unchanged
        assert [e.event for e in stack.events].count("step_up_required") == 5

    # The owner steps up: everything is allowed for five minutes.
    with stack.client() as owner:
        assert stack.sign_in(owner, EMAIL).json()["status"] == "OK"
        stack.clock.advance(30)
        assert stack.totp(owner, secret).json() == {"status": "OK"}
        stack.clock.advance(299)
        backup = api(owner, "POST", "/totp/device", {"deviceName": "backup"}).json()
        assert backup["status"] == "OK"
        verify = {"deviceName": "backup", "totp": stack.code(backup["secret"])}
        assert api(owner, "POST", "/totp/device/verify", verify).json()["status"] == "OK"
        removed = api(owner, "POST", "/totp/device/remove", {"deviceName": "TOTP Device 0"})
        assert removed.json() == {"status": "OK", "didDeviceExist": True}
        assert devices(stack, user_id) == [("backup", True)]
        codes = api(owner, "POST", "/mfa/recovery-codes", {}, "multifactorauth").json()
        assert len(codes["recoveryCodes"]) == 10
        assert owner.post("/account/email", json={"email": "ada@new.example"}).json() == {
            "status": "OK"
        }
    changed = [e for e in stack.events if e.event == "email_changed"]
    assert [(e.outcome, e.user_id) for e in changed] == [("success", user_id)]


def test_the_last_required_second_factor_stays(start_stack: StartStack) -> None:
    stack = start_stack()
    with stack.client() as client:
        user_id, _ = _signed_up_with_totp(stack, client)
        last = api(client, "POST", "/totp/device/remove", {"deviceName": "TOTP Device 0"})
        assert (last.status_code, last.json()) == (
            200,
            {"status": "GENERAL_ERROR", "message": LAST_FACTOR},
        )
        assert devices(stack, user_id) == [("TOTP Device 0", True)]
        refused = [e for e in stack.events if e.event == "device_removed"]
        assert [(e.outcome, e.reason, e.factor) for e in refused] == [
            ("refused", "last_second_factor", "totp")
        ]
        # An unverified device is not a factor: it goes.
        assert api(client, "POST", "/totp/device", {"deviceName": "half"}).json()["status"] == "OK"
        gone = api(client, "POST", "/totp/device/remove", {"deviceName": "half"}).json()
        assert gone == {"status": "OK", "didDeviceExist": True}


def test_an_optional_second_factor_can_be_removed_after_a_step_up(
    start_stack: StartStack,
) -> None:
    stack = start_stack(mfa_options={"required_secondary_factors": []})
    with stack.client() as client:
        up = stack.sign_up(client, EMAIL)
        user_id = up.json()["user"]["id"]
        # Email codes can reach the address on file: a second factor the user has (as in
        # SuperTokens), so adding TOTP wants one first.
        adding = api(client, "POST", "/totp/device", {})
        assert (adding.status_code, adding.json()) == (403, stale(None, ["otp-email"]))
        assert stack.email_code(client, EMAIL).json()["status"] == "OK"
        secret = stack.enroll(client)
        stack.clock.advance(301)
        removal = {"deviceName": "TOTP Device 0"}
        stale_removal = api(client, "POST", "/totp/device/remove", removal)
        assert (stale_removal.status_code, stale_removal.json()) == (403, stale(301))
        assert stack.totp(client, secret).json() == {"status": "OK"}
        # Nobody requires TOTP of this user: after the step-up the last device may go.
        assert api(client, "POST", "/totp/device/remove", removal).json() == {
            "status": "OK",
            "didDeviceExist": True,
        }
        assert devices(stack, user_id) == []
        # Required of this user alone: then the last device stays.
        assert stack.email_code(client, EMAIL).json()["status"] == "OK"
        stack.clock.advance(30)
        stack.enroll(client)
        mfa_syncio.add_to_required_secondary_factors_for_user(user_id, "totp")
        last = api(client, "POST", "/totp/device/remove", removal)
        assert last.json() == {"status": "GENERAL_ERROR", "message": LAST_FACTOR}
        assert devices(stack, user_id) == [("TOTP Device 0", True)]


def test_revoked_sessions_cannot_change_factors(start_stack: StartStack) -> None:
    stack = start_stack()
    with stack.client() as client:
        user_id, _ = _signed_up_with_totp(stack, client)
        stolen = (client.access_token, client.refresh_token)
        assert client.post("/account/sign-out-everywhere").json() == {"revoked": 1}
    attempts = [
        ("POST", "/totp/device", {"deviceName": "thief"}, "totp"),
        ("POST", "/totp/device/verify", {"deviceName": "thief", "totp": "123456"}, "totp"),
        ("POST", "/totp/device/remove", {"deviceName": "TOTP Device 0"}, "totp"),
        ("POST", "/totp/verify", {"totp": "123456"}, "totp"),
        ("POST", "/mfa/recovery-codes", {}, "multifactorauth"),
        ("PUT", "/mfa/info", {}, "multifactorauth"),
    ]
    with stack.client() as thief:
        for method, path, body, rid in attempts:
            thief.use_tokens(access=stolen[0], refresh=stolen[1])  # the thief keeps them
            response = api(thief, method, path, body, rid)
            assert (response.status_code, response.json()) == (401, {"message": "unauthorised"})
            assert response.headers["front-token"] == "remove", path
        assert devices(stack, user_id) == [("TOTP Device 0", True)]
        thief.use_tokens(access=stolen[0], refresh=stolen[1])
        assert thief.refresh().status_code == 401
    assert run_sync(stack.app.store.get_factor_attempts(user_id)).failures == 0


def test_revoked_on_one_process_refused_on_another(tmp_path: Path, processes: Any) -> None:
    db, outbox = tmp_path / "shared.db", tmp_path / "outbox.jsonl"
    first: ServerProcess = processes(db, outbox)
    second: ServerProcess = processes(db, outbox)
    with SessionClient(first.url, "header") as owner:
        up = api(owner, "POST", "/signup", form(email=EMAIL, password=PASSWORD), "emailpassword")
        assert up.json()["status"] == "OK", up.text
        created = api(owner, "POST", "/totp/device", {}).json()
        code = pyotp.TOTP(created["secret"]).now()
        verify = {"deviceName": created["deviceName"], "totp": code}
        assert api(owner, "POST", "/totp/device/verify", verify).json()["status"] == "OK"
        stolen = (owner.access_token, owner.refresh_token)
        # The stolen token works on the other process, for a harmless read...
        with SessionClient(second.url, "header") as thief:
            thief.use_tokens(access=stolen[0], refresh=stolen[1])
            assert thief.get("/protected").status_code == 200
            # ... until the owner signs out everywhere, on the first process.
            assert owner.post("/account/sign-out-everywhere").json() == {"revoked": 1}
            for method, path, body, rid in (
                ("POST", "/auth/totp/device/remove", {"deviceName": "TOTP Device 0"}, "totp"),
                ("POST", "/auth/totp/device", {"deviceName": "thief"}, "totp"),
                ("POST", "/auth/mfa/recovery-codes", {}, "multifactorauth"),
                ("POST", "/account/email", {"email": "thief@example.com"}, "anti-csrf"),
            ):
                thief.use_tokens(access=stolen[0], refresh=stolen[1])
                response = thief.request(method, path, json=body, headers={"rid": rid})
                assert (response.status_code, response.json()) == (
                    401,
                    {"message": "unauthorised"},
                ), path
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT name, verified FROM totp_devices").fetchall()
        emails = conn.execute("SELECT email FROM login_methods").fetchall()
    assert stored == [("TOTP Device 0", 1)]
    assert emails == [(EMAIL,)]
