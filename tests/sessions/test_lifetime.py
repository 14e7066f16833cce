"""How long a session lives: the idle limit (``refresh_token_validity``) and the absolute one
(``session_max_age``), alone and as the AAL2 preset (NIST SP 800-63B rev 3, 4.2.3)."""

from __future__ import annotations

import json
from base64 import b64decode
from typing import Any

import pytest

from bastion.clock import ManualClock
from bastion.errors import ConfigError
from bastion.recipe import session
from tests.client import SessionClient

HOUR = 3600
UNAUTHORISED = {"message": "unauthorised"}


def _created(server: Any) -> SessionClient:
    client = SessionClient(server.url, "header")
    assert client.post("/create").status_code == 200
    return client


def _front_exp_ms(client: SessionClient) -> int:
    assert client.front_token is not None
    return int(json.loads(b64decode(client.front_token))["ate"])


def test_a_session_refreshed_every_20_minutes_ends_at_its_max_age(
    configured_server: Any, clock: ManualClock
) -> None:
    server = configured_server(session_max_age=12 * HOUR)
    start = clock.now_ms()
    with _created(server) as client:
        for _ in range(12 * 3 - 1):  # 11 h 40 min of refreshes every 20 minutes
            clock.advance(20 * 60)
            assert client.refresh().status_code == 200
            # No access token outlives the session: the last ones are cut short.
            assert _front_exp_ms(client) <= start + 12 * HOUR * 1000
        clock.advance(20 * 60 - 1)
        assert client.get("/verify").status_code == 200
        assert client.refresh().status_code == 200
        assert _front_exp_ms(client) == start + 12 * HOUR * 1000
        clock.advance(1)  # 12 h after sign-in
        assert client.get("/verify").status_code == 401  # the access token ends with it
        refused = client.refresh()
        assert (refused.status_code, refused.json()) == (401, UNAUTHORISED)
        assert refused.headers["front-token"] == "remove"
    with _created(server) as again:  # signing in again starts a new session
        assert again.get("/verify-db").status_code == 200


def test_without_max_age_refreshing_keeps_a_session_forever(
    configured_server: Any, clock: ManualClock
) -> None:
    server = configured_server()
    with _created(server) as client:
        for _ in range(3):
            clock.advance(40 * 24 * HOUR)  # within the 100-day idle limit each time
            assert client.refresh().status_code == 200
        assert client.get("/verify-db").status_code == 200


def test_the_aal2_preset(configured_server: Any, clock: ManualClock) -> None:
    assert dict(session.AAL2) == {
        "session_max_age": 12 * HOUR,
        "refresh_token_validity": 30 * 60,
        "access_token_validity": 15 * 60,
    }
    server = configured_server(**session.AAL2)
    with _created(server) as idle:
        clock.advance(30 * 60 - 1)  # 29:59 without a refresh
        assert idle.refresh().status_code == 200
        clock.advance(30 * 60 + 1)  # 30:01
        assert idle.refresh().status_code == 401
    start = clock.now_ms()
    with _created(server) as active:
        while clock.now_ms() + 14 * 60 * 1000 < start + 12 * HOUR * 1000:
            clock.advance(14 * 60)
            assert active.refresh().status_code == 200
        clock.advance((start + 12 * HOUR * 1000 - clock.now_ms()) // 1000)
        assert active.refresh().status_code == 401  # active all along, but 12 h are over


def test_a_too_short_max_age_is_refused(init_app: Any) -> None:
    with pytest.raises(ConfigError, match="session_max_age"):
        init_app(session_max_age=30)
