"""Every /auth endpoint is rate limited per client address (``api_requests_per_minute``)."""

from __future__ import annotations

from typing import Any

import httpx

from bastion.clock import ManualClock
from tests.apps import session_app


def test_each_endpoint_has_its_own_per_client_budget(
    init_app: Any, serve: Any, clock: ManualClock
) -> None:
    init_app(app_options={"api_requests_per_minute": 5})
    server = serve(session_app.build())
    with httpx.Client(base_url=server.url) as http:
        statuses = [http.post("/auth/session/refresh").status_code for _ in range(6)]
        assert statuses == [401] * 5 + [429]
        refused = http.post("/auth/session/refresh")
        assert refused.json() == {"message": "Too many attempts. Please try again later."}
        assert refused.headers["retry-after"] == "60"
        # Another endpoint counts separately; app routes are not limited.
        assert http.get("/auth/jwt/jwks.json").status_code == 200
        assert all(http.get("/verify").status_code == 401 for _ in range(10))
        clock.advance(60)
        assert http.post("/auth/session/refresh").status_code == 401


def test_the_limit_can_be_switched_off(init_app: Any, serve: Any) -> None:
    init_app(app_options={"api_requests_per_minute": None})
    server = serve(session_app.build())
    with httpx.Client(base_url=server.url) as http:
        assert {http.get("/auth/jwt/jwks.json").status_code for _ in range(400)} == {200}
