"""Revocation: sign-out, revoke functions, and ``check_database`` rejecting at once."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.bridge import run_sync
from bastion.recipe.session import syncio
from bastion.recipe.session.asyncio import revoke_all_sessions_for_user
from tests.client import SessionClient


@pytest.mark.parametrize("mode", ["cookie", "header"])
def test_signout_revokes_and_clears(server: Any, mode: str) -> None:
    with SessionClient(server.url, mode) as client:  # type: ignore[arg-type]
        client.post("/create")
        stale_access = client.current_access_token()
        response = client.post("/auth/signout")
        assert (response.status_code, response.json()) == (200, {"status": "OK"})
        assert response.headers["front-token"] == "remove"
        if mode == "cookie":
            assert sorted(c.split("=")[0] for c in response.headers.get_list("set-cookie")) == [
                "sAccessToken",
                "sRefreshToken",
            ]
        else:
            assert response.headers["st-access-token"] == ""
            assert response.headers["st-refresh-token"] == ""
        assert client.post("/auth/signout").status_code == 401
        # A copied access token verifies statelessly until it expires, but not with a DB check.
        with SessionClient(server.url, mode) as copy:  # type: ignore[arg-type]
            copy.use_tokens(access=stale_access)
            assert copy.get("/verify").status_code == 200
            revoked = copy.get("/verify-db")
            assert (revoked.status_code, revoked.json()) == (401, {"message": "unauthorised"})
            assert revoked.headers["front-token"] == "remove"


def test_signout_without_session_is_401_without_clearing(server: Any) -> None:
    with SessionClient(server.url, "cookie") as client:
        response = client.post("/auth/signout")
        assert (response.status_code, response.json()) == (401, {"message": "unauthorised"})
        assert "front-token" not in response.headers


def test_revoke_all_for_user_and_handles(server: Any) -> None:
    clients = [SessionClient(server.url, "header") for _ in range(3)]
    try:
        handles = [c.post("/create", json={"user": "alice"}).json()["handle"] for c in clients]
        other = clients[0].post("/create", json={"user": "bob"}).json()["handle"]
        assert sorted(syncio.get_all_session_handles_for_user("alice")) == sorted(handles)
        info = syncio.get_session_information(handles[0])
        assert info is not None and info.user_id == "alice"
        revoked = run_sync(revoke_all_sessions_for_user("alice"))
        assert sorted(revoked) == sorted(handles)
        assert syncio.get_all_session_handles_for_user("alice") == []
        assert syncio.get_session_information(handles[0]) is None
        assert syncio.get_session_information(other) is not None
        for client in clients[1:]:
            assert client.get("/verify-db").status_code == 401
            assert client.refresh().status_code == 401
    finally:
        for client in clients:
            client.close()


def test_revoke_session_from_the_session_object(server: Any) -> None:
    with SessionClient(server.url, "cookie") as client:
        client.post("/create")
        response = client.post("/revoke")
        assert response.status_code == 200
        assert response.headers["front-token"] == "remove"
        assert client.get("/verify").status_code == 401
