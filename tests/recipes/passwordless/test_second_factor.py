"""Email OTP as a second factor (issue 5): email-password sign-in, 403 ``st-mfa``, a code by
email, consumed in the same session, 200. Plus the rules of
:mod:`bastion.recipe.passwordless.factors`: codes bound to their session and purpose, codes
never sent to an address the account does not have, and factor setup behind the MFA guard."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.recipe import multifactorauth
from tests.client import SessionClient
from tests.recipes.passwordless.conftest import (
    FDI,
    PLStack,
    StartPL,
    consume,
    consume_link,
    create_code,
    ep_form,
    sign_in_with_code,
    wrong,
)

EMAIL = "ada@example.com"
PHONE = "+14155550100"
LINK = {"shouldTryLinkingWithSessionUser": True}


def required_otp_email(**kwargs: Any) -> Any:
    kwargs.setdefault("first_factors", ["emailpassword"])
    return multifactorauth.init(required_secondary_factors=["otp-email"], **kwargs)


def ep_sign_up(client: SessionClient, email: str = EMAIL) -> str:
    up = client.post("/auth/signup", json=ep_form(email), headers={"rid": "emailpassword"})
    assert up.json()["status"] == "OK", up.text
    return str(up.json()["user"]["id"])


def ep_sign_in(client: SessionClient, email: str = EMAIL) -> None:
    signin = client.post("/auth/signin", json=ep_form(email), headers={"rid": "emailpassword"})
    assert signin.json()["status"] == "OK", signin.text


def mfa_info(client: SessionClient) -> dict[str, Any]:
    info = client.request("PUT", "/auth/mfa/info", json={}, headers={"rid": "multifactorauth"})
    assert info.status_code == 200, info.text
    body: dict[str, Any] = info.json()
    return body


def claim(client: SessionClient) -> dict[str, Any]:
    value: dict[str, Any] = client.payload()["st-mfa"]
    return value


def count(stack: PLStack, table: str) -> int:
    return len(stack.rows(table))


@pytest.mark.parametrize("mode", ["cookie", "header"])
def test_email_otp_as_a_second_factor(start_pl: StartPL, framework: str, mode: str) -> None:
    stack = start_pl(framework, with_emailpassword=True, mfa=required_otp_email())
    with stack.client(mode) as client:
        user_id = ep_sign_up(client)
        handle = client.payload()["sessionHandle"]
        assert claim(client) == {
            "c": {"emailpassword": claim(client)["c"]["emailpassword"]},
            "v": False,
        }
        denied = client.get("/verify")
        assert denied.status_code == 403
        assert denied.json()["claimValidationErrors"][0]["id"] == "st-mfa"
        info = mfa_info(client)
        assert info["factors"]["next"] == ["otp-email"]
        assert info["factors"]["alreadySetup"] == ["emailpassword", "otp-email"]
        assert info["emails"] == {"emailpassword": [EMAIL], "otp-email": [EMAIL]}
        # What auth-react sends for a secondary factor: the address from /mfa/info, and the flag.
        started = create_code(client, email=EMAIL, **LINK)
        assert started.json()["status"] == "OK", started.text
        message = stack.last_email(EMAIL)
        assert "confirm that it is you signing in to bastion-tests" in message.text
        code = stack.code_for(EMAIL)
        assert consume(client, started.json(), wrong(code), **LINK).json() == {
            "status": "INCORRECT_USER_INPUT_CODE_ERROR",
            "failedCodeInputAttemptCount": 1,
            "maximumCodeInputAttempts": 5,
        }
        assert client.get("/verify").status_code == 403
        consumed = consume(client, started.json(), code, **LINK)
        body = consumed.json()
        assert body["status"] == "OK", body
        assert body["createdNewRecipeUser"] is False
        assert body["user"]["id"] == user_id
        # The same session, re-issued with the factor marked: no new session, no new user.
        assert "front-token" in consumed.headers
        assert client.payload()["sessionHandle"] == handle
        assert set(claim(client)["c"]) == {"emailpassword", "otp-email"}
        assert claim(client)["v"] is True
        assert client.get("/verify").json() == {"user": user_id}
        assert count(stack, "users") == 1
        assert count(stack, "sessions") == 1
        assert count(stack, "passwordless_devices") == 0
    stack.clock.advance(60)
    with stack.client(mode) as client:  # the next sign-in asks again
        ep_sign_in(client)
        assert client.get("/verify").status_code == 403
        started = create_code(client, email=EMAIL, **LINK).json()
        assert consume(client, started, stack.code_for(EMAIL), **LINK).json()["status"] == "OK"
        assert client.get("/verify").json() == {"user": user_id}


def test_without_the_flag_a_session_that_owes_the_factor_gets_a_challenge(
    start_pl: StartPL,
) -> None:
    stack = start_pl(with_emailpassword=True, mfa=required_otp_email())
    with stack.client() as client:
        user_id = ep_sign_up(client)
        handle = client.payload()["sessionHandle"]
        started = create_code(client, email="ADA@EXAMPLE.COM").json()
        assert started["status"] == "OK"
        assert stack.outbox.to("ADA@EXAMPLE.COM") == []  # the address on file got it
        body = consume(client, started, stack.code_for(EMAIL)).json()
        assert body["user"]["id"] == user_id
        assert client.payload()["sessionHandle"] == handle
        assert client.get("/verify").status_code == 200
        # Another address while owing the factor is a sign-in, here not an allowed one.
        assert create_code(client, email="grace@example.com").json() == {
            "status": "SIGN_IN_UP_NOT_ALLOWED",
            "reason": "Cannot sign in / up due to security reasons. Please try a different "
            "login method or contact support. (ERR_CODE_002)",
        }
        assert stack.outbox.to("grace@example.com") == []


def test_the_code_never_goes_to_an_address_the_account_does_not_have(start_pl: StartPL) -> None:
    """Someone holding only the password cannot have the second factor sent to themselves."""
    stack = start_pl(with_emailpassword=True, mfa=required_otp_email())
    with stack.client() as client:
        ep_sign_up(client)
        refused = create_code(client, email="mallory@evil.example", **LINK)
        assert refused.status_code == 200
        assert refused.json()["status"] == "SIGN_IN_UP_NOT_ALLOWED"
        assert "of the signed-in account" in refused.json()["reason"]
        assert stack.outbox.to("mallory@evil.example") == []
        assert count(stack, "passwordless_devices") == 0
        assert client.get("/verify").status_code == 403


def test_a_code_completes_the_factor_only_in_its_own_session(start_pl: StartPL) -> None:
    stack = start_pl(with_emailpassword=True, mfa=required_otp_email())
    with stack.client() as first, stack.client() as second, stack.client() as nobody:
        ep_sign_up(first)
        ep_sign_in(second)  # the same user, another session
        started = create_code(first, email=EMAIL, **LINK).json()
        code = stack.code_for(EMAIL)
        # Another session of the same user: refused, and nothing is counted.
        assert consume(second, started, code, **LINK).json() == {"status": "RESTART_FLOW_ERROR"}
        assert consume(second, started, code).json() == {"status": "RESTART_FLOW_ERROR"}
        assert second.get("/verify").status_code == 403
        # No session: the code needs its session (401), or is refused outright (flag false).
        assert consume(nobody, started, code).status_code == 401
        flag_false = {"shouldTryLinkingWithSessionUser": False}
        assert consume(nobody, started, code, **flag_false).json() == {
            "status": "RESTART_FLOW_ERROR"
        }
        assert nobody.get("/verify").status_code == 401
        assert stack.rows("passwordless_devices")[0][11] == 0  # failed_attempts untouched
        assert consume(first, started, code, **LINK).json()["status"] == "OK"
        assert first.get("/verify").status_code == 200
        assert second.get("/verify").status_code == 403


def test_a_code_dies_with_its_session(start_pl: StartPL) -> None:
    stack = start_pl(with_emailpassword=True, mfa=required_otp_email())
    with stack.client() as client:
        ep_sign_up(client)
        started = create_code(client, email=EMAIL, **LINK).json()
        code = stack.code_for(EMAIL)
        assert client.post("/auth/signout", headers={"rid": "session"}).status_code == 200
        ep_sign_in(client)  # a new session: the old challenge is not its own
        assert consume(client, started, code, **LINK).json() == {"status": "RESTART_FLOW_ERROR"}
        assert client.get("/verify").status_code == 403


def test_a_sign_in_code_cannot_complete_a_factor(start_pl: StartPL) -> None:
    mfa = required_otp_email(first_factors=["emailpassword", "otp-email"])
    stack = start_pl(with_emailpassword=True, mfa=mfa)
    with stack.client() as client:
        ep_user = ep_sign_up(client)
        handle = client.payload()["sessionHandle"]
        # A sign-in code (flag false), then offered as the session's second factor.
        started = create_code(client, email=EMAIL, shouldTryLinkingWithSessionUser=False).json()
        code = stack.code_for(EMAIL)
        assert consume(client, started, code, **LINK).json() == {"status": "RESTART_FLOW_ERROR"}
        assert client.get("/verify").status_code == 403
        assert client.payload()["sessionHandle"] == handle
        # Used as what it is, it signs in a passwordless user in a new session.
        body = consume(client, started, code).json()
        assert body["status"] == "OK"
        assert body["user"]["id"] != ep_user
        assert client.payload()["sessionHandle"] != handle


def test_a_second_factor_by_magic_link(start_pl: StartPL) -> None:
    mfa = multifactorauth.init(
        first_factors=["emailpassword"], required_secondary_factors=["link-email"]
    )
    stack = start_pl(with_emailpassword=True, mfa=mfa, flow_type="MAGIC_LINK")
    with stack.client() as client, stack.client() as elsewhere:
        user_id = ep_sign_up(client)
        assert create_code(client, email=EMAIL, **LINK).json()["flowType"] == "MAGIC_LINK"
        link = stack.link_for(EMAIL)
        assert consume_link(elsewhere, link).status_code == 401  # opened without the session
        body = consume_link(client, link, **LINK).json()
        assert body["user"]["id"] == user_id
        assert set(claim(client)["c"]) == {"emailpassword", "link-email"}
        assert client.get("/verify").status_code == 200


def _phone_user(stack: PLStack, client: SessionClient) -> str:
    started = create_code(client, phoneNumber=PHONE).json()
    body = consume(client, started, stack.code_for(PHONE)).json()
    assert body["status"] == "OK", body
    return str(body["user"]["id"])


def test_setting_up_email_otp_adds_the_address_to_the_account(
    start_pl: StartPL, framework: str
) -> None:
    mfa = multifactorauth.init(required_secondary_factors=["otp-email"])
    stack = start_pl(framework, contact_method="EMAIL_OR_PHONE", mfa=mfa)
    with stack.client() as client:
        user_id = _phone_user(stack, client)
        assert client.get("/verify").status_code == 403
        info = mfa_info(client)
        assert info["factors"]["next"] == ["otp-email"]
        assert "otp-email" in info["factors"]["allowedToSetup"]
        assert info["emails"]["otp-email"] == []
        assert info["phoneNumbers"]["otp-phone"] == [PHONE]
        started = create_code(client, email="Ada@Example.com", **LINK).json()
        assert started["status"] == "OK"
        assert (
            "add this address to your bastion-tests account"
            in stack.last_email("Ada@Example.com").text
        )
        body = consume(client, started, stack.code_for("Ada@Example.com"), **LINK).json()
        assert body["status"] == "OK", body
        assert body["createdNewRecipeUser"] is True
        assert body["user"]["id"] == user_id
        assert body["user"]["emails"] == ["Ada@Example.com"]
        assert body["user"]["phoneNumbers"] == [PHONE]
        assert client.get("/verify").json() == {"user": user_id}
        assert "otp-email" in mfa_info(client)["factors"]["alreadySetup"]
    with stack.client() as client:  # the address now signs this user in
        started = create_code(client, email=EMAIL).json()
        body = consume(client, started, stack.code_for("Ada@Example.com")).json()
        assert body["user"]["id"] == user_id


def test_setup_goes_through_the_mfa_guard(start_pl: StartPL) -> None:
    mfa = multifactorauth.init(required_secondary_factors=["totp"])
    stack = start_pl(contact_method="EMAIL_OR_PHONE", mfa=mfa)
    with stack.client() as client:
        _phone_user(stack, client)
        refused = create_code(client, email=EMAIL, **LINK)
        assert refused.status_code == 403
        assert refused.json()["claimValidationErrors"] == [
            {
                "id": "st-mfa",
                "reason": {
                    "message": "Not allowed to setup factor that is not in the next set of "
                    "unsatisfied factors"
                },
            }
        ]
        assert stack.outbox.messages == []
        assert count(stack, "passwordless_devices") == 0


def test_setup_refuses_an_address_of_another_account(start_pl: StartPL) -> None:
    mfa = multifactorauth.init(required_secondary_factors=["otp-email"])
    stack = start_pl(contact_method="EMAIL_OR_PHONE", mfa=mfa)
    with stack.client() as other:
        sign_in_with_code(stack, other, EMAIL)
    sent = len(stack.outbox.messages)
    with stack.client() as client:
        _phone_user(stack, client)
        refused = create_code(client, email=EMAIL, **LINK).json()
        assert refused["status"] == "SIGN_IN_UP_NOT_ALLOWED"
        assert "belongs to another account" in refused["reason"]
        assert len(stack.outbox.messages) == sent


def test_setup_needs_the_mfa_recipe(start_pl: StartPL) -> None:
    stack = start_pl(contact_method="EMAIL_OR_PHONE")
    with stack.client() as client:
        _phone_user(stack, client)
        refused = create_code(client, email=EMAIL, **LINK).json()
        assert refused["status"] == "SIGN_IN_UP_NOT_ALLOWED"
        assert stack.outbox.messages == []


def test_flag_true_without_a_session_is_401(start_pl: StartPL) -> None:
    stack = start_pl(with_emailpassword=True, mfa=required_otp_email())
    with stack.client() as client:
        assert create_code(client, email=EMAIL, **LINK).status_code == 401
        assert stack.outbox.messages == []


def test_a_stale_session_never_blocks_a_sign_in(start_pl: StartPL) -> None:
    stack = start_pl()
    with stack.client() as client:
        sign_in_with_code(stack, client, EMAIL)
        stack.clock.advance(2 * 3600)  # the access token has expired
        assert client.get("/verify").status_code == 401
        started = create_code(client, email="grace@example.com").json()
        assert started["status"] == "OK"
        body = consume(client, started, stack.code_for("grace@example.com")).json()
        assert body["status"] == "OK"
        assert client.get("/verify").json() == {"user": body["user"]["id"]}


def test_mfa_info_lists_the_passwordless_factors(start_pl: StartPL) -> None:
    stack = start_pl(
        contact_method="EMAIL_OR_PHONE",
        flow_type="USER_INPUT_CODE_AND_MAGIC_LINK",
        mfa=multifactorauth.init(),
    )
    with stack.client() as client:
        sign_in_with_code(stack, client, EMAIL)
        info = mfa_info(client)
        assert info["emails"] == {"otp-email": [EMAIL], "link-email": [EMAIL]}
        assert info["phoneNumbers"] == {"otp-phone": [], "link-phone": []}
        assert info["factors"]["alreadySetup"] == ["otp-email", "link-email"]
        assert set(claim(client)["c"]) == {"otp-email"}
        assert client.get("/verify").status_code == 200
        assert client.get(
            "/auth/passwordless/email/exists", params={"email": EMAIL}, headers=FDI
        ).json()["exists"]


def test_a_session_of_a_user_bastion_does_not_keep_gets_no_code(start_pl: StartPL) -> None:
    """Apps may create sessions for users of their own; such a user has no address here."""
    stack = start_pl(mfa=multifactorauth.init())
    with stack.client() as client:
        assert client.post("/create?user=app-user-7").status_code == 200
        refused = create_code(client, email=EMAIL, **LINK)
        assert refused.status_code == 200
        assert refused.json()["status"] == "SIGN_IN_UP_NOT_ALLOWED"
        assert stack.outbox.messages == []
        # Without the flag it is simply a sign-in.
        body = sign_in_with_code(stack, client, EMAIL)
        assert client.get("/whoami").json()["user"] == body["user"]["id"]


def test_a_code_survives_a_refresh_of_its_session(start_pl: StartPL) -> None:
    stack = start_pl(with_emailpassword=True, mfa=required_otp_email())
    with stack.client("header") as client:
        ep_sign_up(client)
        started = create_code(client, email=EMAIL, **LINK).json()
        before = client.access_token
        stack.clock.advance(300)
        assert client.refresh().status_code == 200
        assert client.access_token != before
        body = consume(client, started, stack.code_for(EMAIL), **LINK).json()
        assert body["status"] == "OK"
        assert client.get("/verify").status_code == 200
