"""Signing keys: created, published, rotated and retired on schedule; JWKS and discovery."""

from __future__ import annotations

import json
from typing import Any

import httpx

from bastion.bridge import run_sync
from bastion.clock import ManualClock
from bastion.core.keys import PUBLISH_AHEAD_MS, SigningKey, plan_rotation
from bastion.runtime import current_app
from tests.client import SessionClient
from tests.databases import rows

DAY_MS = 24 * 3600 * 1000
WEEK_MS = 7 * DAY_MS


def kid_of(token: str) -> str:
    import base64

    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


def test_jwks_and_openid_configuration(server: Any, clock: ManualClock) -> None:
    with httpx.Client(base_url=server.url) as http:
        jwks = http.get("/auth/jwt/jwks.json")
        assert jwks.status_code == 200
        keys = jwks.json()["keys"]
        assert [k["kid"] for k in keys] == [f"d-{clock.now_ms()}"]
        assert set(keys[0]) == {"kty", "kid", "n", "e", "alg", "use"}
        assert (keys[0]["kty"], keys[0]["alg"], keys[0]["use"], keys[0]["e"]) == (
            "RSA",
            "RS256",
            "sig",
            "AQAB",
        )
        expected_max_age = (WEEK_MS - PUBLISH_AHEAD_MS) // 1000
        assert jwks.headers["cache-control"] == f"max-age={expected_max_age}, must-revalidate"
        assert jwks.headers["access-control-allow-origin"] == "*"
        discovery = http.get("/auth/.well-known/openid-configuration").json()
        assert discovery["issuer"] == "http://127.0.0.1:8000/auth"
        assert discovery["jwks_uri"] == "http://127.0.0.1:8000/auth/jwt/jwks.json"


def test_rotation_publishes_ahead_and_old_tokens_verify_until_retired(
    server: Any, clock: ManualClock
) -> None:
    with SessionClient(server.url, "header") as client:
        client.post("/create")
        first_kid = kid_of(client.access_token or "")
        clock.advance(ms=WEEK_MS - PUBLISH_AHEAD_MS)
        client.refresh()  # signing now creates the successor, but still signs with the old key
        assert kid_of(client.access_token or "") == first_kid
        old_token = client.access_token
        kids = [k["kid"] for k in httpx.get(server.url + "/auth/jwt/jwks.json").json()["keys"]]
        assert kids == [first_kid, f"d-{int(first_kid[2:]) + WEEK_MS}"]
        clock.advance(ms=PUBLISH_AHEAD_MS)
        client.refresh()
        assert kid_of(client.access_token or "") == kids[1]
        # A token from the old key still verifies after the switch...
        with SessionClient(server.url, "header") as copy:
            copy.use_tokens(access=old_token)
            assert copy.get("/verify").status_code == 200
        # ...and the old key is dropped after interval + 2 x access validity.
        clock.advance(ms=2 * 3600 * 1000 + 1)
        client.refresh()
        kids_after = [
            k["kid"] for k in httpx.get(server.url + "/auth/jwt/jwks.json").json()["keys"]
        ]
        assert first_kid not in kids_after


def test_rotation_plan_is_pure_and_settles_on_one_successor() -> None:
    key = SigningKey("d-0", b"", 0, WEEK_MS, WEEK_MS + 2 * 3600_000)
    assert plan_rotation([key], dynamic=True, now_ms=1).create_from_ms is None
    plan = plan_rotation([key], dynamic=True, now_ms=WEEK_MS - PUBLISH_AHEAD_MS)
    assert plan.signing == key and plan.create_from_ms == WEEK_MS
    successor = SigningKey(f"d-{WEEK_MS}", b"", WEEK_MS, 2 * WEEK_MS, 2 * WEEK_MS + 7200_000)
    assert plan_rotation([key, successor], dynamic=True, now_ms=WEEK_MS - 1).create_from_ms is None
    assert plan_rotation([key, successor], dynamic=True, now_ms=WEEK_MS).signing == successor
    assert plan_rotation([], dynamic=False, now_ms=5).create_from_ms == 5
    late = plan_rotation([key], dynamic=True, now_ms=10 * WEEK_MS)
    assert late.signing is None and late.create_from_ms == 10 * WEEK_MS and late.expired == ("d-0",)
    # The slot names the key to make the same way on every process, whatever its clock says.
    assert plan.create_slot == str(WEEK_MS)
    assert late.create_slot == plan_rotation([key], dynamic=True, now_ms=11 * WEEK_MS).create_slot
    assert late.create_slot == "after:d-0"
    assert plan_rotation([], dynamic=True, now_ms=5).create_slot == "first"
    assert plan_rotation([], dynamic=False, now_ms=5).create_slot == "static"


def test_two_processes_rotating_at_once_agree_on_the_key(init_app: Any, clock: ManualClock) -> None:
    from bastion.sessions.keyring import KeyRing

    app = init_app()
    store = app.store
    rings = [
        KeyRing(store, clock, dynamic=True, interval_s=WEEK_MS // 1000, access_validity_s=3600)
        for _ in range(2)
    ]
    clock.advance(ms=WEEK_MS + 1)  # the first key no longer signs
    keys = [run_sync(ring.signing_key()) for ring in rings]
    assert keys[0].kid == keys[1].kid
    assert len(run_sync(store.list_signing_keys())) == 2
    assert current_app() is app


def test_processes_whose_clocks_differ_still_make_one_key(databases: Any) -> None:
    """Both find no signing key (a fresh database) at slightly different times: the one that
    stores second signs with the first one's key, although it starts 3 ms later on its clock."""
    from bastion.sessions.keyring import KeyRing
    from bastion.storage import open_store

    store = open_store(databases.fresh())
    start = 1_900_000_000_000
    rings = [
        KeyRing(
            store, ManualClock(at), dynamic=True, interval_s=WEEK_MS // 1000, access_validity_s=3600
        )
        for at in (start + 3, start)
    ]
    keys = [run_sync(ring.signing_key()) for ring in rings]
    assert keys[0].kid == keys[1].kid == f"d-{start + 3}"
    assert [k.kid for k in run_sync(store.list_signing_keys())] == [f"d-{start + 3}"]
    store.close()


def test_private_keys_are_sealed_at_rest_with_encryption_keys(init_app: Any, serve: Any) -> None:
    import pytest

    from bastion.core.crypto import generate_key
    from bastion.errors import ConfigError
    from tests.apps import session_app

    key = generate_key()
    app = init_app(app_options={"encryption_keys": [key]})
    server = serve(session_app.build())
    with SessionClient(server.url, "header") as client:
        client.post("/create")
        stored = [row[0] for row in rows(app.store, "SELECT private_pem FROM signing_keys")]
        assert stored
        assert all(bytes(p).startswith(b"bx1.") and b"PRIVATE KEY" not in bytes(p) for p in stored)
        assert client.get("/verify").status_code == 200
        # Without the key the app refuses to start rather than mint with a key it cannot read.
        with pytest.raises(ConfigError, match="encrypted"):
            init_app()
        init_app(app_options={"encryption_keys": [generate_key(), key]})  # rotated ring
        assert client.get("/verify").status_code == 200
        assert client.refresh().status_code == 200


def test_signing_keys_follow_encryption_key_rotation(init_app: Any) -> None:
    from bastion.core.crypto import SecretBox, generate_key

    old, new = generate_key(), generate_key()
    init_app()  # keys created before any encryption key: stored plain
    init_app(app_options={"encryption_keys": [old]})  # sealed at start-up
    app = init_app(app_options={"encryption_keys": [new, old]})  # re-sealed under the new key
    stored = [bytes(r[0]).decode() for r in rows(app.store, "SELECT private_pem FROM signing_keys")]
    assert stored
    assert not any(SecretBox([new]).needs_reseal(s) for s in stored)
    init_app(app_options={"encryption_keys": [new]})  # the old key can go
