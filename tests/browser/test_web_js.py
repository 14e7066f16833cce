"""The official frontend SDK (supertokens-web-js 0.16) in headless Chromium against bastion.

The page and the API are on different origins (both ``localhost``), so every call is a CORS
call, as in a real deployment. Each test runs in cookie and in header mode.
"""

from __future__ import annotations

import pytest

from bastion.bridge import run_sync
from bastion.clock import ManualClock
from bastion.recipe.session.asyncio import (
    get_all_session_handles_for_user,
    get_session_information,
    revoke_session,
)
from tests.browser.conftest import OpenPage
from tests.browser.harness import Exchange, Page

INVALID_2FA = {
    "message": "invalid claim",
    "claimValidationErrors": [
        {
            "id": "2fa-completed",
            "reason": {"message": "wrong value", "expectedValue": True, "actualValue": False},
        }
    ],
}
VALIDITY_S = 60


@pytest.fixture(params=["cookie", "header"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(open_page: OpenPage, mode: str) -> Page:
    return open_page(mode, access_token_validity=VALIDITY_S)


def calls(exchanges: list[Exchange]) -> list[tuple[str, str, int | None]]:
    return [(e.method, e.path, e.status) for e in exchanges]


def create_session(page: Page, payload: dict[str, object] | None = None) -> str:
    created = page.fetch("/create-session", "POST", {"user": "user-1", "payload": payload})
    assert created["status"] == 200, created
    return str(created["body"]["handle"])


def test_fresh_browser_has_no_session(page: Page) -> None:
    assert page.sdk("doesSessionExist") is False

    # The SDK cannot know there is no session, so it asks for a refresh with no tokens.
    [refresh] = page.api_calls()
    assert (refresh.method, refresh.path, refresh.status) == ("POST", "/auth/session/refresh", 401)
    assert refresh.response_headers["front-token"] == "remove"
    assert "front-token" in refresh.exposed
    assert page.sdk("doesSessionExist") is False
    assert page.api_calls() == []  # the answer was remembered


def test_session_created_by_the_backend_is_seen_by_the_sdk(page: Page, mode: str) -> None:
    handle = create_session(page, {"plan": "gold"})

    exchanges = page.api_calls()
    assert calls(exchanges)[-1] == ("POST", "/create-session", 200)
    created = exchanges[-1]
    assert created.request_headers["st-auth-mode"] == mode
    expected_exposed = {"front-token"} | (
        {"st-access-token", "st-refresh-token"} if mode == "header" else set()
    )
    assert expected_exposed <= created.exposed, created.response_headers
    assert "SESSION_CREATED" in page.events()

    assert page.sdk("doesSessionExist") is True
    assert page.sdk("getUserId") == "user-1"
    payload = page.sdk("getAccessTokenPayloadSecurely")
    assert payload["plan"] == "gold"
    assert payload["sub"] == "user-1"
    assert payload["sessionHandle"] == handle

    profile = page.fetch("/profile")
    assert profile["status"] == 200
    assert profile["body"] == {"user": "user-1", "handle": handle}
    [sent] = page.api_calls()
    if mode == "header":
        assert sent.request_headers["authorization"].startswith("Bearer ey")
        assert "sAccessToken" not in sent.request_headers.get("cookie", "")
    else:
        assert "sAccessToken=" in sent.request_headers["cookie"]
        assert "authorization" not in sent.request_headers


def test_claim_protected_route_is_403_until_the_claim_is_set(page: Page) -> None:
    create_session(page)
    # The claim is not in the token yet (the 403 below does not send the value it fetched).
    assert page.sdk("validateBooleanClaim", "2fa-completed", True) == [
        {
            "id": "2fa-completed",
            "reason": {"message": "value does not exist", "expectedValue": True},
        }
    ]
    page.events()

    denied = page.fetch("/like-comment", "POST")
    assert denied["status"] == 403
    assert denied["body"] == INVALID_2FA
    assert page.events() == ["API_INVALID_CLAIM"]
    assert page.sdk("doesSessionExist") is True  # a 403 does not end the session

    assert page.fetch("/second-factor", "POST")["status"] == 200
    assert "ACCESS_TOKEN_PAYLOAD_UPDATED" in page.events()
    assert page.sdk("getAccessTokenPayloadSecurely")["2fa-completed"]["v"] is True
    assert page.sdk("validateBooleanClaim", "2fa-completed", True) == []

    allowed = page.fetch("/like-comment", "POST")
    assert allowed["status"] == 200
    assert allowed["body"] == {"liked": True}


def test_expired_access_token_is_refreshed_transparently(
    page: Page, browser_clock: ManualClock
) -> None:
    handle = create_session(page)
    first_payload = page.sdk("getAccessTokenPayloadSecurely")
    page.api_calls()

    # Only the server sees the expiry: the app call gets 401, the SDK refreshes and retries.
    browser_clock.advance(VALIDITY_S + 1)
    profile = page.fetch("/profile")
    assert profile["status"] == 200
    assert profile["body"]["handle"] == handle
    assert calls(page.api_calls()) == [
        ("GET", "/profile", 401),
        ("POST", "/auth/session/refresh", 200),
        ("GET", "/profile", 200),
    ]
    assert "REFRESH_SESSION" in page.events()
    second_payload = page.sdk("getAccessTokenPayloadSecurely")
    assert second_payload["exp"] > first_payload["exp"]

    # Both clocks move: the SDK sees the front token's expiry and refreshes before answering.
    browser_clock.advance(VALIDITY_S + 1)
    page.fast_forward(VALIDITY_S + 1)
    assert page.sdk("doesSessionExist") is True
    assert calls(page.api_calls()) == [("POST", "/auth/session/refresh", 200)]
    assert page.fetch("/profile")["status"] == 200
    assert run_sync(get_all_session_handles_for_user("user-1")) == [handle]


def test_sign_out_ends_the_session_on_the_server(page: Page) -> None:
    handle = create_session(page)
    page.api_calls()

    page.sdk("signOut")

    [signout] = page.api_calls()
    assert (signout.method, signout.path, signout.status) == ("POST", "/auth/signout", 200)
    assert signout.request_headers["rid"] == "session"
    assert signout.response_headers["front-token"] == "remove"
    assert "SIGN_OUT" in page.events()
    assert run_sync(get_session_information(handle)) is None
    assert page.sdk("doesSessionExist") is False
    assert page.fetch("/profile")["status"] == 401


def test_concurrent_calls_with_an_expired_token_share_one_refresh(
    page: Page, browser_clock: ManualClock
) -> None:
    handle = create_session(page)
    page.api_calls()

    browser_clock.advance(VALIDITY_S + 1)
    answers = page.sdk("fetchAll", ["/profile", "/profile", "/profile"])

    assert [a["status"] for a in answers] == [200, 200, 200]
    exchanges = page.api_calls()
    assert [e.path for e in exchanges].count("/auth/session/refresh") == 1, calls(exchanges)
    assert run_sync(get_all_session_handles_for_user("user-1")) == [handle]


def test_revoked_session_ends_in_the_browser_at_the_next_refresh(
    page: Page, browser_clock: ManualClock
) -> None:
    handle = create_session(page)
    assert run_sync(revoke_session(handle)) is True
    page.api_calls()
    page.events()

    browser_clock.advance(VALIDITY_S + 1)
    profile = page.fetch("/profile")

    # The caller gets the refresh call's answer, not the first 401.
    assert profile["status"] == 401
    assert profile["body"] == {"message": "unauthorised"}
    exchanges = page.api_calls()
    assert calls(exchanges) == [
        ("GET", "/profile", 401),
        ("POST", "/auth/session/refresh", 401),
    ]
    assert exchanges[1].response_headers["front-token"] == "remove"
    assert "UNAUTHORISED" in page.events()
    assert page.sdk("doesSessionExist") is False
    assert page.api_calls() == []


def test_sign_out_with_an_expired_access_token_refreshes_first(
    page: Page, browser_clock: ManualClock
) -> None:
    handle = create_session(page)
    page.api_calls()

    browser_clock.advance(VALIDITY_S + 1)
    page.sdk("signOut")

    assert calls(page.api_calls()) == [
        ("POST", "/auth/signout", 401),
        ("POST", "/auth/session/refresh", 200),
        ("POST", "/auth/signout", 200),
    ]
    assert run_sync(get_session_information(handle)) is None


@pytest.mark.parametrize("anti_csrf", ["VIA_TOKEN", "VIA_CUSTOM_HEADER"])
def test_anti_csrf_in_cookie_mode(
    open_page: OpenPage, browser_clock: ManualClock, anti_csrf: str
) -> None:
    page = open_page("cookie", access_token_validity=VALIDITY_S, anti_csrf=anti_csrf)
    create_session(page)
    created = page.api_calls()[-1]
    token = created.response_headers.get("anti-csrf")
    if anti_csrf == "VIA_TOKEN":
        assert token
        assert "anti-csrf" in created.exposed
    else:
        assert token is None

    assert page.fetch("/second-factor", "POST")["status"] == 200
    browser_clock.advance(VALIDITY_S + 1)
    assert page.fetch("/like-comment", "POST")["status"] == 200  # after a refresh

    exchanges = page.api_calls()
    assert calls(exchanges) == [
        ("POST", "/second-factor", 200),
        ("POST", "/like-comment", 401),
        ("POST", "/auth/session/refresh", 200),
        ("POST", "/like-comment", 200),
    ]
    # A refresh issues a new anti-CSRF token, which the SDK sends from then on.
    renewed = exchanges[2].response_headers.get("anti-csrf")
    sent = [e.request_headers.get("anti-csrf") for e in exchanges]
    assert sent == [token, token, token, renewed]
    if anti_csrf == "VIA_TOKEN":
        assert renewed
        assert renewed != token
    assert all(e.request_headers["rid"] for e in exchanges)
