"""The email-password flows over real HTTP on FastAPI, Flask, Django (WSGI) and Django (ASGI):
what ``supertokens-web-js`` sends, and what it must get back (spec sections 7.2, 7.6)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.recipes.emailpassword.conftest import PASSWORD, StartEP, form, sign_in, sign_up

FDI_HEADERS = {"fdi-version": "3.1,4.0,4.1,4.2", "content-type": "application/json"}
USER_KEYS = {
    "id",
    "isPrimaryUser",
    "tenantIds",
    "emails",
    "phoneNumbers",
    "thirdParty",
    "webauthn",
    "loginMethods",
    "timeJoined",
}
INVALID_2FA = {
    "message": "invalid claim",
    "claimValidationErrors": [
        {
            "id": "2fa-completed",
            "reason": {"message": "wrong value", "expectedValue": True, "actualValue": False},
        }
    ],
}


def _token_from(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _link_in(text: str) -> str:
    return next(word for word in text.split() if word.startswith("http"))


@pytest.mark.parametrize("mode", ["cookie", "header"])
def test_sign_up_answers_the_user_and_creates_a_session(
    start_ep: StartEP, framework: str, mode: str
) -> None:
    stack = start_ep(framework)
    with stack.client(mode) as client:
        response = client.post(
            "/auth/signup",
            json={**form(email=" Ada@Example.com ", password=PASSWORD)},
            headers=FDI_HEADERS,
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "OK"
        user = body["user"]
        assert set(user) == USER_KEYS
        assert user["emails"] == ["Ada@Example.com"]  # trimmed, case kept
        assert user["tenantIds"] == ["public"]
        assert user["isPrimaryUser"] is False
        assert user["phoneNumbers"] == []
        assert user["thirdParty"] == []
        assert user["webauthn"] == {"credentialIds": []}
        assert user["timeJoined"] == stack.clock.now_ms()
        assert user["loginMethods"] == [
            {
                "recipeId": "emailpassword",
                "recipeUserId": user["id"],
                "tenantIds": ["public"],
                "timeJoined": stack.clock.now_ms(),
                "verified": False,
                "email": "Ada@Example.com",
            }
        ]
        assert "front-token" in response.headers["access-control-expose-headers"]
        if mode == "header":
            assert client.access_token
            assert client.refresh_token
        else:
            assert client.http.cookies.get("sAccessToken")
        assert client.payload()["sub"] == user["id"]
        assert client.get("/verify").json() == {"user": user["id"]}


def test_sign_in_right_and_wrong(start_ep: StartEP, framework: str) -> None:
    stack = start_ep(framework)
    with stack.client() as first:
        user_id = sign_up(first, "grace@example.com").json()["user"]["id"]

    with stack.client("header") as client:
        wrong = sign_in(client, "grace@example.com", "not the password 1")
        assert wrong.status_code == 200
        assert wrong.json() == {"status": "WRONG_CREDENTIALS_ERROR"}
        assert "front-token" not in wrong.headers
        assert "st-access-token" not in wrong.headers
        unknown = sign_in(client, "nobody@example.com", "not the password 1")
        assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())
        assert client.get("/verify").status_code == 401

        right = sign_in(client, "GRACE@example.com")  # any case of the same email
        assert right.status_code == 200
        assert right.json()["status"] == "OK"
        assert right.json()["user"]["id"] == user_id
        assert client.get("/verify").json() == {"user": user_id}


def test_duplicate_sign_up_is_a_field_error(start_ep: StartEP, framework: str) -> None:
    stack = start_ep(framework)
    with stack.client() as client:
        assert sign_up(client, "linus@example.com").json()["status"] == "OK"
    with stack.client() as client:
        again = sign_up(client, "LINUS@Example.COM", "another password 2")
        assert again.status_code == 200
        assert again.json() == {
            "status": "FIELD_ERROR",
            "formFields": [
                {"id": "email", "error": "This email already exists. Please sign in instead."}
            ],
        }
        assert "front-token" not in again.headers
        exists = client.get(
            "/auth/emailpassword/email/exists", params={"email": "linus@EXAMPLE.com"}
        )
        assert exists.json() == {"status": "OK", "exists": True}
        legacy = client.get("/auth/signup/email/exists", params={"email": "other@example.com"})
        assert legacy.json() == {"status": "OK", "exists": False}


BAD_BODIES = [
    ({}, "formFields must be an array"),
    ({"formFields": "email"}, "formFields must be an array"),
    (
        {"formFields": [{"id": "email"}, {"id": "password", "value": PASSWORD}]},
        "All elements of formFields must contain an 'id' and 'value' field",
    ),
    (
        {"formFields": [{"id": 3, "value": "a@b.co"}, {"id": "password", "value": PASSWORD}]},
        "All elements of formFields must contain an 'id' and 'value' field",
    ),
    (form(email=5, password=PASSWORD), "email value must be a string"),
    (form(email="a@b.co", password=None), "email value must be a string"),
    (form(email="\ud800@b.co", password=PASSWORD), "the request body is not valid JSON"),
    (form(email="a@b.co", password="pass\udfff word 1"), "the request body is not valid JSON"),
    (
        form(email="a@b.co", password=PASSWORD, name="x", age=3),
        "Are you sending too many formFields?",
    ),
]

FIELD_ERRORS = [
    (form(email="", password=PASSWORD), [("email", "Field is not optional")]),
    (
        {"formFields": [{"id": "email", "value": "a@b.co"}]},
        [("password", "Field is not optional")],
    ),
    (form(email="not-an-email", password=PASSWORD), [("email", "Email is not valid")]),
    (
        form(email="a@b.co", password="short1"),
        [("password", "Password must contain at least 8 characters, including a number")],
    ),
    (
        form(email="a@b.co", password="a1" * 50),
        [("password", "Password's length must be lesser than 100 characters")],
    ),
    (
        form(email="a@b.co", password="12345678"),
        [("password", "Password must contain at least one alphabet")],
    ),
    (
        form(email="a@b.co", password="abcdefgh"),
        [("password", "Password must contain at least one number")],
    ),
    (
        form(email="bad", password="bad"),
        [
            ("email", "Email is not valid"),
            ("password", "Password must contain at least 8 characters, including a number"),
        ],
    ),
]


def test_every_form_field_error_of_the_spec(start_ep: StartEP, framework: str) -> None:
    stack = start_ep(framework)
    with stack.client() as client:
        for body, message in BAD_BODIES:
            # json.dumps escapes lone surrogates as \\udXXX, as a browser's JSON.stringify does.
            response = client.post(
                "/auth/signup",
                content=json.dumps(body).encode(),
                headers={"content-type": "application/json"},
            )
            assert (response.status_code, response.json()) == (400, {"message": message}), body
        for body, errors in FIELD_ERRORS:
            response = client.post("/auth/signup", json=body)
            assert response.status_code == 200
            assert response.json() == {
                "status": "FIELD_ERROR",
                "formFields": [{"id": i, "error": e} for i, e in errors],
            }, body
        # Sign-in checks only the email: a weak password is simply wrong.
        weak = client.post("/auth/signin", json=form(email="a@b.co", password="x"))
        assert weak.json() == {"status": "WRONG_CREDENTIALS_ERROR"}
        invalid = client.post("/auth/signin", json=form(email="a@", password="x"))
        assert invalid.json() == {
            "status": "FIELD_ERROR",
            "formFields": [{"id": "email", "error": "Email is not valid"}],
        }
        missing = client.get("/auth/emailpassword/email/exists")
        assert (missing.status_code, missing.json()) == (
            400,
            {"message": "Please provide the email as a GET param"},
        )
        no_token = client.post("/auth/user/password/reset", json=form(password=PASSWORD))
        assert no_token.json() == {"message": "Please provide the password reset token"}
        number = client.post(
            "/auth/user/password/reset", json={**form(password=PASSWORD), "token": 7}
        )
        assert number.json() == {"message": "The password reset token must be a string"}
        not_json = client.post(
            "/auth/signup", content=b"{oops", headers={"content-type": "application/json"}
        )
        assert not_json.status_code == 400
    from bastion.syncio import get_user_count

    assert get_user_count() == 0  # nothing half-written by any of them


def test_reset_token_for_an_unknown_email_is_ok_and_sends_nothing(
    start_ep: StartEP, framework: str
) -> None:
    stack = start_ep(framework)
    with stack.client() as client:
        response = client.post(
            "/auth/user/password/reset/token", json=form(email="ghost@example.com")
        )
        assert (response.status_code, response.json()) == (200, {"status": "OK"})
        invalid = client.post("/auth/user/password/reset/token", json=form(email="ghost"))
        assert invalid.json() == {
            "status": "FIELD_ERROR",
            "formFields": [{"id": "email", "error": "Email is not valid"}],
        }
    assert stack.outbox.messages == []


def test_password_reset_end_to_end(start_ep: StartEP, framework: str) -> None:
    stack = start_ep(framework)
    with stack.client() as owner:
        sign_up(owner, "Margaret@example.com")
        assert owner.refresh().status_code == 200

        # The Host and X-Forwarded-Host headers never make it into the link.
        asked = owner.post(
            "/auth/user/password/reset/token",
            json=form(email="margaret@EXAMPLE.com"),
            headers={"host": "evil.example", "x-forwarded-host": "evil.example"},
        )
        assert asked.json() == {"status": "OK"}
        (message,) = stack.outbox.messages
        assert message.to == "Margaret@example.com"  # the address on file, not the typed one
        link = _link_in(message.text)
        assert link.startswith("http://127.0.0.1:3000/auth/reset-password?token=")
        assert link.endswith("&tenantId=public")
        token = _token_from(link)
        assert len(token) >= 43  # 256 bits, base64url

        weak = owner.post(
            "/auth/user/password/reset",
            json={"method": "token", **form(password="weak"), "token": token},
        )
        assert weak.json()["status"] == "FIELD_ERROR"  # policy first; the token is still good

        done = owner.post(
            "/auth/user/password/reset",
            json={"method": "token", **form(password="a new password 2"), "token": token},
        )
        assert done.json() == {"status": "OK"}
        again = owner.post(
            "/auth/user/password/reset",
            json={"method": "token", **form(password="a third password 3"), "token": token},
        )
        assert again.json() == {"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"}
        # Every session of the user was revoked by the change.
        assert owner.refresh().status_code == 401

    with stack.client() as client:
        assert sign_in(client, "margaret@example.com").json()["status"] == "WRONG_CREDENTIALS_ERROR"
        assert sign_in(client, "margaret@example.com", "a new password 2").json()["status"] == "OK"


def test_email_verification_required_gives_403_until_the_link_is_used(
    start_ep: StartEP, framework: str
) -> None:
    stack = start_ep(framework, verification="REQUIRED")
    ev = {"rid": "emailverification"}
    with stack.client() as client:
        user_id = sign_up(client, "katherine@example.com").json()["user"]["id"]
        assert client.payload()["st-ev"]["v"] is False
        denied = client.get("/verify")
        assert denied.status_code == 403
        assert denied.json() == {
            "message": "invalid claim",
            "claimValidationErrors": [
                {
                    "id": "st-ev",
                    "reason": {
                        "message": "wrong value",
                        "expectedValue": True,
                        "actualValue": False,
                    },
                }
            ],
        }
        # The frontend's claim refresh: still false.
        check = client.get("/auth/user/email/verify", headers=ev)
        assert check.json() == {"status": "OK", "isVerified": False}

        sent = client.post("/auth/user/email/verify/token", headers=ev)
        assert sent.json() == {"status": "OK"}
        (message,) = stack.outbox.to("katherine@example.com")
        link = _link_in(message.text)
        assert link.startswith("http://127.0.0.1:3000/auth/verify-email?token=")
        stack.clock.advance(30)
        assert client.get("/verify").status_code == 403  # refetched: still not verified

        verified = client.post(
            "/auth/user/email/verify",
            json={"method": "token", "token": _token_from(link)},
            headers=ev,
        )
        assert verified.status_code == 200
        assert verified.json()["status"] == "OK"
        assert verified.json()["user"]["loginMethods"][0]["verified"] is True
        assert client.payload()["st-ev"]["v"] is True  # new token on that response
        assert client.get("/verify").json() == {"user": user_id}

        reused = client.post(
            "/auth/user/email/verify",
            json={"method": "token", "token": _token_from(link)},
            headers=ev,
        )
        assert reused.json() == {"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"}
        already = client.post("/auth/user/email/verify/token", headers=ev)
        assert already.json() == {"status": "EMAIL_ALREADY_VERIFIED_ERROR"}


def test_seed_flow_with_a_real_first_factor(start_ep: StartEP, framework: str) -> None:
    """Sign in with email-password: ``2fa-completed`` is false, so ``/like_comment`` is 403."""
    stack = start_ep(framework)
    with stack.client() as client:
        sign_up(client, "seed@example.com")
    with stack.client() as client:
        assert sign_in(client, "seed@example.com").json()["status"] == "OK"
        denied = client.post("/like_comment")
        assert denied.status_code == 403
        assert denied.json() == INVALID_2FA
        assert client.post("/second-factor").status_code == 200
        assert client.post("/like_comment").status_code == 200


def test_fastapi_seed_snippet_with_a_real_first_factor(init_app, serve) -> None:  # type: ignore[no-untyped-def]
    """The seed's own FastAPI snippet (``tests/apps/seed_fastapi.py``), first factor real."""
    from bastion.email import InMemoryOutbox
    from bastion.recipe import emailpassword, session
    from tests.apps import seed_fastapi
    from tests.recipes.emailpassword.conftest import FAST_HASHING

    init_app(
        recipe_list=[
            session.init(),
            emailpassword.init(email_delivery=InMemoryOutbox(), password_hashing=FAST_HASHING),
        ]
    )
    server = serve(seed_fastapi.per_route_app())
    with httpx.Client(base_url=server.url) as http:
        headers = {"rid": "emailpassword", "st-auth-mode": "cookie"}
        http.post(
            "/auth/signup", json=form(email="seed@example.com", password=PASSWORD), headers=headers
        )
        http.cookies.clear()
        signed_in = http.post(
            "/auth/signin", json=form(email="seed@example.com", password=PASSWORD), headers=headers
        )
        assert signed_in.json()["status"] == "OK"
        denied = http.post("/like_comment", headers={"rid": "anti-csrf"})
        assert denied.status_code == 403
        assert denied.json() == INVALID_2FA
