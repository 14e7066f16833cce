"""The seed's FastAPI example, end to end over real HTTP, in cookie and header mode."""

from __future__ import annotations

import pytest

from tests.apps import seed_fastapi
from tests.client import SessionClient

INVALID_2FA = {
    "message": "invalid claim",
    "claimValidationErrors": [
        {
            "id": "2fa-completed",
            "reason": {"message": "wrong value", "expectedValue": True, "actualValue": False},
        }
    ],
}

MODES = ["cookie", "header"]


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_per_route_validator_blocks_until_second_factor(init_app, serve, mode) -> None:
    init_app(use_clock=False)
    server = serve(seed_fastapi.per_route_app())
    with SessionClient(server.url, mode) as client:  # type: ignore[arg-type]
        assert client.post("/first-factor").status_code == 200
        if mode == "header":
            assert client.access_token and client.refresh_token
        else:
            assert client.http.cookies.get("sAccessToken")

        denied = client.post("/like_comment")
        assert denied.status_code == 403
        assert denied.json() == INVALID_2FA

        # Routes without the validator work with the first factor alone.
        assert client.get("/no-2fa-needed").json() == {"user": "user-1"}

        assert client.post("/second-factor").status_code == 200
        assert client.payload()["2fa-completed"]["v"] is True

        allowed = client.post("/like_comment")
        assert allowed.status_code == 200


def test_global_validator_applies_to_every_plain_verify_session(init_app, serve, mode) -> None:
    init_app(recipe_list=[seed_fastapi.session_recipe], use_clock=False)
    server = serve(seed_fastapi.global_app())
    with SessionClient(server.url, mode) as client:  # type: ignore[arg-type]
        client.post("/first-factor")
        for method, path in (("POST", "/like_comment"), ("GET", "/profile")):
            denied = client.request(method, path)
            assert denied.status_code == 403, path
            assert denied.json() == INVALID_2FA

        assert client.post("/second-factor").status_code == 200
        assert client.post("/like_comment").status_code == 200
        assert client.get("/profile").json() == {"user": "user-1"}


def test_claim_survives_refresh(init_app, serve, mode) -> None:
    init_app(use_clock=False)
    server = serve(seed_fastapi.per_route_app())
    with SessionClient(server.url, mode) as client:  # type: ignore[arg-type]
        client.post("/first-factor")
        client.post("/second-factor")
        assert client.refresh().status_code == 200
        assert client.payload()["2fa-completed"]["v"] is True
        assert client.post("/like_comment").status_code == 200


def test_no_session_is_401_not_403(init_app, serve, mode) -> None:
    init_app(use_clock=False)
    server = serve(seed_fastapi.per_route_app())
    with SessionClient(server.url, mode) as client:  # type: ignore[arg-type]
        response = client.post("/like_comment")
        assert response.status_code == 401
        assert response.json() == {"message": "unauthorised"}
