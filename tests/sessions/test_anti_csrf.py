"""Anti-CSRF modes (spec section 5): NONE, VIA_CUSTOM_HEADER and VIA_TOKEN."""

from __future__ import annotations

from typing import Any

import httpx

from tests.client import SessionClient

TRY_REFRESH = {"message": "try refresh token"}


def test_default_same_site_lax_means_no_anti_csrf(server: Any) -> None:
    with SessionClient(server.url, "cookie", rid=None) as client:
        client.post("/create")
        assert client.post("/verify").status_code == 200


def test_custom_header_mode_requires_rid_on_non_get(configured_server: Any) -> None:
    server = configured_server(anti_csrf="VIA_CUSTOM_HEADER")
    with SessionClient(server.url, "cookie", rid=None) as client:
        client.post("/create")
        assert client.get("/verify").status_code == 200  # GET is not checked
        denied = client.post("/verify")
        assert (denied.status_code, denied.json()) == (401, TRY_REFRESH)
        assert client.post("/verify", headers={"rid": "anything"}).status_code == 200
        assert client.post("/no-csrf-check").status_code == 200


def test_custom_header_refresh_without_rid_is_unauthorised(configured_server: Any) -> None:
    server = configured_server(anti_csrf="VIA_CUSTOM_HEADER")
    with SessionClient(server.url, "cookie") as client:
        client.post("/create")
        refresh = client.current_refresh_token()
        response = httpx.post(
            server.url + "/auth/session/refresh", headers={"cookie": f"sRefreshToken={refresh}"}
        )
        assert (response.status_code, response.json()) == (401, {"message": "unauthorised"})
        assert response.headers["front-token"] == "remove"


def test_header_mode_is_never_csrf_checked(configured_server: Any) -> None:
    server = configured_server(anti_csrf="VIA_CUSTOM_HEADER")
    with SessionClient(server.url, "header", rid=None) as client:
        client.post("/create")
        assert client.post("/verify").status_code == 200
        assert client.refresh().status_code == 200


def test_via_token_issues_and_checks_the_token(configured_server: Any) -> None:
    server = configured_server(anti_csrf="VIA_TOKEN")
    with SessionClient(server.url, "cookie") as client:
        created = client.post("/create")
        token = created.headers["anti-csrf"]
        assert "anti-csrf" in created.headers["access-control-expose-headers"]
        assert client.payload()["antiCsrfToken"] == token
        assert client.post("/verify").status_code == 200  # the client echoes it
        wrong = client.post("/verify", headers={"anti-csrf": "not-it"})
        assert (wrong.status_code, wrong.json()) == (401, TRY_REFRESH)
        client.anti_csrf = None
        missing = client.post("/verify")
        assert (missing.status_code, missing.json()) == (401, TRY_REFRESH)
        assert client.get("/verify").status_code == 200  # GETs are not checked
        # Refresh checks the value bound to the refresh token and issues a new one.
        bad = client.refresh(headers={"anti-csrf": "not-it"})
        assert bad.status_code == 401
        client.anti_csrf = token
        client.post("/create")  # the bad refresh cleared the session: start again
        token = client.anti_csrf
        refreshed = client.refresh()
        assert refreshed.status_code == 200
        assert refreshed.headers["anti-csrf"] != token
        assert client.post("/verify").status_code == 200


def test_via_token_is_not_used_in_header_mode(configured_server: Any) -> None:
    server = configured_server(anti_csrf="VIA_TOKEN")
    with SessionClient(server.url, "header") as client:
        created = client.post("/create")
        assert "anti-csrf" not in created.headers
        assert client.payload()["antiCsrfToken"] is None
        assert client.post("/verify").status_code == 200
