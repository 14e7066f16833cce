"""One behaviour, four stacks: FastAPI, Flask, Django under WSGI and Django under ASGI.

Each scenario sends the same requests to the same app (``tests/adapters/apps.py``) on every
stack and asserts what it expects on each; then the whole transcripts (status, JSON body,
``Set-Cookie`` lines and the session headers) must be identical to FastAPI's. Token values are
random, so they are compared by shape (empty or not; the front token's payload with its random
fields masked); everything else, expiry dates included, is compared exactly: every stack runs
on a :class:`~bastion.clock.ManualClock` starting at the same instant.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bastion.recipe import emailpassword
from tests.adapters.apps import WEBSITE_DOMAIN
from tests.adapters.conftest import FRAMEWORKS, Stack, StartStack

SESSION_HEADERS = [
    "front-token",
    "st-access-token",
    "st-refresh-token",
    "anti-csrf",
    "access-control-expose-headers",
    "content-type",
    "www-authenticate",
    "cache-control",
]
CORS_HEADERS = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
]
CORS_SAFELISTED = {"accept", "accept-language", "content-language"}
# Payload fields that are random per session: compared as "present".
RANDOM_PAYLOAD_KEYS = {
    "sessionHandle",
    "refreshTokenHash1",
    "parentRefreshTokenHash1",
    "antiCsrfToken",
}

UNAUTHORISED = {"message": "unauthorised"}
TRY_REFRESH = {"message": "try refresh token"}
THEFT = {"message": "token theft detected"}
INVALID_2FA = {
    "message": "invalid claim",
    "claimValidationErrors": [
        {
            "id": "2fa-completed",
            "reason": {"message": "wrong value", "expectedValue": True, "actualValue": False},
        }
    ],
}
ACCESS, REFRESH = "sAccessToken", "sRefreshToken"


# -- what is compared -----------------------------------------------------------------------------


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _mask_ids(value: Any) -> Any:
    """User ids are random UUIDs: compared as ``<uuid>``."""
    if isinstance(value, str) and UUID.match(value):
        return "<uuid>"
    if isinstance(value, dict):
        return {k: _mask_ids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_ids(v) for v in value]
    return value


def _front_token_shape(value: str) -> Any:
    if value == "remove":
        return value
    decoded = json.loads(base64.b64decode(value))
    payload = {k: ("<random>" if k in RANDOM_PAYLOAD_KEYS else v) for k, v in decoded["up"].items()}
    return _mask_ids({"uid": decoded["uid"], "ate": decoded["ate"], "up": payload})


def _header_shape(name: str, value: str) -> Any:
    if name in ("access-control-allow-methods", "access-control-allow-headers"):
        # A set; Starlette also lists the CORS-safelisted headers, which need no allowing.
        return sorted({v.strip().lower() for v in value.split(",")} - CORS_SAFELISTED)
    if name == "front-token":
        return _front_token_shape(value)
    if name in ("st-access-token", "st-refresh-token", "anti-csrf"):
        return "<token>" if value else ""
    return value


def _cookie_shape(line: str) -> tuple[str, str, tuple[str, ...]]:
    first, *attributes = line.split("; ")
    name, _, value = first.partition("=")
    return name, ("<token>" if value else ""), tuple(attributes)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def transcript_entry(label: str, response: httpx.Response, headers: list[str]) -> dict[str, Any]:
    """What a client can observe of one response, with random token values reduced to shapes."""
    return {
        "request": label,
        "status": response.status_code,
        "body": _mask_ids(_body(response)),
        "cookies": sorted(_cookie_shape(line) for line in response.headers.get_list("set-cookie")),
        "headers": {
            name: _header_shape(name, response.headers[name])
            for name in headers
            if name in response.headers
        },
    }


# -- a client that keeps tokens explicitly --------------------------------------------------------


class Driver:
    """Sends requests to one stack and records every response; cookies are sent by hand."""

    def __init__(self, stack: Stack, headers: list[str]) -> None:
        self.stack = stack
        self.http = httpx.Client(base_url=stack.url, timeout=30)
        self.headers = headers
        self.transcript: list[dict[str, Any]] = []

    def send(
        self,
        label: str,
        method: str,
        path: str,
        *,
        headers: dict[str, Any] | None = None,
        cookies: list[tuple[str, str]] | None = None,
        content: bytes | None = None,
        preflight: bool = False,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if cookies:
            sent["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies)
        response = self.http.request(method, path, headers=sent, content=content)
        self.http.cookies.clear()  # the scenario decides what to send next
        entry = transcript_entry(label, response, self.headers)
        if preflight:
            # Preflight bodies ("OK" or empty, text/plain or text/html) are the CORS library's
            # choice and ignored by browsers: only the status and the CORS headers count.
            entry = {
                "request": label,
                "status": entry["status"],
                "headers": {k: v for k, v in entry["headers"].items() if k in CORS_HEADERS},
            }
        self.transcript.append(entry)
        return response

    def close(self) -> None:
        self.http.close()


class Session:
    """One client session's tokens, in cookie or header mode, kept as the frontend SDK does."""

    def __init__(self, driver: Driver, mode: str) -> None:
        self.d = driver
        self.mode = mode
        self.access = ""
        self.refresh_token = ""
        self.anti_csrf: str | None = None

    def keep(self, response: httpx.Response) -> httpx.Response:
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if name == ACCESS:
                self.access = value
            elif name == REFRESH:
                self.refresh_token = value
        for header, attr in (("st-access-token", "access"), ("st-refresh-token", "refresh_token")):
            if header in response.headers:
                setattr(self, attr, response.headers[header])
        if "anti-csrf" in response.headers:
            self.anti_csrf = response.headers["anti-csrf"]
        return response

    def _auth(self, token: str, cookie: str) -> dict[str, Any]:
        headers = {"st-auth-mode": self.mode, "rid": "anti-csrf"}
        if self.anti_csrf:
            headers["anti-csrf"] = self.anti_csrf
        if self.mode == "header":
            return {"headers": headers | {"authorization": f"Bearer {token}"}}
        return {"headers": headers, "cookies": [(cookie, token)]}

    def create(self, user: str = "user-1") -> httpx.Response:
        return self.keep(
            self.d.send(
                f"create {self.mode}",
                "POST",
                f"/create?user={user}",
                headers={"st-auth-mode": self.mode, "rid": "anti-csrf"},
            )
        )

    def call(self, method: str, path: str, label: str = "") -> httpx.Response:
        kwargs = self._auth(self.access, ACCESS)
        return self.keep(self.d.send(label or f"{method} {path}", method, path, **kwargs))

    def refresh(self, token: str | None = None, label: str = "refresh") -> httpx.Response:
        kwargs = self._auth(self.refresh_token if token is None else token, REFRESH)
        kwargs["headers"]["rid"] = "session"
        return self.keep(self.d.send(label, "POST", "/auth/session/refresh", **kwargs))


# -- scenarios -------------------------------------------------------------------------------------
# Each takes a driver, sends its requests and asserts what every stack must answer.

Scenario = Callable[[Driver], None]


def _cleared_both(response: httpx.Response) -> None:
    """The response clears the session in both transfer methods, as the spec demands."""
    lines = response.headers.get_list("set-cookie")
    assert sorted(line.split("=", 1)[0] for line in lines) == [ACCESS, REFRESH]
    assert all("=;" in line and "Expires=Thu, 01 Jan 1970" in line for line in lines)
    assert response.headers["st-access-token"] == ""
    assert response.headers["st-refresh-token"] == ""
    assert response.headers["front-token"] == "remove"


def create(mode: str) -> Scenario:
    def scenario(d: Driver) -> None:
        s = Session(d, mode)
        response = s.create()
        assert response.status_code == 200
        assert response.json() == {"status": "OK"}
        assert response.headers["front-token"]
        if mode == "cookie":
            assert {c.split("=", 1)[0] for c in response.headers.get_list("set-cookie")} == {
                ACCESS,
                REFRESH,
            }
            assert "st-access-token" not in response.headers
        else:
            assert "set-cookie" not in response.headers
            assert response.headers["st-access-token"]
            assert response.headers["st-refresh-token"]

    return scenario


def create_over_other_mode(d: Driver) -> None:
    """A new header-mode session clears the cookie-mode tokens the client still sent."""
    old = Session(d, "cookie")
    old.create()
    response = d.send(
        "create header with old cookies",
        "POST",
        "/create",
        headers={"st-auth-mode": "header"},
        cookies=[(ACCESS, old.access), (REFRESH, old.refresh_token)],
    )
    assert response.status_code == 200
    assert response.headers["st-access-token"]
    assert all("=;" in line for line in response.headers.get_list("set-cookie"))
    assert len(response.headers.get_list("set-cookie")) == 2


def verify(mode: str) -> Scenario:
    def scenario(d: Driver) -> None:
        s = Session(d, mode)
        s.create("alice")
        ok = s.call("GET", "/verify")
        assert ok.status_code == 200
        assert ok.json() == {"user": "alice"}
        assert "set-cookie" not in ok.headers
        assert "front-token" not in ok.headers
        assert s.call("GET", "/optional").json() == {"user": "alice"}

    return scenario


def no_session(d: Driver) -> None:
    response = d.send("verify without session", "GET", "/verify")
    assert response.status_code == 401
    assert response.json() == UNAUTHORISED
    assert "set-cookie" not in response.headers  # nothing to clear
    assert "front-token" not in response.headers
    optional = d.send("optional without session", "GET", "/optional")
    assert optional.status_code == 200
    assert optional.json() == {"user": None}


def claims(mode: str) -> Scenario:
    def scenario(d: Driver) -> None:
        s = Session(d, mode)
        s.create()
        denied = s.call("POST", "/like_comment")
        assert denied.status_code == 403
        assert denied.json() == INVALID_2FA
        done = s.call("POST", "/second-factor")
        assert done.status_code == 200
        assert _front_token_shape(done.headers["front-token"])["up"]["2fa-completed"]["v"] is True
        allowed = s.call("POST", "/like_comment")
        assert allowed.status_code == 200
        assert allowed.json() is None  # the view body is ``pass``

    return scenario


def refresh(mode: str) -> Scenario:
    def scenario(d: Driver) -> None:
        s = Session(d, mode)
        s.create()
        first_access = s.access
        d.stack.clock.advance(10)
        response = s.refresh()
        assert response.status_code == 200
        assert response.json() == {}
        assert response.headers["front-token"]
        assert s.access != first_access
        assert s.call("GET", "/verify").json() == {"user": "user-1"}

    return scenario


def refresh_without_token(d: Driver) -> None:
    response = d.send(
        "refresh, no tokens", "POST", "/auth/session/refresh", headers={"rid": "session"}
    )
    assert response.status_code == 401
    assert response.json() == UNAUTHORISED
    _cleared_both(response)
    s = Session(d, "cookie")
    s.create()
    only_access = d.send(
        "refresh, access cookie only",
        "POST",
        "/auth/session/refresh",
        headers={"rid": "session"},
        cookies=[(ACCESS, s.access)],
    )
    assert only_access.status_code == 401
    _cleared_both(only_access)


def theft(mode: str) -> Scenario:
    def scenario(d: Driver) -> None:
        s = Session(d, mode)
        s.create()
        first = s.refresh_token
        assert s.refresh().status_code == 200
        second = s.refresh_token
        # Within the grace period the old token still works and gets the same successor.
        d.stack.clock.advance(5)
        again = s.refresh(first, label="refresh with the old token, in grace")
        assert again.status_code == 200
        assert s.refresh_token == second
        d.stack.clock.advance(60)
        stolen = s.refresh(first, label="refresh with the old token, after grace")
        assert stolen.status_code == 401
        assert stolen.json() == THEFT
        _cleared_both(stolen)
        revoked = s.refresh(second, label="refresh with the newest token of a revoked session")
        assert revoked.status_code == 401
        assert revoked.json() == UNAUTHORISED

    return scenario


def signout(mode: str) -> Scenario:
    def scenario(d: Driver) -> None:
        s = Session(d, mode)
        s.create()
        refresh_token = s.refresh_token
        out = s.call("POST", "/auth/signout", label="signout")
        assert out.status_code == 200
        assert out.json() == {"status": "OK"}
        assert out.headers["front-token"] == "remove"
        after = s.refresh(refresh_token, label="refresh after signout")
        assert after.status_code == 401
        assert after.json() == UNAUTHORISED

    return scenario


def malformed(d: Driver) -> None:
    s = Session(d, "cookie")
    s.create()
    parts = s.access.split(".")
    flipped = "A" if parts[2][10] != "A" else "B"
    tampered = ".".join([parts[0], parts[1], parts[2][:10] + flipped + parts[2][11:]])
    cases: list[tuple[str, dict[str, Any], int, Any]] = [
        ("garbage access cookie", {"cookies": [(ACCESS, "garbage")]}, 401, UNAUTHORISED),
        ("empty access cookie", {"cookies": [(ACCESS, "")]}, 401, UNAUTHORISED),
        ("percent garbage cookie", {"cookies": [(ACCESS, "%ZZ%")]}, 401, UNAUTHORISED),
        ("quoted cookie", {"cookies": [(ACCESS, '"a.b.c"')]}, 401, UNAUTHORISED),
        ("tampered signature", {"cookies": [(ACCESS, tampered)]}, 401, TRY_REFRESH),
        (
            "two access cookies",
            {"cookies": [(ACCESS, s.access), (ACCESS, s.access)]},
            401,
            TRY_REFRESH,
        ),
        ("garbage bearer", {"headers": {"authorization": "Bearer garbage"}}, 401, UNAUTHORISED),
        ("bare bearer", {"headers": {"authorization": "Bearer"}}, 401, UNAUTHORISED),
        ("not bearer", {"headers": {"authorization": "Basic dXNlcjpwdw=="}}, 401, UNAUTHORISED),
        ("tampered bearer", {"headers": {"authorization": f"Bearer {tampered}"}}, 401, TRY_REFRESH),
        (
            "bearer with latin-1 bytes",
            {"headers": {"authorization": b"Bearer \xe9\xff"}},
            401,
            UNAUTHORISED,
        ),
        ("legacy id-refresh cookie", {"cookies": [("sIdRefreshToken", "x")]}, 401, TRY_REFRESH),
    ]
    for label, kwargs, status, body in cases:
        response = d.send(label, "GET", "/verify", **kwargs)
        assert (response.status_code, _body(response)) == (status, body), label
    garbage_refresh = d.send(
        "garbage refresh cookie",
        "POST",
        "/auth/session/refresh",
        headers={"rid": "session"},
        cookies=[(REFRESH, "garbage")],
    )
    assert garbage_refresh.status_code == 401
    _cleared_both(garbage_refresh)
    optional = d.send("optional with garbage", "GET", "/optional", cookies=[(ACCESS, "garbage")])
    assert optional.json() == {"user": None}
    with_body = d.send(
        "signout with a non-JSON body",
        "POST",
        "/auth/signout",
        headers={"content-type": "application/json"},
        cookies=[(ACCESS, s.access)],
        content=b"{not json",
    )
    assert with_body.status_code == 200
    d.stack.clock.advance(3601)
    expired = d.send("expired access token", "GET", "/verify", cookies=[(ACCESS, s.access)])
    assert expired.status_code == 401
    assert expired.json() == TRY_REFRESH


def anti_csrf_via_token(d: Driver) -> None:
    s = Session(d, "cookie")
    s.create()
    assert s.anti_csrf
    token = s.anti_csrf
    s.anti_csrf = None
    missing = s.call("POST", "/second-factor", label="POST without anti-csrf")
    assert missing.status_code == 401
    assert missing.json() == TRY_REFRESH
    s.anti_csrf = token
    assert s.call("POST", "/second-factor", label="POST with anti-csrf").status_code == 200
    assert s.call("GET", "/verify", label="GET").status_code == 200


def anti_csrf_via_custom_header(d: Driver) -> None:
    s = Session(d, "cookie")
    s.create()
    no_rid = d.send("POST without rid", "POST", "/second-factor", cookies=[(ACCESS, s.access)])
    assert no_rid.status_code == 401
    assert no_rid.json() == TRY_REFRESH
    refresh_no_rid = d.send(
        "refresh without rid", "POST", "/auth/session/refresh", cookies=[(REFRESH, s.refresh_token)]
    )
    assert refresh_no_rid.status_code == 401
    assert s.call("POST", "/second-factor", label="POST with rid").status_code == 200


def discovery(d: Driver) -> None:
    """JWKS and OpenID discovery: every stack starts from the same keys, so bodies are equal."""
    jwks = d.send("jwks", "GET", "/auth/jwt/jwks.json")
    assert jwks.status_code == 200
    assert [k["kid"][:2] for k in jwks.json()["keys"]] == ["d-"]
    assert jwks.headers["cache-control"].startswith("max-age=")
    openid = d.send("openid configuration", "GET", "/auth/.well-known/openid-configuration")
    assert openid.json()["jwks_uri"] == "http://127.0.0.1:8000/auth/jwt/jwks.json"
    trailing = d.send("jwks, trailing slash", "GET", "/auth/jwt/jwks.json/")
    assert trailing.status_code == 200


def view_fails_after_create(d: Driver) -> None:
    """An unhandled exception: the framework's 500, without the session's new tokens."""
    for mode in ("cookie", "header"):
        # uvicorn drops the connection after an app exception: don't keep it alive.
        response = d.http.post(
            "/create-then-fail", headers={"st-auth-mode": mode, "connection": "close"}
        )
        entry = transcript_entry(f"create then fail, {mode}", response, d.headers)
        # The 500's body and content type are each framework's own error page.
        entry.pop("body")
        entry["headers"].pop("content-type", None)
        d.transcript.append(entry)
        assert response.status_code == 500
        assert "set-cookie" not in response.headers
        assert "front-token" not in response.headers
        assert "st-access-token" not in response.headers


def _form(email: str, password: str) -> bytes:
    fields = [{"id": "email", "value": email}, {"id": "password", "value": password}]
    return json.dumps({"formFields": fields}).encode()


def auth_api_bodies(d: Driver) -> None:
    """Request bodies reach bastion's own API the same way through every adapter."""
    json_headers = {"content-type": "application/json", "rid": "emailpassword"}
    cookie_mode = json_headers | {"st-auth-mode": "cookie"}
    up = d.send(
        "sign up",
        "POST",
        "/auth/signup",
        headers=cookie_mode,
        content=_form("a@b.co", "pw-12345678"),
    )
    assert up.status_code == 200
    assert up.json()["status"] == "OK"
    assert len(up.headers.get_list("set-cookie")) == 2
    wrong = d.send(
        "sign in, wrong password",
        "POST",
        "/auth/signin",
        headers=cookie_mode,
        content=_form("a@b.co", "pw-wrong-123"),
    )
    assert wrong.json() == {"status": "WRONG_CREDENTIALS_ERROR"}
    header_mode = json_headers | {"st-auth-mode": "header"}
    signed_in = d.send(
        "sign in",
        "POST",
        "/auth/signin",
        headers=header_mode,
        content=_form("a@b.co", "pw-12345678"),
    )
    assert signed_in.json()["status"] == "OK"
    assert signed_in.headers["st-access-token"]
    field_error = d.send(
        "sign up, bad email", "POST", "/auth/signup", headers=json_headers, content=_form("x", "p")
    )
    assert field_error.json()["status"] == "FIELD_ERROR"
    for label, content in (
        ("not JSON", b"{not json"),
        ("not UTF-8", b"\xff\xfe{}"),
        ("a JSON list", b"[]"),
        ("too large", b'{"formFields": "' + b"x" * 70_000 + b'"}'),
    ):
        bad = d.send(
            f"sign in, {label}", "POST", "/auth/signin", headers=json_headers, content=content
        )
        assert bad.status_code == 400, label
        assert set(bad.json()) == {"message"}, label
    no_param = d.send("email exists, no param", "GET", "/auth/emailpassword/email/exists")
    assert no_param.status_code == 400
    exists = d.send("email exists", "GET", "/auth/emailpassword/email/exists?email=a%40b.co")
    assert exists.json() == {"status": "OK", "exists": True}


PREFLIGHT_HEADERS = {
    "origin": WEBSITE_DOMAIN,
    "access-control-request-method": "POST",
    "access-control-request-headers": (
        "content-type,rid,fdi-version,st-auth-mode,anti-csrf,authorization"
    ),
}


def cors(d: Driver) -> None:
    """Each framework's usual CORS middleware, configured alike, in front of bastion."""
    for path in ("/auth/session/refresh", "/auth/signout", "/create", "/verify"):
        pre = d.send(
            f"preflight {path}", "OPTIONS", path, headers=PREFLIGHT_HEADERS, preflight=True
        )
        assert pre.status_code == 200, path
        assert pre.headers["access-control-allow-origin"] == WEBSITE_DOMAIN
        assert pre.headers["access-control-allow-credentials"] == "true"
    # Another origin is refused by all, though not alike (Starlette: 400; the others: 200 with
    # no CORS headers); so only the refusal itself is compared.
    stranger = d.http.options(
        "/auth/session/refresh", headers=PREFLIGHT_HEADERS | {"origin": "http://evil.example"}
    )
    d.transcript.append(
        {
            "request": "preflight, other origin",
            "allowed": "access-control-allow-origin" in stranger.headers,
        }
    )
    assert "access-control-allow-origin" not in stranger.headers
    for mode in ("cookie", "header"):
        created = d.send(
            f"cross-origin create, {mode}",
            "POST",
            "/create",
            headers={"origin": WEBSITE_DOMAIN, "st-auth-mode": mode},
        )
        assert created.headers["access-control-allow-origin"] == WEBSITE_DOMAIN
        assert "front-token" in created.headers["access-control-expose-headers"]
    error = d.send(
        "cross-origin refresh, no token",
        "POST",
        "/auth/session/refresh",
        headers={"origin": WEBSITE_DOMAIN, "rid": "session"},
    )
    assert error.status_code == 401
    assert error.headers["access-control-allow-origin"] == WEBSITE_DOMAIN
    assert error.headers["access-control-expose-headers"] == (
        "front-token,st-access-token,st-refresh-token"
    )


SCENARIOS: dict[str, tuple[Scenario, dict[str, Any]]] = {
    "create-cookie": (create("cookie"), {}),
    "create-header": (create("header"), {}),
    "create-over-other-mode": (create_over_other_mode, {}),
    "verify-cookie": (verify("cookie"), {}),
    "verify-header": (verify("header"), {}),
    "no-session": (no_session, {}),
    "claims-cookie": (claims("cookie"), {}),
    "claims-header": (claims("header"), {}),
    "refresh-cookie": (refresh("cookie"), {}),
    "refresh-header": (refresh("header"), {}),
    "refresh-without-token": (refresh_without_token, {}),
    "theft-cookie": (theft("cookie"), {}),
    "theft-header": (theft("header"), {}),
    "signout-cookie": (signout("cookie"), {}),
    "signout-header": (signout("header"), {}),
    "malformed": (malformed, {}),
    "anti-csrf-via-token": (anti_csrf_via_token, {"anti_csrf": "VIA_TOKEN"}),
    "anti-csrf-via-custom-header": (
        anti_csrf_via_custom_header,
        {"anti_csrf": "VIA_CUSTOM_HEADER"},
    ),
    "discovery": (discovery, {}),
    "view-fails-after-create": (view_fails_after_create, {}),
    "auth-api-bodies": (auth_api_bodies, {"recipes": (emailpassword.init,)}),
    "cors": (cors, {"cors": True}),
}


def run(start_stack: StartStack, name: str, scenario: Scenario, **options: Any) -> list[Any]:
    options = dict(options)
    cors_enabled = options.pop("cors", False)
    stack = start_stack(name, cors=cors_enabled, **options)
    driver = Driver(stack, SESSION_HEADERS + (CORS_HEADERS if cors_enabled else []))
    try:
        scenario(driver)
    finally:
        driver.close()
    return driver.transcript


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_same_answers_on_every_framework(start_stack: StartStack, name: str) -> None:
    scenario, settings = SCENARIOS[name]
    transcripts = {fw: run(start_stack, fw, scenario, **settings) for fw in FRAMEWORKS}
    reference = transcripts["fastapi"]
    for framework in FRAMEWORKS[1:]:
        assert transcripts[framework] == reference, framework
