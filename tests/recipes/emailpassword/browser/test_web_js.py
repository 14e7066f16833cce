"""Sign-up, sign-in and password reset driven by the real supertokens-web-js 0.16 in Chromium.

The page calls ``EmailPassword.*`` exactly as an app would; nothing in the SDK is adapted to
bastion. Reset links come from the in-memory outbox and are opened in the page, where
``submitNewPassword`` reads the token from the URL as it does in production.
"""

from __future__ import annotations

from typing import Any

import pytest

from bastion.core.passwords import PasswordHashing
from bastion.email import InMemoryOutbox
from bastion.recipe import emailpassword, session
from bastion.recipe.emailpassword import SignInThrottling
from tests.browser.conftest import OpenPage
from tests.browser.harness import Page

EMAIL, PASSWORD = "Ada@Example.com", "correct horse battery 9"
FAST_HASHING = PasswordHashing(time_cost=1, memory_cost_kib=1024)


def fields(**values: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in values.items()]}


@pytest.fixture(params=["cookie", "header"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def outbox() -> InMemoryOutbox:
    return InMemoryOutbox()


@pytest.fixture
def page(open_page: OpenPage, mode: str, outbox: InMemoryOutbox) -> Page:
    return open_page(
        mode,
        recipe_list=[
            session.init(),
            emailpassword.init(
                email_delivery=outbox,
                password_hashing=FAST_HASHING,
                sign_in_throttling=SignInThrottling(account_attempts=3),
            ),
        ],
        recipes=("emailpassword",),
    )


def ep(page: Page, fn: str, payload: dict[str, Any]) -> Any:
    return page.sdk("callRecipe", "emailpassword", fn, payload)


def test_sign_up_sign_in_and_field_errors(page: Page) -> None:
    assert ep(page, "doesEmailExist", {"email": EMAIL}) == {"status": "OK", "doesExist": False}
    up = ep(page, "signUp", fields(email=EMAIL, password=PASSWORD))
    assert up["status"] == "OK", up
    user_id = up["user"]["id"]
    assert page.sdk("doesSessionExist") is True
    assert page.sdk("getUserId") == user_id
    assert ep(page, "doesEmailExist", {"email": "ada@example.com"})["doesExist"] is True

    again = ep(page, "signUp", fields(email="ADA@example.com", password=PASSWORD))
    assert again["status"] == "FIELD_ERROR"
    assert again["formFields"] == [
        {"id": "email", "error": "This email already exists. Please sign in instead."}
    ]
    weak = ep(page, "signUp", fields(email="grace@example.com", password="abc"))
    assert weak["formFields"] == [
        {
            "id": "password",
            "error": "Password must contain at least 8 characters, including a number",
        }
    ]

    page.sdk("signOut")
    assert page.sdk("doesSessionExist") is False
    wrong = ep(page, "signIn", fields(email=EMAIL, password="not it 1"))
    assert wrong["status"] == "WRONG_CREDENTIALS_ERROR"
    assert page.sdk("doesSessionExist") is False
    right = ep(page, "signIn", fields(email="ada@EXAMPLE.com", password=PASSWORD))
    assert right["status"] == "OK"
    assert right["user"]["id"] == user_id
    assert page.sdk("getUserId") == user_id
    exchange = [e for e in page.api_calls() if e.path == "/auth/signin" and e.status == 200][-1]
    assert exchange.request_headers["rid"] == "emailpassword"
    assert "front-token" in exchange.exposed


def test_password_reset_through_the_emailed_link(
    page: Page, outbox: InMemoryOutbox, page_origin: str, mode: str, browser_clock: Any
) -> None:
    assert ep(page, "signUp", fields(email=EMAIL, password=PASSWORD))["status"] == "OK"
    page.sdk("signOut")
    sent = ep(page, "sendPasswordResetEmail", fields(email="ada@example.com"))
    assert sent["status"] == "OK"
    assert ep(page, "sendPasswordResetEmail", fields(email="nobody@example.com"))["status"] == "OK"
    (message,) = outbox.messages
    link = next(word for word in message.text.split() if word.startswith("http"))
    assert link.startswith(page_origin + "/auth/reset-password?token=")

    # The user opens the link; the reset page runs web-js, which reads the token from the URL.
    query = link.split("?", 1)[1]
    page.open(
        f"{page_origin}/index.html?{query}",
        clock_ms=browser_clock.now_ms(),
        tokenTransferMethod=mode,
        recipes=["emailpassword"],
    )
    token = page.sdk("callRecipe", "emailpassword", "getResetPasswordTokenFromURL", None)
    assert token == query.split("token=")[1].split("&")[0]
    done = ep(page, "submitNewPassword", fields(password="a brand new one 2"))
    assert done["status"] == "OK", done
    reused = ep(page, "submitNewPassword", fields(password="yet another one 3"))
    assert reused["status"] == "RESET_PASSWORD_INVALID_TOKEN_ERROR"
    assert ep(page, "signIn", fields(email=EMAIL, password=PASSWORD))["status"] == (
        "WRONG_CREDENTIALS_ERROR"
    )
    assert ep(page, "signIn", fields(email=EMAIL, password="a brand new one 2"))["status"] == "OK"


def test_a_throttled_sign_in_reaches_the_app_as_an_error(page: Page) -> None:
    assert ep(page, "signUp", fields(email=EMAIL, password=PASSWORD))["status"] == "OK"
    page.sdk("signOut")
    for i in range(3):
        assert ep(page, "signIn", fields(email=EMAIL, password=f"guess {i}"))["status"] == (
            "WRONG_CREDENTIALS_ERROR"
        )
    throttled = page.call(
        "callRecipe", "emailpassword", "signIn", fields(email=EMAIL, password=PASSWORD)
    )
    assert throttled["ok"] is False  # the SDK throws on HTTP 429; the app shows its message
    [exchange] = [e for e in page.api_calls() if e.status == 429]
    assert exchange.path == "/auth/signin"
    assert page.sdk("doesSessionExist") is False
