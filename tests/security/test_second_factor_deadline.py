"""A half-finished sign-in expires: 10 minutes after the password, the user starts over.

The answer is what the frontend SDK handles on its own: 401 with the tokens cleared and the
session revoked, so its refresh fails too and the user lands on the sign-in page.
"""

from __future__ import annotations

import pytest

from bastion.bridge import run_sync
from tests.client import SessionClient
from tests.security.conftest import Stack, StartStack, api

EMAIL = "grace@example.com"
UNAUTHORISED = {"message": "unauthorised"}


def _user_with_totp(stack: Stack) -> str:
    with stack.client() as client:
        assert stack.sign_up(client, EMAIL).json()["status"] == "OK"
        secret = stack.enroll(client)
    stack.clock.advance(30)
    return secret


def _pending(stack: Stack) -> SessionClient:
    """A session after the password only."""
    client = stack.client()
    assert stack.sign_in(client, EMAIL).json()["status"] == "OK"
    assert client.payload()["st-mfa"]["v"] is False
    return client


@pytest.mark.parametrize("minutes", [16, 11])
def test_a_correct_code_after_the_deadline_does_not_complete_the_sign_in(
    start_stack: StartStack, minutes: int
) -> None:
    stack = start_stack()
    secret = _user_with_totp(stack)
    with _pending(stack) as client:
        handle = client.payload()["sessionHandle"]
        stack.clock.advance(minutes * 60)
        late = stack.totp(client, secret)
        assert (late.status_code, late.json()) == (401, UNAUTHORISED)
        assert late.headers["front-token"] == "remove"
        assert late.headers["st-access-token"] == ""
        assert run_sync(stack.app.store.get_session(handle)) is None
        # What the SDK does next: refresh, which fails, so the session ends.
        assert client.refresh().status_code == 401
        assert client.get("/protected").status_code == 401
    expired = [e for e in stack.events if e.outcome == "expired"]
    assert [(e.event, e.reason, e.session_handle) for e in expired] == [
        ("factor", "second_factor_deadline", handle)
    ]
    # The code was not used up by the refused attempt: a new sign-in takes it.
    with _pending(stack) as again:
        assert stack.totp(again, secret).json() == {"status": "OK"}
        assert again.get("/protected").status_code == 200


def test_every_factor_route_ends_an_expired_half_sign_in(start_stack: StartStack) -> None:
    stack = start_stack()
    _user_with_totp(stack)
    routes = [
        ("PUT", "/mfa/info", {}, "multifactorauth"),
        (
            "POST",
            "/mfa/recovery-codes/verify",
            {"recoveryCode": "AAAA-BBBB-CCCC"},
            "multifactorauth",
        ),
        ("GET", "/totp/device/list", None, "totp"),
        ("POST", "/totp/device", {"deviceName": "late"}, "totp"),
        (
            "POST",
            "/signinup/code",
            {"email": EMAIL, "shouldTryLinkingWithSessionUser": True},
            "passwordless",
        ),
    ]
    for method, path, body, rid in routes:
        with _pending(stack) as client:
            stack.clock.advance(601)
            response = api(client, method, path, body, rid)
            assert (response.status_code, response.json()) == (401, UNAUTHORISED), path
            assert client.refresh().status_code == 401, path


def test_within_the_deadline_the_sign_in_completes(start_stack: StartStack) -> None:
    stack = start_stack()
    secret = _user_with_totp(stack)
    with _pending(stack) as client:
        stack.clock.advance(599)
        assert stack.totp(client, secret).json() == {"status": "OK"}
        stack.clock.advance(3600)  # a complete session has no such deadline
        assert client.refresh().status_code == 200
        assert client.get("/protected").status_code == 200


def test_the_deadline_is_a_setting(start_stack: StartStack) -> None:
    stack = start_stack(mfa_options={"second_factor_deadline_seconds": 60})
    secret = _user_with_totp(stack)
    with _pending(stack) as client:
        stack.clock.advance(61)
        assert stack.totp(client, secret).status_code == 401
