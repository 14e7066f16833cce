"""Audit events of one user's story, field by field: sign-up, TOTP, sign-in, lockout, reset.

Each event reaches the ``audit_callback`` and the ``bastion.audit`` logger (fields as the
record's attributes); none carries a password, code, token or email address.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pytest

from bastion.recipe.emailpassword import SignInThrottling
from tests.client import SessionClient
from tests.security.conftest import PASSWORD, Stack, StartStack, api, form, reset_token

EMAIL = "ines@example.com"
NEW_PASSWORD = "a brand new passphrase 7"
WRONG = ["wrong horse battery 1", "wrong horse battery 2", "wrong horse battery 3"]
FIELDS = (
    "time_ms",
    "event",
    "outcome",
    "user_id",
    "account",
    "client",
    "user_agent",
    "session_handle",
    "factor",
    "reason",
)


def _client(stack: Stack, agent: str) -> SessionClient:
    client = stack.client()
    client.http.headers["user-agent"] = agent
    return client


def test_the_audit_events_of_a_whole_story(
    start_stack: StartStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bastion.audit")
    stack = start_stack(ep_options={"sign_in_throttling": SignInThrottling(lock_after=3)})
    clock, t0 = stack.clock, stack.clock.now_ms()
    secrets: list[str] = [PASSWORD, NEW_PASSWORD, *WRONG, EMAIL]

    laptop = _client(stack, "laptop/1.0")
    up = stack.sign_up(laptop, EMAIL)
    user = up.json()["user"]["id"]
    laptop_session = laptop.payload()["sessionHandle"]
    totp_secret = stack.enroll(laptop)
    secrets += [totp_secret, str(laptop.access_token), str(laptop.refresh_token)]

    clock.advance(30)
    phone = _client(stack, "phone/2.0")
    assert stack.sign_in(phone, EMAIL).json()["status"] == "OK"
    phone_session = phone.payload()["sessionHandle"]
    code = stack.code(totp_secret)
    assert api(phone, "POST", "/totp/verify", {"totp": code}).json() == {"status": "OK"}
    secrets += [code, str(phone.access_token), str(phone.refresh_token)]

    clock.advance(30)
    with _client(stack, "attacker/0.1") as attacker:
        for password in WRONG:
            assert stack.sign_in(attacker, EMAIL, password).json()["status"] == (
                "WRONG_CREDENTIALS_ERROR"
            )
        assert stack.sign_in(attacker, EMAIL, PASSWORD).status_code == 429  # locked
        assert stack.sign_in(attacker, "nobody@example.com").json()["status"] == (
            "WRONG_CREDENTIALS_ERROR"
        )

    clock.advance(60)
    asked = api(phone, "POST", "/user/password/reset/token", form(email=EMAIL), "emailpassword")
    assert asked.json() == {"status": "OK"}
    token = reset_token(stack.reset_link(EMAIL))
    secrets.append(token)
    clock.advance(60)
    with _client(stack, "phone/2.0") as reset_page:
        body = {"token": token, **form(password=NEW_PASSWORD)}
        done = api(reset_page, "POST", "/user/password/reset", body, "emailpassword")
        assert done.json() == {"status": "OK"}
        assert stack.sign_in(reset_page, EMAIL, NEW_PASSWORD).json()["status"] == "OK"
        new_session = reset_page.payload()["sessionHandle"]
    laptop.close()
    phone.close()

    def e(at_s: int, event: str, outcome: str, agent: str, **fields: Any) -> tuple[Any, ...]:
        row = {
            "time_ms": t0 + at_s * 1000,
            "event": event,
            "outcome": outcome,
            "user_id": user,
            "account": None,
            "client": "127.0.0.1",
            "user_agent": agent,
            "session_handle": None,
            "factor": None,
            "reason": None,
            **fields,
        }
        return tuple(row[f] for f in FIELDS)

    records = [r for r in caplog.records if r.name == "bastion.audit"]
    assert [r.getMessage() for r in records][:4] == [
        "session_created success",
        "sign_up success",
        "device_created success",
        "device_added success",
    ]
    nobody = stack.app.audit.account_key("nobody@example.com")
    # A keyed hash (the key is in the app's stored secrets), not a plain one anyone can redo.
    assert len(nobody) == 64
    assert nobody != hashlib.sha256(b"nobody@example.com").hexdigest()
    expected = [
        e(0, "session_created", "success", "laptop/1.0", session_handle=laptop_session),
        e(
            0,
            "sign_up",
            "success",
            "laptop/1.0",
            session_handle=laptop_session,
            factor="emailpassword",
        ),
        e(
            0,
            "device_created",
            "success",
            "laptop/1.0",
            session_handle=laptop_session,
            factor="totp",
        ),
        e(0, "device_added", "success", "laptop/1.0", session_handle=laptop_session, factor="totp"),
        e(30, "session_created", "success", "phone/2.0", session_handle=phone_session),
        e(
            30,
            "sign_in",
            "success",
            "phone/2.0",
            session_handle=phone_session,
            factor="emailpassword",
        ),
        e(30, "factor", "success", "phone/2.0", session_handle=phone_session, factor="totp"),
        *[
            e(
                60,
                "sign_in",
                "failure",
                "attacker/0.1",
                factor="emailpassword",
                reason="wrong_credentials",
            )
        ]
        * 3,
        e(60, "sign_in", "locked", "attacker/0.1", factor="emailpassword", reason="account_limit"),
        e(
            60,
            "sign_in",
            "failure",
            "attacker/0.1",
            user_id=None,
            account=nobody,
            factor="emailpassword",
            reason="wrong_credentials",
        ),
        e(120, "password_reset_requested", "success", "phone/2.0", session_handle=None),
        e(180, "password_reset_completed", "success", "phone/2.0"),
        *[
            e(
                180,
                "session_revoked",
                "success",
                "phone/2.0",
                session_handle=h,
                reason="password_reset",
            )
            for h in sorted([laptop_session, phone_session])
        ],
        e(180, "session_created", "success", "phone/2.0", session_handle=new_session),
        e(
            180,
            "sign_in",
            "success",
            "phone/2.0",
            session_handle=new_session,
            factor="emailpassword",
        ),
    ]
    got = [tuple(event.as_dict()[f] for f in FIELDS) for event in stack.events]
    assert got == expected

    # The logger saw the same events, as structured fields; a lockout is a warning.
    assert [tuple(getattr(r, f) for f in FIELDS) for r in records] == expected
    assert [r.getMessage() for r in records][7:11] == ["sign_in failure"] * 3 + ["sign_in locked"]
    assert {r.levelname for r in records} == {"INFO", "WARNING"}
    assert [r.levelname for r in records].count("WARNING") == 1

    # Never a secret, a code, a token or the email itself.
    for record in records:
        text = " ".join(str(v) for v in (record.getMessage(), *vars(record).values()))
        leaked = [s for s in secrets if s in text]
        assert leaked == [], record.getMessage()


def test_a_failing_callback_does_not_fail_the_request(
    start_stack: StartStack, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Any) -> None:
        raise RuntimeError("audit sink down")

    stack = start_stack(audit_callback=broken)
    with stack.client() as client:
        assert stack.sign_up(client, EMAIL).json()["status"] == "OK"
    assert "audit_callback failed" in caplog.text
