"""Refresh-token rotation, the grace period, theft detection and concurrent refreshes."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from bastion.bridge import run_sync
from bastion.clock import ManualClock
from bastion.runtime import current_app
from tests.client import SessionClient
from tests.databases import rows

MODES = ["cookie", "header"]


def session_count() -> int:
    return int(rows(current_app().store, "SELECT count(*) FROM sessions")[0][0])


@pytest.mark.parametrize("mode", MODES)
def test_refresh_rotates_and_old_token_dies_after_grace(
    server: Any, clock: ManualClock, mode: str
) -> None:
    with SessionClient(server.url, mode) as client:  # type: ignore[arg-type]
        client.post("/create")
        first_refresh = client.current_refresh_token()
        first_access = client.current_access_token()
        response = client.refresh()
        assert response.status_code == 200
        assert response.json() == {}
        assert response.headers["front-token"] != "remove"
        assert client.current_refresh_token() != first_refresh
        assert client.current_access_token() != first_access
        assert client.get("/verify").status_code == 200

        clock.advance(31)  # past the 30 s grace period
        with SessionClient(server.url, mode) as stolen:  # type: ignore[arg-type]
            stolen.use_tokens(refresh=first_refresh)
            theft = stolen.refresh()
        assert theft.status_code == 401
        assert theft.json() == {"message": "token theft detected"}
        assert theft.headers["front-token"] == "remove"
        cleared = theft.headers.get_list("set-cookie")
        assert any(c.startswith("sAccessToken=;") for c in cleared)
        assert any(c.startswith("sRefreshToken=;") for c in cleared)
        assert theft.headers["st-access-token"] == ""
        assert theft.headers["st-refresh-token"] == ""
        assert session_count() == 0

        # The legitimate client's newer tokens die with the session.
        assert client.refresh().status_code == 401
        assert client.get("/verify-db").status_code == 401


@pytest.mark.parametrize("mode", MODES)
def test_reuse_within_grace_returns_the_same_successor(
    server: Any, clock: ManualClock, mode: str
) -> None:
    with SessionClient(server.url, mode) as client:  # type: ignore[arg-type]
        client.post("/create")
        old_refresh = client.current_refresh_token()
        assert client.refresh().status_code == 200
        winner = client.current_refresh_token()

        clock.advance(29)
        # A retry with the previous token (lost response, second tab) gets the same new token.
        with SessionClient(server.url, mode) as retry:  # type: ignore[arg-type]
            retry.use_tokens(refresh=old_refresh)
            assert retry.refresh().status_code == 200
            assert retry.current_refresh_token() == winner
        assert session_count() == 1
        # ...and the one live chain continues.
        assert client.refresh().status_code == 200
        assert client.get("/verify").status_code == 200


def test_grandparent_token_is_theft_even_within_grace(server: Any) -> None:
    with SessionClient(server.url, "header") as client:
        client.post("/create")
        grandparent = client.refresh_token
        client.refresh()
        client.refresh()
        with SessionClient(server.url, "header") as attacker:
            attacker.use_tokens(refresh=grandparent)
            assert attacker.refresh().json() == {"message": "token theft detected"}
        assert client.refresh().status_code == 401


def test_forged_refresh_token_for_a_real_handle_does_not_revoke(server: Any) -> None:
    with SessionClient(server.url, "header") as client:
        client.post("/create")
        handle, secret, tag = (client.refresh_token or "").split(".")
        forged = f"{handle}.{secret[::-1]}.{tag}"
        response = httpx.post(
            server.url + "/auth/session/refresh",
            headers={
                "authorization": f"Bearer {forged}",
                "st-auth-mode": "header",
                "rid": "session",
            },
        )
        assert response.status_code == 401
        assert response.json() == {"message": "unauthorised"}
        assert session_count() == 1
        assert client.refresh().status_code == 200


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("parallel", [2, 5, 10])
def test_concurrent_refreshes_with_one_token_never_revoke(
    server: Any, mode: str, parallel: int
) -> None:
    for _round in range(5):
        with SessionClient(server.url, mode) as client:  # type: ignore[arg-type]
            client.post("/create")
            refresh_token = client.current_refresh_token()
            headers = {"st-auth-mode": mode, "rid": "session"}
            if mode == "header":
                headers["authorization"] = f"Bearer {refresh_token}"
            else:
                headers["cookie"] = f"sRefreshToken={refresh_token}"
            barrier = threading.Barrier(parallel)
            results: list[httpx.Response] = []

            def refresh(
                barrier: threading.Barrier = barrier,
                results: list[httpx.Response] = results,
                headers: dict[str, str] = headers,
            ) -> None:
                with httpx.Client(base_url=server.url) as http:
                    barrier.wait()
                    results.append(http.post("/auth/session/refresh", headers=headers))

            threads = [threading.Thread(target=refresh) for _ in range(parallel)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert [r.status_code for r in results] == [200] * parallel
            new_tokens = {
                r.headers.get("st-refresh-token")
                if mode == "header"
                else r.cookies.get("sRefreshToken")
                for r in results
            }
            assert len(new_tokens) == 1  # everyone got the same successor: one live chain
            with SessionClient(server.url, mode) as live:  # type: ignore[arg-type]
                live.use_tokens(refresh=next(iter(new_tokens)))
                assert live.refresh().status_code == 200
                assert live.get("/verify-db").status_code == 200


def test_refresh_without_tokens_clears_and_answers_unauthorised(server: Any) -> None:
    with httpx.Client(base_url=server.url) as http:
        response = http.post("/auth/session/refresh", headers={"rid": "session"})
        assert response.status_code == 401
        assert response.json() == {"message": "unauthorised"}
        assert response.headers["front-token"] == "remove"
        assert "front-token" in response.headers["access-control-expose-headers"]
        assert len(response.headers.get_list("set-cookie")) == 2


def test_refresh_extends_session_expiry(server: Any, clock: ManualClock) -> None:
    with SessionClient(server.url, "header") as client:
        handle = client.post("/create").json()["handle"]
        store = current_app().store
        before = run_sync(store.get_session(handle))
        clock.advance(3600)
        client.refresh()
        after = run_sync(store.get_session(handle))
        assert before is not None and after is not None
        assert after.expires_at_ms - before.expires_at_ms == 3600 * 1000


def test_session_expires_after_refresh_validity(configured_server: Any, clock: ManualClock) -> None:
    server = configured_server(access_token_validity=60, refresh_token_validity=600)
    with SessionClient(server.url, "header") as client:
        client.post("/create")
        clock.advance(601)
        response = client.refresh()
        assert (response.status_code, response.json()) == (401, {"message": "unauthorised"})
        assert response.headers["front-token"] == "remove"


def test_duplicate_cookies_without_older_domain_start_over(server: Any) -> None:
    with httpx.Client(base_url=server.url) as http:
        cookie = "sRefreshToken=a; sRefreshToken=b"
        response = http.post("/auth/session/refresh", headers={"cookie": cookie, "rid": "session"})
        assert (response.status_code, response.json()) == (401, {"message": "unauthorised"})
        assert response.headers["front-token"] == "remove"
        duplicate_access = http.get("/verify", headers={"cookie": "sAccessToken=a; sAccessToken=b"})
        assert (duplicate_access.status_code, duplicate_access.json()) == (
            401,
            {"message": "try refresh token"},
        )


def test_duplicate_cookies_with_older_domain_clear_the_old_ones(configured_server: Any) -> None:
    server = configured_server(cookie_domain=".example.com", older_cookie_domain="example.com")
    with httpx.Client(base_url=server.url) as http:
        cookie = "sRefreshToken=a; sRefreshToken=b"
        response = http.post("/auth/session/refresh", headers={"cookie": cookie, "rid": "session"})
        assert response.status_code == 200
        assert response.json()["message"].startswith(
            "The request contains multiple session cookies"
        )
        cleared = response.headers.get_list("set-cookie")
        assert len(cleared) == 2
        assert all("Domain=example.com" in c and "Expires=Thu, 01 Jan 1970" in c for c in cleared)


def test_refresh_cookie_expiry_slides_with_the_session(server: Any, clock: ManualClock) -> None:
    from email.utils import parsedate_to_datetime

    with SessionClient(server.url, "cookie") as client:
        client.post("/create")
        clock.advance(24 * 3600)
        response = client.refresh()
        line = next(c for c in response.headers.get_list("set-cookie") if c.startswith("sRefresh"))
        expires = parsedate_to_datetime(line.split("Expires=")[1].split(";")[0])
        assert int(expires.timestamp() * 1000) == (clock.now_ms() // 1000 + 100 * 24 * 3600) * 1000
