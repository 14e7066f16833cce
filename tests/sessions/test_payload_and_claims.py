"""Payload updates, session data and claim refetching, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.bridge import run_sync
from bastion.clock import ManualClock
from bastion.recipe.session import asyncio as session_api
from tests.apps.session_app import SecondFactorClaim
from tests.client import SessionClient


@pytest.mark.parametrize("mode", ["cookie", "header"])
def test_merge_reissues_token_and_keeps_protected_fields(server: Any, mode: str) -> None:
    with SessionClient(server.url, mode) as client:  # type: ignore[arg-type]
        client.post("/create", json={"payload": {"role": "admin", "sub": "hijack", "exp": 1}})
        first = client.payload()
        assert first["role"] == "admin"
        assert first["sub"] == "user-1"  # protected fields in user payloads are dropped
        assert first["iss"] == "http://127.0.0.1:8000/auth"
        response = client.post("/merge", json={"update": {"plan": "pro", "role": None}})
        assert response.status_code == 200
        updated = client.payload()
        assert updated["plan"] == "pro" and "role" not in updated
        assert updated["exp"] == first["exp"]  # same expiry, new payload
        assert updated["sessionHandle"] == first["sessionHandle"]
        assert client.get("/verify").status_code == 200
        # The stored payload is what the next refresh carries.
        client.refresh()
        assert client.payload()["plan"] == "pro"


def test_front_token_layout(server: Any) -> None:
    with SessionClient(server.url, "header") as client:
        client.post("/create")
        import base64
        import json

        front = json.loads(base64.b64decode(client.front_token or ""))
        assert list(front) == ["ate", "uid", "up"]
        assert front["uid"] == "user-1"
        assert front["ate"] == front["up"]["exp"] * 1000
        for field in (
            "sub",
            "exp",
            "iat",
            "tId",
            "rsub",
            "sessionHandle",
            "refreshTokenHash1",
            "parentRefreshTokenHash1",
            "antiCsrfToken",
            "iss",
        ):
            assert field in front["up"]


def test_session_data_in_database(server: Any) -> None:
    with SessionClient(server.url, "header") as client:
        handle = client.post("/create", json={"data": {"cart": 1}}).json()["handle"]
        info = run_sync(session_api.get_session_information(handle))
        assert info is not None and info.session_data_in_database == {"cart": 1}
        response = client.post("/data", json={"value": {"cart": 2}})
        assert response.json() == {"cart": 2}
        assert run_sync(session_api.update_session_data_in_database(handle, {"x": 1})) is True
        assert run_sync(session_api.update_session_data_in_database("nope", {"x": 1})) is False


def test_refetched_claim_goes_out_on_success_but_not_on_403(server: Any) -> None:
    with SessionClient(server.url, "cookie") as client:
        client.post("/create")
        assert "2fa-completed" not in client.payload()
        denied = client.post("/2fa")
        assert denied.status_code == 403
        assert "front-token" not in denied.headers  # as the protocol: 403 carries no new token
        # ...but the refetched value was stored: the next refresh carries it.
        client.refresh()
        assert client.payload()["2fa-completed"]["v"] is False
        client.post("/set-2fa")
        assert client.post("/2fa").status_code == 200


def test_handle_based_claim_functions(server: Any, clock: ManualClock) -> None:
    with SessionClient(server.url, "header") as client:
        handle = client.post("/create").json()["handle"]
        assert run_sync(session_api.set_claim_value(handle, SecondFactorClaim, True)) is True
        value = run_sync(session_api.get_claim_value(handle, SecondFactorClaim))
        assert getattr(value, "value", None) is True
        result = run_sync(
            session_api.validate_claims_for_session_handle(
                handle, lambda g, s, u: [SecondFactorClaim.validators.is_true()]
            )
        )
        assert getattr(result, "invalid_claims", None) == []
        assert run_sync(session_api.remove_claim(handle, SecondFactorClaim)) is True
        result = run_sync(
            session_api.validate_claims_for_session_handle(
                handle, lambda g, s, u: [SecondFactorClaim.validators.is_true()]
            )
        )
        errors = getattr(result, "invalid_claims", None)
        assert errors is not None and errors[0].reason["actualValue"] is False
        # Live tokens pick up DB-only changes at their next refresh.
        client.refresh()
        assert client.payload()["2fa-completed"]["v"] is False
        missing = run_sync(session_api.get_claim_value("no-such-handle", SecondFactorClaim))
        assert getattr(missing, "status", None) == "SESSION_DOES_NOT_EXIST_ERROR"
