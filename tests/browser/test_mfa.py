"""The issue's MFA flow driven by the real frontend SDK (supertokens-web-js 0.16) in Chromium.

bastion requires TOTP of every user with one line of config; the page signs up and in with
``EmailPassword``, learns what is missing with ``MultiFactorAuth``, and enrols and answers with
``TOTP``. The test computes codes with pyotp from the server's clock (a ManualClock started at
the real time; the page's clock moves with it), so nothing depends on when a 30 s step ends.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from bastion.bridge import run_sync
from bastion.clock import ManualClock
from bastion.core.passwords import PasswordHashing
from bastion.recipe import emailpassword, multifactorauth, session, totp
from bastion.recipe.totp.asyncio import get_failed_attempts
from tests.browser.conftest import OpenPage
from tests.browser.harness import Exchange, Page

EMAIL, PASSWORD = "ada@example.com", "correct horse battery staple 9"
# Hashing cost is not what this suite tests.
FAST_HASHING = PasswordHashing(time_cost=1, memory_cost_kib=1024)
PERIOD_S = 30
MFA_FAILURE = {
    "id": "st-mfa",
    "reason": {"message": "MFA requirement for auth is not satisfied"},
}


@pytest.fixture(params=["cookie", "header"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(open_page: OpenPage, mode: str) -> Page:
    return open_page(
        mode,
        recipe_list=[
            session.init(),
            emailpassword.init(password_hashing=FAST_HASHING),
            multifactorauth.init(
                first_factors=["emailpassword"], required_secondary_factors=["totp"]
            ),
            totp.init(),
        ],
        recipes=("emailpassword", "multifactorauth", "totp"),
    )


def calls(exchanges: list[Exchange]) -> list[tuple[str, str, int | None]]:
    return [(e.method, e.path, e.status) for e in exchanges]


def form(email: str = EMAIL, password: str = PASSWORD) -> dict[str, Any]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]}


def code(secret: str, clock: ManualClock, *, steps: int = 0) -> str:
    """What an authenticator app shows at the server's time (``steps`` periods later)."""
    return str(pyotp.TOTP(secret).at(clock.now_ms() // 1000 + PERIOD_S * steps))


def wrong_code(secret: str, clock: ManualClock) -> str:
    """A code that no step of the server's ±1 window accepts."""
    valid = {code(secret, clock, steps=s) for s in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in valid)


def mfa_claim(page: Page) -> dict[str, Any]:
    claim: dict[str, Any] = page.sdk("getAccessTokenPayloadSecurely")["st-mfa"]
    return claim


def sign_up(page: Page) -> str:
    """``EmailPassword.signUp`` through the SDK; returns the new user's id."""
    up = page.sdk("callRecipe", "emailpassword", "signUp", form())
    assert up["status"] == "OK", up
    assert up["user"]["emails"] == [EMAIL]
    return str(up["user"]["id"])


def enrol(page: Page, clock: ManualClock) -> str:
    """``TOTP.createDevice`` + ``verifyDevice`` with the current code; returns the secret."""
    created = page.sdk("callRecipe", "totp", "createDevice", {})
    assert created["status"] == "OK", created
    verified = page.sdk(
        "callRecipe",
        "totp",
        "verifyDevice",
        {"deviceName": created["deviceName"], "totp": code(created["secret"], clock)},
    )
    assert verified == {"status": "OK", "wasAlreadyVerified": False}
    return str(created["secret"])


def assert_mfa_pending(page: Page) -> None:
    """The app refuses the session, and the SDK agrees that a factor is missing."""
    denied = page.fetch("/profile")
    assert denied["status"] == 403
    assert denied["body"] == {"message": "invalid claim", "claimValidationErrors": [MFA_FAILURE]}
    assert page.sdk("doesSessionExist") is True  # a 403 does not end the session
    # web-js's own MultiFactorAuth validator, registered as a global one by the recipe.
    assert page.sdk("validateClaims") == [
        {"id": "st-mfa", "reason": {"message": "not all required factors have been completed"}}
    ]


def assert_mfa_done(page: Page, user_id: str) -> None:
    """The SDK's payload says MFA is complete, its validator agrees, and the app lets it in."""
    claim = mfa_claim(page)
    assert claim["v"] is True
    assert set(claim["c"]) == {"emailpassword", "totp"}
    assert page.sdk("validateClaims") == []
    allowed = page.fetch("/profile")
    assert allowed["status"] == 200
    assert allowed["body"]["user"] == user_id


def test_sign_up_then_totp_enrolment_unlocks_the_app(
    page: Page, browser_clock: ManualClock
) -> None:
    user_id = sign_up(page)
    assert page.sdk("doesSessionExist") is True
    assert page.sdk("getUserId") == user_id
    assert mfa_claim(page) == {"c": {"emailpassword": browser_clock.now_ms() // 1000}, "v": False}
    page.events()
    assert_mfa_pending(page)
    assert "API_INVALID_CLAIM" in page.events()

    info = page.sdk("callRecipe", "multifactorauth", "resyncSessionAndFetchMFAInfo")
    assert info == {
        "status": "OK",
        "factors": {
            "next": ["totp"],
            "alreadySetup": ["emailpassword"],
            "allowedToSetup": ["totp"],
        },
        "emails": {"emailpassword": [EMAIL]},
        "phoneNumbers": {},
    }

    created = page.sdk("callRecipe", "totp", "createDevice", {})
    assert created["status"] == "OK"
    secret = created["secret"]
    uri = urlsplit(created["qrCodeString"])
    assert (uri.scheme, uri.netloc, unquote(uri.path)) == (
        "otpauth",
        "totp",
        f"/bastion-tests:{EMAIL}",
    )
    assert parse_qs(uri.query) == {
        "secret": [secret],
        "issuer": ["bastion-tests"],
        "digits": ["6"],
        "period": ["30"],
    }
    # The code comes from what an authenticator app reads in the QR code (pyotp parses it).
    authenticator = pyotp.parse_uri(created["qrCodeString"])
    page.api_calls()

    verified = page.sdk(
        "callRecipe",
        "totp",
        "verifyDevice",
        {
            "deviceName": created["deviceName"],
            "totp": authenticator.at(browser_clock.now_ms() // 1000),
        },
    )
    assert verified == {"status": "OK", "wasAlreadyVerified": False}
    [exchange] = page.api_calls()
    assert (exchange.path, exchange.request_headers["rid"]) == ("/auth/totp/device/verify", "totp")
    # The SDK learns the new st-mfa from this answer's front token.
    assert exchange.response_headers["front-token"] != "remove"
    assert "front-token" in exchange.exposed
    assert "ACCESS_TOKEN_PAYLOAD_UPDATED" in page.events()
    assert_mfa_done(page, user_id)

    listed = page.sdk("callRecipe", "totp", "listDevices")
    assert listed["status"] == "OK"
    [device] = listed["devices"]
    # The fields web-js declares (bastion adds the device's algorithm and digits).
    assert {k: device[k] for k in ("name", "period", "skew", "verified")} == {
        "name": created["deviceName"],
        "period": 30,
        "skew": 1,
        "verified": True,
    }


def test_next_sign_in_needs_a_fresh_totp_code(page: Page, browser_clock: ManualClock) -> None:
    user_id = sign_up(page)
    secret = enrol(page, browser_clock)
    used = code(secret, browser_clock)
    page.sdk("signOut")
    assert page.sdk("doesSessionExist") is False

    signed_in = page.sdk("callRecipe", "emailpassword", "signIn", form())
    assert signed_in["status"] == "OK", signed_in
    assert signed_in["user"]["id"] == user_id
    assert set(mfa_claim(page)["c"]) == {"emailpassword"}
    assert_mfa_pending(page)

    info = page.sdk("callRecipe", "multifactorauth", "resyncSessionAndFetchMFAInfo")
    assert "totp" in info["factors"]["alreadySetup"]
    assert info["factors"]["next"] == ["totp"]

    wrong = page.sdk(
        "callRecipe", "totp", "verifyCode", {"totp": wrong_code(secret, browser_clock)}
    )
    assert wrong == {
        "status": "INVALID_TOTP_ERROR",
        "currentNumberOfFailedAttempts": 1,
        "maxNumberOfFailedAttempts": 5,
    }
    # The code that enrolled the device is still inside the time window, but it was used.
    replayed = page.sdk("callRecipe", "totp", "verifyCode", {"totp": used})
    assert replayed == {
        "status": "INVALID_TOTP_ERROR",
        "currentNumberOfFailedAttempts": 2,
        "maxNumberOfFailedAttempts": 5,
    }
    assert_mfa_pending(page)

    # 30 s later, on both clocks, the authenticator shows the next code.
    browser_clock.advance(PERIOD_S)
    page.fast_forward(PERIOD_S)
    fresh = code(secret, browser_clock)
    assert fresh != used
    page.events()
    page.api_calls()
    assert page.sdk("callRecipe", "totp", "verifyCode", {"totp": fresh}) == {"status": "OK"}
    [verify] = page.api_calls()
    assert (verify.method, verify.path, verify.request_headers["rid"]) == (
        "POST",
        "/auth/totp/verify",
        "totp",
    )
    assert verify.response_headers["front-token"] != "remove"
    assert "front-token" in verify.exposed
    assert "ACCESS_TOKEN_PAYLOAD_UPDATED" in page.events()
    assert_mfa_done(page, user_id)
    assert run_sync(get_failed_attempts(user_id)).consecutive == 0


def test_sdk_fetches_a_missing_claim_through_mfa_info(page: Page) -> None:
    # A session made by app code has no st-mfa yet (bastion, like SuperTokens, only adds the
    # validator): web-js's validator then asks PUT /mfa/info, which puts the claim in the token.
    assert page.fetch("/create-session", "POST", {"user": "user-1"})["status"] == 200
    assert "st-mfa" not in page.sdk("getAccessTokenPayloadSecurely")
    page.api_calls()

    assert page.sdk("validateClaims") == [
        {"id": "st-mfa", "reason": {"message": "not all required factors have been completed"}}
    ]
    [resync] = page.api_calls()
    assert calls([resync]) == [("PUT", "/auth/mfa/info", 200)]
    assert resync.request_headers["rid"] == "multifactorauth"
    assert resync.response_headers["front-token"] != "remove"
    assert "front-token" in resync.exposed
    assert mfa_claim(page) == {"c": {}, "v": False}
    assert page.fetch("/profile")["status"] == 403


def test_a_second_factor_after_the_deadline_ends_the_session(
    page: Page, browser_clock: ManualClock
) -> None:
    # 11 minutes after the password, the SDK's TOTP call gets 401 with the session revoked
    # and its tokens cleared (front-token: remove): the SDK ends the session at once, without
    # trying a refresh, and the user starts over from the password.
    sign_up(page)
    secret = enrol(page, browser_clock)
    page.sdk("signOut")
    assert page.sdk("callRecipe", "emailpassword", "signIn", form())["status"] == "OK"
    browser_clock.advance(11 * 60)
    page.fast_forward(11 * 60)
    page.events()
    page.api_calls()
    late = page.call("callRecipe", "totp", "verifyCode", {"totp": code(secret, browser_clock)})
    assert late["ok"] is False  # the call throws (the querier does on a status >= 300)
    [exchange] = page.api_calls()
    assert calls([exchange]) == [("POST", "/auth/totp/verify", 401)]
    assert exchange.response_headers["front-token"] == "remove"
    assert "UNAUTHORISED" in page.events()
    assert page.sdk("doesSessionExist") is False
    # Starting over works, with the code of the next step.
    assert page.sdk("callRecipe", "emailpassword", "signIn", form())["status"] == "OK"
    browser_clock.advance(PERIOD_S)
    page.fast_forward(PERIOD_S)
    assert page.sdk("callRecipe", "totp", "verifyCode", {"totp": code(secret, browser_clock)}) == {
        "status": "OK"
    }


def test_a_stale_second_factor_gets_the_step_up_answer(
    page: Page, browser_clock: ManualClock
) -> None:
    # Removing a device 6 minutes after the last TOTP: a 403 st-mfa the SDK reports as an
    # invalid claim (API_INVALID_CLAIM), the session intact; a fresh code lets the removal
    # of a second device through.
    sign_up(page)
    enrol(page, browser_clock)
    browser_clock.advance(6 * 60)
    page.fast_forward(6 * 60)
    page.events()
    page.api_calls()
    refused = page.call("callRecipe", "totp", "removeDevice", {"deviceName": "TOTP Device 0"})
    assert refused["ok"] is False
    [exchange] = page.api_calls()
    assert (exchange.path, exchange.status) == ("/auth/totp/device/remove", 403)
    assert exchange.response_headers["www-authenticate"].startswith(
        'Bearer error="insufficient_user_authentication"'
    )
    assert "API_INVALID_CLAIM" in page.events()
    assert page.sdk("doesSessionExist") is True
    listed = page.sdk("callRecipe", "totp", "listDevices")
    assert [d["name"] for d in listed["devices"]] == ["TOTP Device 0"]
