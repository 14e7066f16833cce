"""Email verification beyond the REQUIRED happy path (FastAPI): OPTIONAL mode, the refetch of a
false claim, users without an email, tokens bound to their email and purpose."""

from __future__ import annotations

import pytest

from bastion.recipe.emailpassword import syncio as ep
from bastion.recipe.emailverification import EmailVerificationClaim
from bastion.recipe.emailverification import syncio as ev
from bastion.sessions.claims import ClaimValidationError
from tests.recipes.emailpassword.conftest import StartEP, sign_up

EV = {"rid": "emailverification"}


def _token(text: str) -> str:
    return text.split("token=")[1].split("&")[0]


def test_optional_mode_keeps_the_claim_but_does_not_block(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", verification="OPTIONAL")
    with stack.client() as client:
        user_id = sign_up(client, "opt@example.com").json()["user"]["id"]
        assert client.payload()["st-ev"] == {"v": False, "t": stack.clock.now_ms()}
        assert client.get("/verify").json() == {"user": user_id}


def test_a_false_claim_is_refetched_after_ten_seconds(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", verification="REQUIRED")
    with stack.client() as client:
        user_id = sign_up(client, "later@example.com").json()["user"]["id"]
        link = ev.create_email_verification_link("public", user_id)
        assert link is not None
        assert ev.verify_email_using_token("public", _token(link)) == user_id  # no session
        assert client.get("/verify").status_code == 403  # the token still says false
        stack.clock.advance(10.001)
        assert client.get("/verify").json() == {"user": user_id}
        assert ev.is_email_verified(user_id) is True
        assert ev.create_email_verification_token("public", user_id) is None  # already verified
        ev.unverify_email(user_id)
        assert ev.is_email_verified(user_id) is False


def test_sessions_of_users_without_an_email_count_as_verified(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", verification="REQUIRED")
    with stack.client() as client:
        assert client.post("/create", params={"user": "external-7"}).status_code == 200
        assert client.payload()["st-ev"]["v"] is True
        assert client.get("/verify").json() == {"user": "external-7"}
        already = client.post("/auth/user/email/verify/token", headers=EV)
        assert already.json() == {"status": "EMAIL_ALREADY_VERIFIED_ERROR"}


def test_verification_links_die_with_an_email_change_and_never_reset_passwords(
    start_ep: StartEP,
) -> None:
    stack = start_ep("fastapi", verification="REQUIRED")
    with stack.client() as client:
        user_id = sign_up(client, "first@example.com").json()["user"]["id"]
        client.post("/auth/user/email/verify/token", headers=EV)
        old_link = stack.outbox.messages[-1].text
        # A verification token is not a reset token (and the other way round).
        misuse = client.post(
            "/auth/user/password/reset",
            json={
                "formFields": [{"id": "password", "value": "new password 1"}],
                "token": _token(old_link),
            },
        )
        assert misuse.json() == {"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"}

        assert ep.update_email_or_password(user_id, email="second@example.com").status == "OK"
        stale = client.post(
            "/auth/user/email/verify",
            json={"method": "token", "token": _token(old_link)},
            headers=EV,
        )
        assert stale.json() == {"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"}
        assert ev.is_email_verified(user_id) is False

        client.post("/auth/user/email/verify/token", headers=EV)
        (message,) = stack.outbox.to("second@example.com")
        good = client.post(
            "/auth/user/email/verify",
            json={"method": "token", "token": _token(message.text)},
            headers=EV,
        )
        assert good.json()["status"] == "OK"
        assert client.get("/verify").json() == {"user": user_id}


def test_verification_endpoints_reject_bad_input_and_missing_sessions(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", verification="REQUIRED")
    with stack.client() as client:
        assert client.get("/auth/user/email/verify", headers=EV).status_code == 401
        assert client.post("/auth/user/email/verify/token", headers=EV).status_code == 401
        missing = client.post("/auth/user/email/verify", json={"method": "token"}, headers=EV)
        assert (missing.status_code, missing.json()) == (
            400,
            {"message": "Please provide the email verification token"},
        )
        wrong_type = client.post("/auth/user/email/verify", json={"token": ["x"]}, headers=EV)
        assert wrong_type.json() == {"message": "The email verification token must be a string"}
        unknown = client.post("/auth/user/email/verify", json={"token": "nope"}, headers=EV)
        assert unknown.json() == {"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({}, {"message": "value does not exist", "expectedValue": True, "actualValue": None}),
        (
            {"st-ev": {"v": False, "t": 0}},
            {"message": "wrong value", "expectedValue": True, "actualValue": False},
        ),
    ],
)
def test_is_verified_reasons_match_the_spec(
    start_ep: StartEP, payload: dict[str, object], reason: dict[str, object]
) -> None:
    from bastion.bridge import run_sync

    start_ep("fastapi", verification="OPTIONAL")
    validator = EmailVerificationClaim.validators.is_verified()
    assert validator.id == "st-ev"
    assert validator.should_refetch(payload, {}) is True
    result = run_sync(validator.validate(payload, {}))
    assert ClaimValidationError("st-ev", result.reason).to_json() == {
        "id": "st-ev",
        "reason": reason,
    }


def test_a_password_reset_proves_the_mailbox(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", verification="REQUIRED")
    with stack.client() as client:
        user_id = sign_up(client, "proof@example.com").json()["user"]["id"]
        client.post(
            "/auth/user/password/reset/token",
            json={"formFields": [{"id": "email", "value": "proof@example.com"}]},
        )
        (message,) = [m for m in stack.outbox.messages if m.kind == "password-reset"]
        assert ev.is_email_verified(user_id) is False
        done = client.post(
            "/auth/user/password/reset",
            json={
                "formFields": [{"id": "password", "value": "reset and proven 1"}],
                "token": _token(message.text),
            },
        )
        assert done.json() == {"status": "OK"}
    assert ev.is_email_verified(user_id) is True
