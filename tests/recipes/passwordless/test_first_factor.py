"""Passwordless as the first factor over real HTTP: what ``supertokens-web-js`` sends to
``/auth/signinup/*`` and what it must get back (spec 7.3, 11.21)."""

from __future__ import annotations

import pytest

from tests.recipes.passwordless.conftest import (
    FDI,
    StartPL,
    consume,
    consume_link,
    create_code,
    sign_in_with_code,
    wrong,
)

EMAIL = "ada@example.com"


@pytest.mark.parametrize("mode", ["cookie", "header"])
def test_sign_up_then_sign_in_with_an_emailed_code(
    start_pl: StartPL, framework: str, mode: str
) -> None:
    stack = start_pl(framework)
    with stack.client(mode) as client:
        started = create_code(client, email=" Ada@Example.com ")
        assert started.status_code == 200
        body = started.json()
        assert set(body) == {"status", "deviceId", "preAuthSessionId", "flowType"}
        assert body["flowType"] == "USER_INPUT_CODE"
        message = stack.last_email("Ada@Example.com")  # trimmed, case kept
        assert message.subject == "Your bastion-tests sign-in code"
        assert "10 minutes" in message.text
        consumed = consume(client, body, stack.code_for("Ada@Example.com"))
        assert consumed.status_code == 200
        first = consumed.json()
        assert first["status"] == "OK"
        assert first["createdNewRecipeUser"] is True
        user = first["user"]
        assert user["emails"] == ["Ada@Example.com"]
        assert user["loginMethods"] == [
            {
                "recipeId": "passwordless",
                "recipeUserId": user["id"],
                "tenantIds": ["public"],
                "timeJoined": stack.clock.now_ms(),
                "verified": True,  # the code proved the mailbox
                "email": "Ada@Example.com",
            }
        ]
        assert "front-token" in consumed.headers["access-control-expose-headers"]
        assert client.get("/verify").json() == {"user": user["id"]}
    stack.clock.advance(60)
    with stack.client(mode) as client:
        # Same person, other casing: the same user, no new one.
        started = create_code(client, email="ADA@example.com").json()
        # The code went to the address on file, not to the typed variant.
        assert stack.outbox.to("ADA@example.com") == []
        assert len(stack.outbox.to("Ada@Example.com")) == 2
        again = consume(client, started, stack.code_for("Ada@Example.com")).json()
        assert again["createdNewRecipeUser"] is False
        assert again["user"]["id"] == user["id"]
        assert client.get("/verify").json() == {"user": user["id"]}


def test_wrong_codes_are_counted_and_the_fifth_restarts_the_flow(
    start_pl: StartPL, framework: str
) -> None:
    stack = start_pl(framework)
    with stack.client() as client:
        started = create_code(client, email=EMAIL).json()
        code = stack.code_for(EMAIL)
        for n in range(1, 5):
            assert consume(client, started, wrong(code)).json() == {
                "status": "INCORRECT_USER_INPUT_CODE_ERROR",
                "failedCodeInputAttemptCount": n,
                "maximumCodeInputAttempts": 5,
            }
        assert consume(client, started, wrong(code)).json() == {"status": "RESTART_FLOW_ERROR"}
        # The attempt is dead: even the right code does not work any more.
        assert consume(client, started, code).json() == {"status": "RESTART_FLOW_ERROR"}
        assert client.get("/verify").status_code == 401
        assert stack.rows("passwordless_devices") == []
        assert stack.rows("users") == []


def test_a_right_code_after_wrong_ones_still_works_once(start_pl: StartPL) -> None:
    stack = start_pl()
    with stack.client() as client:
        started = create_code(client, email=EMAIL).json()
        code = stack.code_for(EMAIL)
        for _ in range(4):
            consume(client, started, wrong(code))
        assert consume(client, started, f" {code[:3]} {code[3:]} ").json()["status"] == "OK"
        assert consume(client, started, code).json() == {"status": "RESTART_FLOW_ERROR"}


@pytest.mark.parametrize(
    ("elapsed_s", "expected"),
    [(599, "OK"), (601, "EXPIRED_USER_INPUT_CODE_ERROR")],
)
def test_codes_expire_after_ten_minutes(start_pl: StartPL, elapsed_s: int, expected: str) -> None:
    stack = start_pl()
    with stack.client() as client:
        started = create_code(client, email=EMAIL).json()
        stack.clock.advance(elapsed_s)
        body = consume(client, started, stack.code_for(EMAIL)).json()
        assert body["status"] == expected
        if expected != "OK":
            assert body["failedCodeInputAttemptCount"] == 1
            assert body["maximumCodeInputAttempts"] == 5
            assert client.get("/verify").status_code == 401


def test_resend_replaces_the_code_and_the_old_one_stops_working(
    start_pl: StartPL, framework: str
) -> None:
    stack = start_pl(framework)
    with stack.client() as client:
        started = create_code(client, email=EMAIL).json()
        old = stack.code_for(EMAIL)
        assert consume(client, started, wrong(old)).json()["failedCodeInputAttemptCount"] == 1
        stack.clock.advance(590)
        resent = client.post(
            "/auth/signinup/code/resend",
            json={"deviceId": started["deviceId"], "preAuthSessionId": started["preAuthSessionId"]},
            headers=FDI,
        )
        assert resent.json() == {"status": "OK"}
        new = stack.code_for(EMAIL)
        assert len(stack.outbox.to(EMAIL)) == 2
        if new != old:
            assert consume(client, started, old).json()["status"] == (
                "INCORRECT_USER_INPUT_CODE_ERROR"
            )
        stack.clock.advance(300)  # past the first code's lifetime, within the new one's
        body = consume(client, started, new).json()
        assert body["status"] == "OK", body


def test_resend_of_an_unknown_or_used_device_restarts(start_pl: StartPL) -> None:
    stack = start_pl()
    with stack.client() as client:
        other = create_code(client, email="grace@example.com").json()
        assert consume(client, other, stack.code_for("grace@example.com")).json()["status"] == "OK"
        resent = client.post(
            "/auth/signinup/code/resend",
            json={"deviceId": other["deviceId"], "preAuthSessionId": other["preAuthSessionId"]},
            headers=FDI,
        )
        assert resent.json() == {"status": "RESTART_FLOW_ERROR"}
        mismatched = create_code(client, email="alan@example.com").json()
        resent = client.post(
            "/auth/signinup/code/resend",
            json={
                "deviceId": other["deviceId"],
                "preAuthSessionId": mismatched["preAuthSessionId"],
            },
            headers=FDI,
        )
        assert resent.json() == {"status": "RESTART_FLOW_ERROR"}
        assert len(stack.outbox.to("alan@example.com")) == 1


@pytest.mark.parametrize("flow", ["MAGIC_LINK", "USER_INPUT_CODE_AND_MAGIC_LINK"])
def test_magic_link_signs_in_once(start_pl: StartPL, framework: str, flow: str) -> None:
    stack = start_pl(framework, flow_type=flow)
    with stack.client() as client:
        started = create_code(client, email=EMAIL).json()
        assert started["flowType"] == flow
        link = stack.link_for(EMAIL)
        assert link.startswith(
            f"http://127.0.0.1:3000/auth/verify?preAuthSessionId={started['preAuthSessionId']}"
            "&tenantId=public#"
        )
        message = stack.last_email(EMAIL)
        assert message.html is not None and link.replace("&", "&amp;") in message.html
        if flow == "MAGIC_LINK":
            assert message.subject == "Your bastion-tests sign-in link"
            # No code was sent, so none is accepted: nothing to guess at.
            assert consume(client, started, "123456").json() == {"status": "RESTART_FLOW_ERROR"}
    with stack.client() as browser:  # the link may be opened anywhere
        body = consume_link(browser, link).json()
        assert body["status"] == "OK"
        assert browser.get("/verify").json() == {"user": body["user"]["id"]}
        assert consume_link(browser, link).json() == {"status": "RESTART_FLOW_ERROR"}


def test_a_link_with_a_wrong_code_or_after_expiry_restarts(start_pl: StartPL) -> None:
    stack = start_pl(flow_type="MAGIC_LINK")
    with stack.client() as client:
        create_code(client, email=EMAIL)
        link = stack.link_for(EMAIL)
        forged = link[: link.index("#") + 1] + "A" * 43
        assert consume_link(client, forged).json() == {"status": "RESTART_FLOW_ERROR"}
        stack.clock.advance(601)
        assert consume_link(client, link).json() == {"status": "RESTART_FLOW_ERROR"}
        assert client.get("/verify").status_code == 401


def test_user_input_code_flow_does_not_accept_links(start_pl: StartPL) -> None:
    stack = start_pl()
    with stack.client() as client:
        started = create_code(client, email=EMAIL).json()
        body = {"preAuthSessionId": started["preAuthSessionId"], "linkCode": "A" * 43}
        assert client.post("/auth/signinup/code/consume", json=body, headers=FDI).json() == {
            "status": "RESTART_FLOW_ERROR"
        }


def test_exists_checks(start_pl: StartPL, framework: str) -> None:
    stack = start_pl(framework, contact_method="EMAIL_OR_PHONE")
    with stack.client() as client:
        for path in ("/auth/passwordless/email/exists", "/auth/signup/email/exists"):
            assert client.get(path, params={"email": EMAIL}).json() == {
                "status": "OK",
                "exists": False,
            }
        sign_in_with_code(stack, client, EMAIL)
        for path in ("/auth/passwordless/email/exists", "/auth/signup/email/exists"):
            assert client.get(path, params={"email": " ADA@example.com "}).json() == {
                "status": "OK",
                "exists": True,
            }
        phone = "+14155550100"
        params = {"phoneNumber": "+1 (415) 555-0100"}
        paths = ("/auth/passwordless/phonenumber/exists", "/auth/signup/phonenumber/exists")
        for path in paths:
            assert client.get(path, params=params).json() == {"status": "OK", "exists": False}
        started = create_code(client, phoneNumber="+1 415 555 0100").json()
        assert consume(client, started, stack.code_for(phone)).json()["status"] == "OK"
        for path in paths:
            assert client.get(path, params=params).json() == {"status": "OK", "exists": True}
        assert client.get(paths[0], params={"phoneNumber": "nope"}).json()["exists"] is False
        missing = client.get("/auth/passwordless/email/exists")
        assert missing.status_code == 400
        assert missing.json() == {"message": "Please provide the email as a GET param"}
        missing = client.get("/auth/passwordless/phonenumber/exists")
        assert missing.json() == {"message": "Please provide the phoneNumber as a GET param"}


def test_an_email_password_account_is_not_a_passwordless_one(start_pl: StartPL) -> None:
    """No account linking: a passwordless sign-in never lands in an email-password account
    (whose address may never have been proven), as in SuperTokens without linking."""
    from tests.recipes.passwordless.conftest import ep_form

    stack = start_pl(with_emailpassword=True)
    with stack.client() as client:
        up = client.post("/auth/signup", json=ep_form(EMAIL), headers={"rid": "emailpassword"})
        ep_user = up.json()["user"]["id"]
        assert client.get(
            "/auth/passwordless/email/exists", params={"email": EMAIL}, headers=FDI
        ).json() == {"status": "OK", "exists": False}
        assert client.get(
            "/auth/signup/email/exists", params={"email": EMAIL}, headers={"rid": "emailpassword"}
        ).json() == {"status": "OK", "exists": True}
    with stack.client() as client:
        body = sign_in_with_code(stack, client, EMAIL)
        assert body["createdNewRecipeUser"] is True
        assert body["user"]["id"] != ep_user
