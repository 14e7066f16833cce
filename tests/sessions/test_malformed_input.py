"""Malformed cookies, headers, tokens and bodies: a clear 4xx, never a 500, nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bastion.runtime import current_app
from tests.databases import rows, table_names


def table_counts() -> dict[str, int]:
    """Rows per table, except the per-client request counters (counting requests is the point)."""
    store = current_app().store
    tables = [t for t in table_names(store) if t != "rate_counters"]
    return {t: rows(store, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


HOSTILE_HEADERS: list[dict[str, str]] = [
    {"authorization": "Bearer"},
    {"authorization": "Basic dXNlcjpwYXNz"},
    {"authorization": "Bearer " + "A" * 20000},
    {"authorization": "Bearer a.b.c"},
    {"authorization": "Bearer ....."},
    {"authorization": "Bearer \u00e9\u00e9.\u00e9.\u00e9"},
    {"cookie": "sAccessToken="},
    {"cookie": "sAccessToken"},
    {"cookie": "sAccessToken=%ZZ%"},
    {"cookie": 'sAccessToken="quoted"'},
    {"cookie": "sAccessToken=a; sAccessToken=b"},
    {"cookie": "; ;;=; sAccessToken=x.y.z"},
    {"cookie": "sAccessToken=" + "x" * 15000},
    {"cookie": "; ".join(f"c{i}=v" for i in range(100))},
    {"cookie": "sIdRefreshToken=legacy"},
    {"st-auth-mode": "\u2603"},
    {"anti-csrf": "x" * 5000, "rid": "x" * 5000},
]


@pytest.mark.parametrize("headers", HOSTILE_HEADERS)
def test_hostile_request_headers(server: Any, headers: dict[str, str]) -> None:
    before = table_counts()
    with httpx.Client(base_url=server.url) as http:
        for method, path in (
            ("GET", "/verify"),
            ("POST", "/optional"),
            ("POST", "/auth/session/refresh"),
            ("POST", "/auth/signout"),
        ):
            raw = {k: v.encode("utf-8") for k, v in headers.items()}
            response = http.request(method, path, headers=raw)
            assert 200 <= response.status_code < 500, (method, path, response.text)
            assert response.headers["content-type"].startswith("application/json")
    assert table_counts() == before


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b"null", b'{"a":' * 5000 + b"1" + b"}" * 5000, b"\xff\xfe", b"x" * (70 * 1024)],
    ids=["truncated", "array", "null", "deep", "invalid-utf8", "too-large"],
)
def test_bodies_on_auth_routes_are_read_and_ignored_or_refused(server: Any, body: bytes) -> None:
    before = table_counts()
    with httpx.Client(base_url=server.url) as http:
        for path in ("/auth/session/refresh", "/auth/signout"):
            response = http.post(path, content=body, headers={"content-type": "application/json"})
            assert response.status_code in (400, 401), response.text
            # The connection stays usable: the body was consumed.
            assert http.get("/auth/jwt/jwks.json").status_code == 200
    assert table_counts() == before


def test_unknown_auth_routes_fall_through_to_the_app(server: Any) -> None:
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/auth/nope").status_code == 404
        assert http.get("/auth/session/refresh").status_code == 404  # only POST is ours
        assert http.post("/auth/session/refresh/").status_code == 401  # trailing slash tolerated


def test_non_ascii_bytes_inside_a_token_are_refused_not_a_crash(server: Any) -> None:
    with httpx.Client(base_url=server.url) as http:
        token = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        head, body, signature = token.split(".")
        forged = f"{head}.\u00e9{body}.{signature}".encode("latin-1")
        for headers in (
            {"authorization": b"Bearer " + forged},
            {"cookie": b"sAccessToken=" + forged},
        ):
            response = http.get("/verify", headers=headers)
            assert (response.status_code, response.json()) == (401, {"message": "unauthorised"})


def test_lone_surrogates_in_json_bodies_are_bad_input() -> None:
    """JSON can spell a lone surrogate; no text store can hold one, so it is a 400 at once."""
    from bastion.bridge import run_sync
    from bastion.errors import BadInputError
    from bastion.http.types import BaseRequest

    class Body(BaseRequest):
        def __init__(self, raw: bytes) -> None:
            self.raw = raw

        def method(self) -> str:
            return "POST"

        def path(self) -> str:
            return "/"

        def get_header(self, name: str) -> str | None:
            return None

        def get_query_param(self, name: str) -> str | None:
            return None

        async def body_bytes(self) -> bytes:
            return self.raw

    with pytest.raises(BadInputError):
        run_sync(Body(b'{"email": "\\ud800@x.com"}').json_body())
    assert run_sync(Body(b'{"email": "\\u00e9@x.com"}').json_body()) == {"email": "\u00e9@x.com"}


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE"])
def test_preflight_methods_never_reach_a_protected_view(server: Any, method: str) -> None:
    with httpx.Client(base_url=server.url) as http:
        response = http.request(method, "/verify-any")
        assert (response.status_code, response.json()) == (401, {"message": "unauthorised"})
        optional = http.request(method, "/optional-any")
        assert (optional.status_code, optional.json()) == (200, {"user": None})
